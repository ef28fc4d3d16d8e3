package drill

import (
	"bytes"
	"errors"
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
		{"+slave", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379", classified{}, false},
	}
	for _, c := range cases {
		got, ok := classify(c.channel, c.payload, "mymaster")
		if ok != c.ok || got != c.want {
			t.Errorf("classify(%q, %q) = %+v, %t; want %+v, %t", c.channel, c.payload, got, ok, c.want, c.ok)
		}
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
