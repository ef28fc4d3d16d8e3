package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

// twoGroups is a snapshot with one healthy group whose peers are all
// unreachable and one ODOWN group in failover with a peer majority.
func twoGroups() *view.Snapshot {
	return &view.Snapshot{
		CurrentEpoch: 7,
		Tilt:         true,
		Masters: []view.Master{
			{
				Instance: view.Instance{Kind: view.KindMaster, Name: "mymaster", IP: "10.0.0.1", Port: 6379,
					RunID: "aaaa", Flags: view.FlagMaster, ConfigEpoch: 5, Quorum: 1, RoleReported: "master"},
				Replicas: []view.Instance{
					{Kind: view.KindReplica, Name: "10.0.0.2:6379", IP: "10.0.0.2", Port: 6379, Flags: view.FlagSlave,
						RoleReported: "slave", SlavePriority: 100, SlaveReplOffset: 123456},
					// An old master still claiming the role, and unusable.
					{Kind: view.KindReplica, Name: "10.0.0.3:6379", IP: "10.0.0.3", Port: 6379, Flags: view.FlagSDown | view.FlagSlave | view.FlagDisconnected,
						RoleReported: "master", SlavePriority: 0, SlaveReplOffset: 99, IneligibleReason: "s_down"},
				},
				Sentinels: []view.Instance{
					{Kind: view.KindSentinel, Flags: view.FlagSDown | view.FlagSentinel},
					{Kind: view.KindSentinel, Flags: view.FlagSentinel | view.FlagDisconnected},
				},
			},
			{
				Instance: view.Instance{Kind: view.KindMaster, Name: "other", IP: "::1", Port: 7000,
					Flags: view.FlagSDown | view.FlagODown | view.FlagMaster, FailoverState: "wait_start", ConfigEpoch: 2, Quorum: 4},
				Sentinels: []view.Instance{
					{Kind: view.KindSentinel, Flags: view.FlagSentinel},
					{Kind: view.KindSentinel, Flags: view.FlagSentinel},
					{Kind: view.KindSentinel, Flags: view.FlagSDown | view.FlagSentinel},
					{Kind: view.KindSentinel, Flags: view.FlagSentinel | view.FlagDisconnected},
				},
			},
		},
	}
}

func TestScrapeRendersSnapshot(t *testing.T) {
	src := &fakeSource{}
	src.snap.Store(twoGroups())
	src.alive.Store(3)
	src.known.Store(4)
	m := New(src)

	got := scrape(t, m)
	expectSamples(t, got, map[string]float64{
		`sentinel_current_epoch`:        7,
		`sentinel_tilt`:                 1,
		`sentinel_gossip_members_alive`: 3,
		`sentinel_gossip_members_known`: 4,

		`sentinel_master_up{master="mymaster"}`:                   1,
		`sentinel_master_sdown{master="mymaster"}`:                0,
		`sentinel_master_odown{master="mymaster"}`:                0,
		`sentinel_master_failover_in_progress{master="mymaster"}`: 0,
		`sentinel_master_config_epoch{master="mymaster"}`:         5,
		`sentinel_master_quorum{master="mymaster"}`:               1,
		`sentinel_known_sentinels{master="mymaster"}`:             3,
		`sentinel_known_replicas{master="mymaster"}`:              2,
		// Alone: enough for quorum 1, not a majority of 3.
		`sentinel_quorum_reachable{master="mymaster"}`:                                  1,
		`sentinel_majority_reachable{master="mymaster"}`:                                0,
		`sentinel_master_info{address="10.0.0.1:6379",master="mymaster",run_id="aaaa"}`: 1,

		`sentinel_instance_up{addr="10.0.0.1:6379",master="mymaster",role="master"}`:       1,
		`sentinel_instance_role{addr="10.0.0.1:6379",master="mymaster",role="master"}`:     1,
		`sentinel_instance_up{addr="10.0.0.2:6379",master="mymaster",role="replica"}`:      1,
		`sentinel_instance_role{addr="10.0.0.2:6379",master="mymaster",role="replica"}`:    0,
		`sentinel_replica_offset{addr="10.0.0.2:6379",master="mymaster",role="replica"}`:   123456,
		`sentinel_replica_eligible{addr="10.0.0.2:6379",master="mymaster",role="replica"}`: 1,
		`sentinel_replica_priority{addr="10.0.0.2:6379",master="mymaster",role="replica"}`: 100,
		`sentinel_instance_up{addr="10.0.0.3:6379",master="mymaster",role="replica"}`:      0,
		`sentinel_instance_role{addr="10.0.0.3:6379",master="mymaster",role="replica"}`:    1,
		`sentinel_replica_offset{addr="10.0.0.3:6379",master="mymaster",role="replica"}`:   99,
		`sentinel_replica_eligible{addr="10.0.0.3:6379",master="mymaster",role="replica"}`: 0,
		`sentinel_replica_priority{addr="10.0.0.3:6379",master="mymaster",role="replica"}`: 0,

		`sentinel_master_up{master="other"}`:                   0,
		`sentinel_master_sdown{master="other"}`:                1,
		`sentinel_master_odown{master="other"}`:                1,
		`sentinel_master_failover_in_progress{master="other"}`: 1,
		`sentinel_master_config_epoch{master="other"}`:         2,
		`sentinel_known_sentinels{master="other"}`:             5,
		`sentinel_known_replicas{master="other"}`:              0,
		// 3 of 5 usable: a majority, short of quorum 4.
		`sentinel_quorum_reachable{master="other"}`:                            0,
		`sentinel_majority_reachable{master="other"}`:                          1,
		`sentinel_master_info{address="[::1]:7000",master="other",run_id=""}`:  1,
		`sentinel_instance_up{addr="[::1]:7000",master="other",role="master"}`: 0,
		// No INFO yet: our own view of the role stands in.
		`sentinel_instance_role{addr="[::1]:7000",master="other",role="master"}`: 1,
	})
	// Replica gauges are not emitted for masters.
	expectAbsent(t, got, `sentinel_replica_offset{addr="10.0.0.1:6379",master="mymaster",role="master"}`)
}

// TestScrapeCountsRefusals: what the edges and the state machine refused,
// and a failing save, are visible without reading logs.
func TestScrapeCountsRefusals(t *testing.T) {
	src := &fakeSource{}
	snap := twoGroups()
	snap.Rejected = map[string]uint64{"hello": 3, "peer": 1}
	snap.SaveError, snap.SaveFailures = "no space left on device", 2
	src.snap.Store(snap)
	src.refusals.Store(&Refusals{GossipDropped: map[string]uint64{"replayed": 4}, AuthFailures: 9, RejectedConnections: 1})

	expectSamples(t, scrape(t, New(src)), map[string]float64{
		`sentinel_invalid_input_total{source="hello"}`:     3,
		`sentinel_invalid_input_total{source="peer"}`:      1,
		`sentinel_gossip_dropped_total{reason="replayed"}`: 4,
		`sentinel_auth_failures_total`:                     9,
		`sentinel_rejected_connections_total`:              1,
		`sentinel_config_save_failures_total`:              2,
		`sentinel_config_save_failing`:                     1,
	})
}

func TestScrapeBeforeFirstSnapshot(t *testing.T) {
	src := &fakeSource{}
	src.known.Store(2)
	got := scrape(t, New(src))
	expectSamples(t, got, map[string]float64{
		`sentinel_gossip_members_alive`: 0,
		`sentinel_gossip_members_known`: 2,
	})
	expectAbsent(t, got, `sentinel_current_epoch`, `sentinel_tilt`)
}

func TestMetricsPassLint(t *testing.T) {
	src := &fakeSource{}
	src.snap.Store(twoGroups())
	m := New(src)
	feed(m, failoverSteps("mymaster"))
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}
