package drill

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Phase names one step of a failover as the drill observes it. Event phases
// carry the sentinel event's name.
type Phase string

// The phases, in the order they normally happen.
const (
	// Trigger phases: time zero of a run.
	PhaseKill     Phase = "kill"
	PhasePause    Phase = "pause"
	PhaseFailover Phase = "failover-command"

	PhaseSDown     Phase = "+sdown"
	PhaseODown     Phase = "+odown"
	PhaseElected   Phase = "+elected-leader"
	PhasePromoted  Phase = "+promoted-slave"
	PhaseSwitch    Phase = "+switch-master"
	PhaseWrite     Phase = "first-write"
	PhaseRepointed Phase = "replicas-repointed"
	PhaseRestarted Phase = "old-master-restarted"
	PhaseRejoined  Phase = "old-master-rejoined"
)

// phaseOrder ranks phases for display and summaries.
var phaseOrder = []Phase{
	PhaseKill, PhasePause, PhaseFailover,
	PhaseSDown, PhaseODown, PhaseElected, PhasePromoted, PhaseSwitch,
	PhaseWrite, PhaseRepointed, PhaseRestarted, PhaseRejoined,
}

// The phases a complete run of each kind shows.
var (
	LocalPhases = []Phase{PhaseKill, PhaseSDown, PhaseODown, PhaseElected, PhasePromoted,
		PhaseSwitch, PhaseWrite, PhaseRepointed, PhaseRestarted, PhaseRejoined}
	PausePhases = []Phase{PhasePause, PhaseSDown, PhaseODown, PhaseElected, PhasePromoted,
		PhaseSwitch, PhaseRepointed, PhaseRejoined}
	SwitchoverPhases = []Phase{PhaseFailover, PhaseElected, PhasePromoted, PhaseSwitch,
		PhaseRepointed, PhaseRejoined}
)

// causes lists, per phase, the phases that must precede it when both were
// observed.
var causes = map[Phase][]Phase{
	PhaseODown:     {PhaseSDown},
	PhaseElected:   {PhaseODown},
	PhasePromoted:  {PhaseElected},
	PhaseSwitch:    {PhasePromoted},
	PhaseWrite:     {PhasePromoted},
	PhaseRepointed: {PhasePromoted},
	PhaseRestarted: {PhaseSwitch, PhaseRepointed, PhaseWrite},
	PhaseRejoined:  {PhaseSwitch, PhaseRestarted},
}

// orderSlack absorbs the receive-time jitter between events read on
// different sentinel connections: a leader's +promoted-slave and a peer's
// +switch-master caused by it can be stamped a few µs out of order.
const orderSlack = 10 * time.Millisecond

// ErrIncomplete is wrapped by Check when a run misses a phase or shows two
// out of order.
var ErrIncomplete = errors.New("incomplete drill")

// ErrTwoLeaders is wrapped when two sentinels announced +elected-leader in
// the same epoch: two failovers of one master could both promote.
var ErrTwoLeaders = errors.New("two leaders in one epoch")

// PhaseTime is one observed phase: MS since the trigger, and what was seen.
type PhaseTime struct {
	Phase  Phase  `json:"phase"`
	MS     int64  `json:"ms"`
	Detail string `json:"detail,omitempty"`
}

// WriteStats counts the writes of a sandbox drill started after the kill.
type WriteStats struct {
	OK     int `json:"ok"`
	Failed int `json:"failed"`
}

// Result is one drill run.
type Result struct {
	// Sentinel is the sentinel command template (sandbox) or the address
	// the live drill started from.
	Sentinel   string      `json:"sentinel"`
	Mode       string      `json:"mode"`
	MasterName string      `json:"master_name"`
	OldMaster  string      `json:"old_master"`
	NewMaster  string      `json:"new_master,omitempty"`
	Start      time.Time   `json:"start"`
	Phases     []PhaseTime `json:"phases"`
	Writes     *WriteStats `json:"writes,omitempty"`
	// Notes are notable events that are not phases (aborted failovers…).
	Notes []string `json:"notes,omitempty"`
	// Elections are the epochs in which some sentinel announced
	// +elected-leader, in order of the first announcement.
	Elections []Election `json:"elections,omitempty"`
	// Dump is every sentinel's events and log tail, kept when the run
	// failed so that the failure explains itself.
	Dump []string `json:"dump,omitempty"`
}

// Election is one epoch and the sentinels that announced +elected-leader in
// it; more than one is a broken invariant.
type Election struct {
	Epoch   uint64   `json:"epoch"`
	Leaders []string `json:"leaders"`
}

// TwoLeaders counts the epochs of r with more than one leader.
func (r *Result) TwoLeaders() int {
	n := 0
	for _, e := range r.Elections {
		if e.Epoch > 0 && len(e.Leaders) > 1 {
			n++
		}
	}
	return n
}

// electionsLine says who led which epoch, for the timeline.
func (r *Result) electionsLine() string {
	var parts []string
	for _, e := range r.Elections {
		epoch := "unknown epoch"
		if e.Epoch > 0 {
			epoch = "epoch " + strconv.FormatUint(e.Epoch, 10)
		}
		parts = append(parts, epoch+": "+strings.Join(e.Leaders, ", "))
	}
	verdict := "at most one leader per epoch"
	if n := r.TwoLeaders(); n > 0 {
		verdict = fmt.Sprintf("%d epoch(s) with two leaders", n)
	}
	if len(parts) == 0 {
		return "leaders: none announced"
	}
	return fmt.Sprintf("leaders: %s (%s)", strings.Join(parts, "; "), verdict)
}

// leaderCheck follows every sentinel's election events to hold "at most one
// +elected-leader per epoch". +elected-leader carries no epoch (its text is
// Redis'), so a leader's epoch is that of its candidacy: a sentinel that
// stands publishes +new-epoch <epoch> and then +try-failover, in this order
// on its one connection, and is elected in that epoch or not at all.
type leaderCheck struct {
	lastEpoch map[string]uint64 // per sentinel: its last +new-epoch
	standing  map[string]uint64 // per sentinel: the epoch it last stood in
}

// observe feeds one observation; for a sentinel's +elected-leader it
// records the leader in res and returns an error wrapping ErrTwoLeaders
// when another sentinel already led that epoch. The zero leaderCheck is
// ready to use.
func (c *leaderCheck) observe(res *Result, o observation) error {
	sentinel := o.sentinel
	if sentinel == "" {
		return nil // a poller's phase
	}
	if c.lastEpoch == nil {
		c.lastEpoch, c.standing = map[string]uint64{}, map[string]uint64{}
	}
	switch {
	case o.newEpoch > 0:
		c.lastEpoch[sentinel] = o.newEpoch
	case o.tryFailover:
		c.standing[sentinel] = c.lastEpoch[sentinel]
	case o.phase == PhaseElected:
		// 0 (no +try-failover seen first) is kept as an unknown epoch: it
		// counts as a leader of no real epoch, since epochs start at 1.
		epoch := c.standing[sentinel]
		i := slices.IndexFunc(res.Elections, func(e Election) bool { return e.Epoch == epoch })
		if i < 0 {
			res.Elections = append(res.Elections, Election{Epoch: epoch})
			i = len(res.Elections) - 1
		}
		e := &res.Elections[i]
		if slices.Contains(e.Leaders, sentinel) {
			return nil
		}
		e.Leaders = append(e.Leaders, sentinel)
		if epoch > 0 && len(e.Leaders) > 1 {
			return fmt.Errorf("%w: epoch %d elected %s", ErrTwoLeaders, epoch, strings.Join(e.Leaders, " and "))
		}
	}
	return nil
}

// At returns the time of phase p in ms since the trigger.
func (r *Result) At(p Phase) (int64, bool) {
	for _, pt := range r.Phases {
		if pt.Phase == p {
			return pt.MS, true
		}
	}
	return 0, false
}

// Check verifies that every phase in want was observed and that no phase
// precedes one of its causes.
func (r *Result) Check(want []Phase) error {
	var errs []error
	for _, p := range want {
		if _, ok := r.At(p); !ok {
			errs = append(errs, fmt.Errorf("%w: %s never observed", ErrIncomplete, p))
		}
	}
	for p, before := range causes {
		at, ok := r.At(p)
		if !ok {
			continue
		}
		for _, b := range before {
			if bt, ok := r.At(b); ok && time.Duration(bt-at)*time.Millisecond > orderSlack {
				errs = append(errs, fmt.Errorf("%w: %s at %d ms before its cause %s at %d ms", ErrIncomplete, p, at, b, bt))
			}
		}
	}
	return errors.Join(errs...)
}

// sortPhases orders r.Phases by time, then by the usual order.
func (r *Result) sortPhases() {
	slices.SortStableFunc(r.Phases, func(a, b PhaseTime) int {
		if c := cmp.Compare(a.MS, b.MS); c != 0 {
			return c
		}
		return cmp.Compare(slices.Index(phaseOrder, a.Phase), slices.Index(phaseOrder, b.Phase))
	})
}

// classified is what one sentinel event means to a drill.
type classified struct {
	phase Phase
	// addr is the new master's address for +promoted-slave and
	// +switch-master.
	addr string
	// note is set for events worth printing that are not phases.
	note bool
	// newEpoch is the epoch of +new-epoch, tryFailover marks +try-failover
	// about the group: what leaderCheck needs besides +elected-leader.
	newEpoch    uint64
	tryFailover bool
}

// classify maps a sentinel event about master group name to a phase. Events
// about other groups, replicas or sentinels are not phases.
func classify(channel, payload, name string) (classified, bool) {
	f := strings.Fields(payload)
	aboutMaster := len(f) >= 4 && f[0] == "master" && f[1] == name
	switch channel {
	case string(PhaseSDown), string(PhaseODown), string(PhaseElected):
		if aboutMaster {
			return classified{phase: Phase(channel)}, true
		}
	case string(PhasePromoted):
		// slave <ip:port> <ip> <port> @ <master-name> <master-ip> <master-port>
		if len(f) >= 8 && f[0] == "slave" && f[4] == "@" && f[5] == name {
			return classified{phase: PhasePromoted, addr: net.JoinHostPort(f[2], f[3])}, true
		}
	case string(PhaseSwitch):
		// <master-name> <old-ip> <old-port> <new-ip> <new-port>
		if len(f) == 5 && f[0] == name {
			return classified{phase: PhaseSwitch, addr: net.JoinHostPort(f[3], f[4])}, true
		}
	case "+new-epoch":
		// The epoch is the sentinel's, for every group: the payload is
		// only the number.
		if e, err := strconv.ParseUint(payload, 10, 64); err == nil && e > 0 {
			return classified{newEpoch: e}, true
		}
	case "+try-failover":
		if aboutMaster {
			return classified{tryFailover: true}, true
		}
	case "+tilt", "-tilt":
		return classified{note: true}, true
	default:
		if strings.HasPrefix(channel, "-failover-abort") && aboutMaster {
			return classified{note: true}, true
		}
	}
	return classified{}, false
}

// PhaseStats is min/median/max of one phase over the runs that showed it.
type PhaseStats struct {
	Phase    Phase `json:"phase"`
	N        int   `json:"n"`
	MinMS    int64 `json:"min_ms"`
	MedianMS int64 `json:"median_ms"`
	MaxMS    int64 `json:"max_ms"`
}

// Summary reduces the runs of one sentinel.
type Summary struct {
	Sentinel string       `json:"sentinel"`
	Runs     int          `json:"runs"`
	Phases   []PhaseStats `json:"phases"`
}

// Summarize computes per-phase statistics over results, which should come
// from one sentinel (Sentinel is taken from the first).
func Summarize(results []Result) Summary {
	s := Summary{Runs: len(results)}
	if len(results) > 0 {
		s.Sentinel = results[0].Sentinel
	}
	byPhase := map[Phase][]int64{}
	for _, r := range results {
		for _, pt := range r.Phases {
			byPhase[pt.Phase] = append(byPhase[pt.Phase], pt.MS)
		}
	}
	for _, p := range phaseOrder {
		v := byPhase[p]
		if len(v) == 0 {
			continue
		}
		slices.Sort(v)
		med := v[len(v)/2]
		if len(v)%2 == 0 {
			med = (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		s.Phases = append(s.Phases, PhaseStats{Phase: p, N: len(v), MinMS: v[0], MedianMS: med, MaxMS: v[len(v)-1]})
	}
	return s
}

// Report is the document `sentinel drill --json` prints.
type Report struct {
	Runs    []Result  `json:"runs"`
	Summary []Summary `json:"summary"`
}

// NewReport groups results by sentinel, in order of first appearance, and
// summarizes each group.
func NewReport(results []Result) Report {
	rep := Report{Runs: results}
	if rep.Runs == nil {
		rep.Runs = []Result{}
	}
	var order []string
	groups := map[string][]Result{}
	for _, r := range results {
		if _, ok := groups[r.Sentinel]; !ok {
			order = append(order, r.Sentinel)
		}
		groups[r.Sentinel] = append(groups[r.Sentinel], r)
	}
	for _, s := range order {
		rep.Summary = append(rep.Summary, Summarize(groups[s]))
	}
	return rep
}
