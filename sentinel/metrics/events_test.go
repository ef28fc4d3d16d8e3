package metrics

import (
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

const ms = time.Millisecond

// failoverSteps is one failover led by this sentinel, in the order of the
// docs/behaviour.md §2 live stream, with durations exact in binary floating point.
func failoverSteps(master string) []step {
	return []step{
		{ev(notify.KindMonitor, master), 0},
		{replicaEv(notify.KindSDown, master), 100 * ms}, // a replica's SDOWN starts no detection
		{ev(notify.KindSDown, master), 500 * ms},
		{ev(notify.KindODown, master), 2000 * ms},
		{notify.Event{Kind: notify.KindNewEpoch, Level: notify.LevelWarning, Epoch: 6}, 2000 * ms},
		{ev(notify.KindTryFailover, master), 2000 * ms},
		{notify.Event{Kind: notify.KindVoteForLeader, Level: notify.LevelWarning, Leader: "abcd", Epoch: 6}, 2000 * ms},
		{ev(notify.KindElectedLeader, master), 2250 * ms},
		{ev(notify.KindStateSelectSlave, master), 2250 * ms},
		{replicaEv(notify.KindSelectedSlave, master), 2500 * ms},
		{replicaEv(notify.KindStateSendSlaveofNoone, master), 2500 * ms},
		{replicaEv(notify.KindStateWaitPromotion, master), 2500 * ms},
		{replicaEv(notify.KindPromotedSlave, master), 3500 * ms},
		{ev(notify.KindStateReconfSlaves, master), 3500 * ms},
		{ev(notify.KindFailoverEnd, master), 7500 * ms},
		{switchEv(master), 8000 * ms},
	}
}

func TestFailoverPhasesAndSuccess(t *testing.T) {
	m := New(&fakeSource{})
	feed(m, failoverSteps("mymaster"))
	got := scrape(t, m)

	phases := map[string]float64{
		"detection": 1.5, "election": 0.25, "select": 0.25,
		"promotion": 1, "reconfigure": 4, "total": 6,
	}
	want := map[string]float64{
		// +failover-end and +switch-master both end the one failover.
		`sentinel_failovers_total{master="mymaster",outcome="success"}`:       1,
		`sentinel_failovers_total{master="mymaster",outcome="not_elected"}`:   0,
		`sentinel_failovers_total{master="mymaster",outcome="no_good_slave"}`: 0,
		`sentinel_failovers_total{master="mymaster",outcome="slave_timeout"}`: 0,
		`sentinel_switch_master_total{master="mymaster"}`:                     1,
		`sentinel_events_total{type="+sdown"}`:                                2,
		`sentinel_events_total{type="+new-epoch"}`:                            1,
		`sentinel_events_total{type="+switch-master"}`:                        1,
	}
	for p, sec := range phases {
		l := `{master="mymaster",phase="` + p + `"}`
		want[`sentinel_last_failover_phase_seconds`+l] = sec
		want[`sentinel_failover_phase_seconds_sum`+l] = sec
		want[`sentinel_failover_phase_seconds_count`+l] = 1
	}
	// Bucket edges: 1.5 s falls in le=2.5, not le=1.
	want[`sentinel_failover_phase_seconds_bucket{master="mymaster",phase="detection",le="1"}`] = 0
	want[`sentinel_failover_phase_seconds_bucket{master="mymaster",phase="detection",le="2.5"}`] = 1
	want[`sentinel_failover_phase_seconds_bucket{master="mymaster",phase="election",le="0.001"}`] = 0
	want[`sentinel_failover_phase_seconds_bucket{master="mymaster",phase="total",le="60"}`] = 1
	expectSamples(t, got, want)
}

func TestObservedSwitchIsNotOurFailover(t *testing.T) {
	m := New(&fakeSource{})
	feed(m, []step{
		{ev(notify.KindMonitor, "mymaster"), 0},
		{ev(notify.KindSDown, "mymaster"), 0},
		{ev(notify.KindODown, "mymaster"), time.Second},
		{notify.Event{Kind: notify.KindConfigUpdateFrom, Master: "mymaster",
			Instance: &notify.Instance{Kind: view.KindSentinel, Name: "abcd", Host: "127.0.0.1", Port: 26380,
				MasterName: "mymaster", MasterHost: "127.0.0.1", MasterPort: 6379}}, 5 * time.Second},
		{switchEv("mymaster"), 5 * time.Second},
	})
	got := scrape(t, m)
	expectSamples(t, got, map[string]float64{
		`sentinel_switch_master_total{master="mymaster"}`:                           1,
		`sentinel_failovers_total{master="mymaster",outcome="success"}`:             0,
		`sentinel_last_failover_phase_seconds{master="mymaster",phase="detection"}`: 1,
	})
	expectAbsent(t, got, `sentinel_failover_phase_seconds_count{master="mymaster",phase="total"}`)
}

func TestAbortOutcomes(t *testing.T) {
	for _, c := range []struct {
		outcome string
		steps   []step
	}{
		{"not_elected", []step{
			{ev(notify.KindTryFailover, "m"), 0},
			{ev(notify.KindAbortNotElected, "m"), 10 * time.Second},
		}},
		{"no_good_slave", []step{
			{ev(notify.KindTryFailover, "m"), 0},
			{ev(notify.KindElectedLeader, "m"), 10 * ms},
			{ev(notify.KindAbortNoGoodSlave, "m"), 20 * ms},
		}},
		{"slave_timeout", []step{
			{ev(notify.KindTryFailover, "m"), 0},
			{ev(notify.KindElectedLeader, "m"), 10 * ms},
			{replicaEv(notify.KindSelectedSlave, "m"), 20 * ms},
			{ev(notify.KindAbortSlaveTimeout, "m"), 3 * time.Minute},
		}},
	} {
		t.Run(c.outcome, func(t *testing.T) {
			m := New(&fakeSource{})
			feed(m, c.steps)
			// Another sentinel then completes the failover: we only observe it.
			m.ObserveEvent(switchEv("m"), t0.Add(4*time.Minute))
			got := scrape(t, m)
			expectSamples(t, got, map[string]float64{
				`sentinel_failovers_total{master="m",outcome="` + c.outcome + `"}`: 1,
				`sentinel_switch_master_total{master="m"}`:                         1,
			})
			expectAbsent(t, got,
				`sentinel_failovers_total{master="m",outcome="success"}`,
				`sentinel_failover_phase_seconds_count{master="m",phase="total"}`)
		})
	}
}

func TestFailoverEndWithoutSeenStartCountsSuccess(t *testing.T) {
	m := New(&fakeSource{})
	m.ObserveEvent(ev(notify.KindFailoverEnd, "m"), t0)
	got := scrape(t, m)
	expectSamples(t, got, map[string]float64{`sentinel_failovers_total{master="m",outcome="success"}`: 1})
	expectAbsent(t, got, `sentinel_failover_phase_seconds_count{master="m",phase="reconfigure"}`)
}

func TestBackwardsClockRecordsNoPhase(t *testing.T) {
	m := New(&fakeSource{})
	feed(m, []step{
		{ev(notify.KindTryFailover, "m"), time.Second},
		{ev(notify.KindElectedLeader, "m"), 0},
	})
	expectAbsent(t, scrape(t, m), `sentinel_failover_phase_seconds_count{master="m",phase="election"}`)
}

func TestMonitorRemovalDropsGroupSeries(t *testing.T) {
	m := New(&fakeSource{})
	feed(m, failoverSteps("gone"))
	feed(m, failoverSteps("kept"))
	m.ObserveEvent(ev(notify.KindUnmonitor, "gone"), t0.Add(time.Minute))
	got := scrape(t, m)
	expectAbsent(t, got,
		`sentinel_failovers_total{master="gone",outcome="success"}`,
		`sentinel_switch_master_total{master="gone"}`,
		`sentinel_last_failover_phase_seconds{master="gone",phase="total"}`,
		`sentinel_failover_phase_seconds_count{master="gone",phase="total"}`)
	expectSamples(t, got, map[string]float64{
		`sentinel_failovers_total{master="kept",outcome="success"}`: 1,
		`sentinel_events_total{type="-monitor"}`:                    1,
	})
}
