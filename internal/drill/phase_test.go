package drill

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/testutil"
)

func TestClassifyKeepsOnlyThisGroupsFailoverSteps(t *testing.T) {
	cases := []struct {
		channel, payload string
		want             classified
		ok               bool
	}{
		{"+sdown", "master mymaster 127.0.0.1 6379", classified{phase: PhaseSDown}, true},
		{"+sdown", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379", classified{}, false},
		{"+sdown", "master other 127.0.0.1 6379", classified{}, false},
		{"+odown", "master mymaster 127.0.0.1 6379 #quorum 2/2", classified{phase: PhaseODown}, true},
		{"+elected-leader", "master mymaster 127.0.0.1 6379", classified{phase: PhaseElected}, true},
		{"+promoted-slave", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379",
			classified{phase: PhasePromoted, addr: "127.0.0.1:6380"}, true},
		{"+promoted-slave", "slave 127.0.0.1:6380 127.0.0.1 6380 @ other 127.0.0.1 6379", classified{}, false},
		{"+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6381",
			classified{phase: PhaseSwitch, addr: "127.0.0.1:6381"}, true},
		{"+switch-master", "other 127.0.0.1 6379 127.0.0.1 6381", classified{}, false},
		{"-failover-abort-no-good-slave", "master mymaster 127.0.0.1 6379", classified{note: true}, true},
		{"+tilt", "#tilt mode entered", classified{note: true}, true},
		{"+new-epoch", "7", classified{newEpoch: 7}, true},
		{"+new-epoch", "seven", classified{}, false},
		{"+try-failover", "master mymaster 127.0.0.1 6379", classified{tryFailover: true}, true},
		{"+try-failover", "master other 127.0.0.1 6379", classified{}, false},
		{"+slave", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379", classified{}, false},
	}
	for _, c := range cases {
		got, ok := classify(c.channel, c.payload, "mymaster")
		if ok != c.ok || got != c.want {
			t.Errorf("classify(%q, %q) = %+v, %t; want %+v, %t", c.channel, c.payload, got, ok, c.want, c.ok)
		}
	}
}

// stream is a synthetic sequence of sentinel events: sentinel, channel,
// payload, repeated.
func stream(t *testing.T, events ...string) []observation {
	t.Helper()
	var obs []observation
	for i := 0; i+2 < len(events); i += 3 {
		c, ok := classify(events[i+1], events[i+2], "mymaster")
		if !ok {
			t.Fatalf("event %s %s is not classified", events[i+1], events[i+2])
		}
		obs = append(obs, observation{sentinel: events[i], phase: c.phase, note: c.note,
			newEpoch: c.newEpoch, tryFailover: c.tryFailover})
	}
	return obs
}

// feed runs obs through a fresh leaderCheck and returns the result and the
// first error.
func feed(obs []observation) (*Result, error) {
	var c leaderCheck
	res := &Result{}
	var first error
	for _, o := range obs {
		if err := c.observe(res, o); err != nil && first == nil {
			first = err
		}
	}
	return res, first
}

const master = "master mymaster 127.0.0.1 6379"

func TestLeaderCheckAcceptsOneLeaderPerEpoch(t *testing.T) {
	// A split vote in epoch 1, won by B in epoch 2; C votes for B and so
	// raises its epoch without standing; A stood again in 2 and lost.
	res, err := feed(stream(t,
		"A", "+new-epoch", "1", "A", "+try-failover", master,
		"B", "+new-epoch", "1", "B", "+try-failover", master,
		"A", "-failover-abort-not-elected", master,
		"B", "-failover-abort-not-elected", master,
		"B", "+new-epoch", "2", "B", "+try-failover", master,
		"C", "+new-epoch", "2",
		"A", "+new-epoch", "3", "A", "+try-failover", master,
		"B", "+elected-leader", master,
		"B", "+elected-leader", master, // a repeat is the same leader
		"A", "-failover-abort-not-elected", master,
	))
	if err != nil {
		t.Fatalf("one leader per epoch: %v", err)
	}
	want := []Election{{Epoch: 2, Leaders: []string{"B"}}}
	if !slices.EqualFunc(res.Elections, want, func(a, b Election) bool {
		return a.Epoch == b.Epoch && slices.Equal(a.Leaders, b.Leaders)
	}) || res.TwoLeaders() != 0 {
		t.Fatalf("elections %+v, two leaders %d; want %+v, 0", res.Elections, res.TwoLeaders(), want)
	}
	if got := res.electionsLine(); got != "leaders: epoch 2: B (at most one leader per epoch)" {
		t.Fatalf("timeline line %q", got)
	}
	// Later failovers in later epochs are no second leader either.
	res, err = feed(stream(t,
		"A", "+new-epoch", "1", "A", "+try-failover", master, "A", "+elected-leader", master,
		"B", "+new-epoch", "2", "B", "+try-failover", master, "B", "+elected-leader", master,
	))
	if err != nil || len(res.Elections) != 2 || res.TwoLeaders() != 0 {
		t.Fatalf("two epochs, one leader each: elections %+v, err %v", res.Elections, err)
	}
}

func TestLeaderCheckFailsOnTwoLeadersInOneEpoch(t *testing.T) {
	// Interleaved as two connections deliver them: B's +new-epoch of a
	// vote comes between A's candidacy events.
	res, err := feed(stream(t,
		"A", "+new-epoch", "4", "B", "+new-epoch", "4", "A", "+try-failover", master,
		"B", "+try-failover", master,
		"C", "+new-epoch", "4",
		"A", "+elected-leader", master,
		"B", "+elected-leader", master,
	))
	if !errors.Is(err, ErrTwoLeaders) || !strings.Contains(err.Error(), "epoch 4 elected A and B") {
		t.Fatalf("two leaders in epoch 4: got %v", err)
	}
	if res.TwoLeaders() != 1 || !strings.Contains(res.electionsLine(), "1 epoch(s) with two leaders") {
		t.Fatalf("two leaders counted %d, line %q", res.TwoLeaders(), res.electionsLine())
	}
	// A leader whose candidacy was not seen has no known epoch: it is
	// shown, not counted against another.
	res, err = feed(stream(t,
		"A", "+new-epoch", "1", "A", "+try-failover", master, "A", "+elected-leader", master,
		"B", "+elected-leader", master, "C", "+elected-leader", master,
	))
	if err != nil || res.TwoLeaders() != 0 || !strings.Contains(res.electionsLine(), "unknown epoch: B, C") {
		t.Fatalf("unknown epochs: err %v, two leaders %d, line %q", err, res.TwoLeaders(), res.electionsLine())
	}
}

func result(phases ...any) *Result {
	r := &Result{}
	for i := 0; i < len(phases); i += 2 {
		r.Phases = append(r.Phases, PhaseTime{Phase: phases[i].(Phase), MS: int64(phases[i+1].(int))})
	}
	return r
}

func TestCheckReportsMissingAndReorderedPhases(t *testing.T) {
	full := result(PhaseKill, 0, PhaseSDown, 1000, PhaseODown, 1010, PhaseElected, 1020, PhasePromoted, 1900,
		PhaseSwitch, 2000, PhaseWrite, 1950, PhaseRepointed, 2100, PhaseRestarted, 2200, PhaseRejoined, 9000)
	if err := full.Check(LocalPhases); err != nil {
		t.Fatalf("complete run: %v", err)
	}
	missing := result(PhaseKill, 0, PhaseSDown, 1000)
	err := missing.Check(LocalPhases)
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "+odown never observed") {
		t.Fatalf("missing phases: got %v", err)
	}
	reordered := result(PhaseKill, 0, PhaseSDown, 1000, PhaseODown, 900)
	if err := reordered.Check(nil); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "before its cause +sdown") {
		t.Fatalf("odown before sdown: got %v", err)
	}
	// Within the slack: events read on different connections.
	jitter := result(PhasePromoted, 1000, PhaseSwitch, 995)
	if err := jitter.Check(nil); err != nil {
		t.Fatalf("5 ms of receive jitter: %v", err)
	}
}

func TestSummarizeTakesMinMedianMaxPerPhase(t *testing.T) {
	runs := []Result{
		*result(PhaseKill, 0, PhaseSDown, 1000, PhaseSwitch, 3000),
		*result(PhaseKill, 0, PhaseSDown, 1200, PhaseSwitch, 2000),
		*result(PhaseKill, 0, PhaseSDown, 1100),
	}
	for i := range runs {
		runs[i].Sentinel = "redis-sentinel {conf}"
	}
	s := Summarize(runs)
	want := Summary{Sentinel: "redis-sentinel {conf}", Runs: 3, Phases: []PhaseStats{
		{Phase: PhaseKill, N: 3},
		{Phase: PhaseSDown, N: 3, MinMS: 1000, MedianMS: 1100, MaxMS: 1200},
		{Phase: PhaseSwitch, N: 2, MinMS: 2000, MedianMS: 2500, MaxMS: 3000},
	}}
	if s.Sentinel != want.Sentinel || s.Runs != want.Runs || len(s.Phases) != len(want.Phases) {
		t.Fatalf("Summarize = %+v, want %+v", s, want)
	}
	for i := range want.Phases {
		if s.Phases[i] != want.Phases[i] {
			t.Errorf("phase %d = %+v, want %+v", i, s.Phases[i], want.Phases[i])
		}
	}
}

func TestNewReportGroupsBySentinel(t *testing.T) {
	a, b := *result(PhaseKill, 0), *result(PhaseKill, 0)
	a.Sentinel, b.Sentinel = "ours", "redis-sentinel {conf}"
	rep := NewReport([]Result{a, b, a})
	if len(rep.Summary) != 2 || rep.Summary[0].Sentinel != "ours" || rep.Summary[0].Runs != 2 || rep.Summary[1].Runs != 1 {
		t.Fatalf("summary = %+v", rep.Summary)
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, rep.Summary); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "ours: 2 run(s)") || !strings.Contains(buf.String(), "redis-sentinel {conf}: 1 run(s)") {
		t.Fatalf("table:\n%s", buf.String())
	}
}

func TestParseReplication(t *testing.T) {
	info := "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6380\r\nmaster_link_status:up\r\n"
	if got := parseReplication(info); got != (replication{role: "slave", master: "127.0.0.1:6380", linkUp: true}) {
		t.Fatalf("replica: %+v", got)
	}
	if got := parseReplication("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"); got != (replication{role: "master"}) {
		t.Fatalf("master: %+v", got)
	}
}

func TestReporterSaysWhatItWaitsForWithinASecond(t *testing.T) {
	var out testutil.SyncBuffer
	rep := newReporter(&out)
	defer rep.close()
	start := time.Now()
	rep.printf("first line")
	rep.waiting("+odown", start)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "waiting for +odown (") {
		if time.Now().After(deadline) {
			t.Fatalf("no waiting line after 5 s:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(start); took > quietLimit+500*time.Millisecond {
		t.Errorf("first waiting line after %v, want within %v", took, quietLimit)
	}
	if !strings.HasPrefix(out.String(), "first line\n") {
		t.Errorf("output:\n%s", out.String())
	}
}
