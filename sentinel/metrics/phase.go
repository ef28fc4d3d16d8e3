package metrics

import (
	"time"

	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Failover phases, the values of the phase label (docs/behaviour.md §4).
const (
	phaseDetection   = "detection"   // master +sdown → +odown
	phaseElection    = "election"    // +try-failover → +elected-leader
	phaseSelect      = "select"      // +elected-leader → +selected-slave
	phasePromotion   = "promotion"   // +selected-slave → +promoted-slave
	phaseReconfigure = "reconfigure" // +promoted-slave → +failover-end
	phaseTotal       = "total"       // +try-failover → +switch-master
)

// phaseClock is the pure core of the event-fed metrics: it remembers when
// each step of a group's current failover happened and says, per event,
// which phase (if any) just ended and how the failover ended (if it did).
type phaseClock struct {
	groups map[string]*groupClock
}

// groupClock holds one master group's timestamps; zero means "not seen in
// the current failover".
type groupClock struct {
	sdown, try, elected, selected, promoted time.Time
	succeeded                               bool // success already counted for this failover
}

// clockResult is what one event produced.
type clockResult struct {
	phase   string // "" when no phase ended
	elapsed time.Duration
	outcome string // "" when no failover ended
}

func (c *phaseClock) observe(e notify.Event, at time.Time) clockResult {
	g := c.groups[e.Master]
	if g == nil {
		g = &groupClock{}
		c.groups[e.Master] = g
	}
	var r clockResult
	switch e.Kind {
	case notify.KindSDown:
		// Replicas and sentinels of the group go SDOWN too; only the
		// master's starts detection.
		if isMasterEvent(e) {
			g.sdown = at
		}
	case notify.KindSDownCleared:
		if isMasterEvent(e) {
			g.sdown = time.Time{}
		}
	case notify.KindODown:
		r.phase, r.elapsed = phaseSince(phaseDetection, g.sdown, at)
		g.sdown = time.Time{} // a later -odown/+odown flap is not a new detection
	case notify.KindTryFailover:
		*g = groupClock{sdown: g.sdown, try: at}
	case notify.KindElectedLeader:
		g.elected = at
		r.phase, r.elapsed = phaseSince(phaseElection, g.try, at)
	case notify.KindSelectedSlave:
		g.selected = at
		r.phase, r.elapsed = phaseSince(phaseSelect, g.elected, at)
	case notify.KindPromotedSlave:
		g.promoted = at
		r.phase, r.elapsed = phaseSince(phasePromotion, g.selected, at)
	case notify.KindFailoverEnd:
		r.phase, r.elapsed = phaseSince(phaseReconfigure, g.promoted, at)
		// Any failover end counts, even one whose start this process did
		// not see (restarted mid-failover).
		if !g.succeeded {
			r.outcome = outcomeSuccess
			g.succeeded = true
		}
	case notify.KindSwitchMaster:
		// Observers learn the switch from hellos: only a switch after our
		// own election is our failover.
		if !g.elected.IsZero() && !g.succeeded {
			r.outcome = outcomeSuccess
		}
		r.phase, r.elapsed = phaseSince(phaseTotal, g.try, at)
		*g = groupClock{}
	case notify.KindAbortNotElected:
		r.outcome = outcomeNotElected
		*g = groupClock{sdown: g.sdown}
	case notify.KindAbortNoGoodSlave:
		r.outcome = outcomeNoGoodSlave
		*g = groupClock{sdown: g.sdown}
	case notify.KindAbortSlaveTimeout:
		r.outcome = outcomeSlaveTimeout
		*g = groupClock{sdown: g.sdown}
	case notify.KindResetMaster:
		*g = groupClock{}
	}
	return r
}

// phaseSince names the phase from start to end, or nothing when the start
// was not seen or the clock went backwards.
func phaseSince(phase string, start, end time.Time) (string, time.Duration) {
	if start.IsZero() || end.Before(start) {
		return "", 0
	}
	return phase, end.Sub(start)
}

// isMasterEvent reports whether an event's instance is the master itself.
func isMasterEvent(e notify.Event) bool {
	return e.Instance != nil && e.Instance.Kind == view.KindMaster
}
