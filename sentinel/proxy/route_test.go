package proxy

import (
	"slices"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

// group is a master at 10.0.0.1:6379 with two healthy replicas.
func group() *view.Master {
	rep := func(ip string) view.Instance {
		return view.Instance{Kind: view.KindReplica, IP: ip, Port: 6379, Flags: view.FlagSlave,
			MasterLinkStatus: "ok", MasterHost: "10.0.0.1", MasterPort: 6379}
	}
	return &view.Master{
		Instance: view.Instance{Kind: view.KindMaster, Name: "m", IP: "10.0.0.1", Port: 6379, Flags: view.FlagMaster,
			DownAfter: 5 * time.Second, FailoverTimeout: 60 * time.Second},
		AddrHost: "10.0.0.1", AddrPort: 6379,
		Replicas: []view.Instance{rep("10.0.0.2"), rep("10.0.0.3")},
	}
}

func TestHealthyGroupRoutesWritesToMasterAndReadsAcrossReplicas(t *testing.T) {
	r := RouteOf(group(), false, true)
	if !r.Accept || r.Fenced || r.Master != "10.0.0.1:6379" || r.Wait != 65*time.Second {
		t.Fatalf("route = %+v", r)
	}
	if got := r.Pick("master", 7); got != "10.0.0.1:6379" {
		t.Errorf("master listener picks %q", got)
	}
	if a, b := r.Pick("replicas", 0), r.Pick("replicas", 1); a != "10.0.0.2:6379" || b != "10.0.0.3:6379" {
		t.Errorf("replicas listener picks %q then %q, want round robin", a, b)
	}
	if !r.Keeps("master", "10.0.0.1:6379") || r.Keeps("master", "10.0.0.2:6379") || !r.Keeps("replicas", "10.0.0.3:6379") {
		t.Error("connections to the master and healthy replicas stay")
	}
}

func TestUnhealthyReplicasAreSkippedAndReadsFallBackToMaster(t *testing.T) {
	m := group()
	m.Replicas[0].Flags = view.FlagSDown | view.FlagSlave
	m.Replicas[1].MasterLinkStatus = "err"
	r := RouteOf(m, false, true)
	if len(r.Replicas) != 0 || r.Pick("replicas", 0) != "10.0.0.1:6379" {
		t.Fatalf("replicas %q pick %q, want fallback to the master", r.Replicas, r.Pick("replicas", 0))
	}
	if r.Keeps("replicas", "10.0.0.2:6379") {
		t.Error("a connection to an SDOWN replica must be closed")
	}
	m = group()
	m.Replicas[1].MasterHost = "10.0.0.9" // still replicating from someone else
	m.Replicas[0].Flags = view.FlagSlave | view.FlagDisconnected
	if r := RouteOf(m, false, true); len(r.Replicas) != 0 {
		t.Errorf("disconnected or foreign replicas = %q", r.Replicas)
	}
}

func TestDownMasterMakesNewConnectionsWaitAndClosesOldOnes(t *testing.T) {
	for _, flags := range []view.Flags{view.FlagSDown | view.FlagMaster, view.FlagODown | view.FlagSDown | view.FlagMaster} {
		m := group()
		m.Flags = flags
		r := RouteOf(m, false, true)
		if r.Master != "" || r.Pick("master", 0) != "" || r.Keeps("master", "10.0.0.1:6379") {
			t.Errorf("%s: route %+v must hold new connections and drop old ones", flags, r)
		}
		if len(r.Replicas) != 0 || r.Pick("replicas", 0) != "" {
			t.Errorf("%s: replicas of a down master are not routed: %q", flags, r.Replicas)
		}
	}
}

func TestSwitchoverStopsWritesToTheOldMasterBeforePromotion(t *testing.T) {
	for _, st := range []string{"select_slave", "send_slaveof_noone", "wait_promotion"} {
		m := group()
		m.FailoverState = st // the old master is alive and not SDOWN
		if r := RouteOf(m, false, true); r.Master != "" || r.Keeps("master", "10.0.0.1:6379") {
			t.Errorf("%s: old master still routed: %+v", st, r)
		}
	}
	m := group()
	m.FailoverState = "wait_start" // only elected: nothing has changed yet
	if r := RouteOf(m, false, true); r.Master != "10.0.0.1:6379" {
		t.Errorf("wait_start: %+v", r)
	}
}

func TestPromotionRoutesToTheNewMasterAtOnce(t *testing.T) {
	m := group()
	m.Flags = view.FlagODown | view.FlagSDown | view.FlagMaster // the old master's flags, until the switch
	m.FailoverState = "reconf_slaves"
	m.AddrHost, m.IP = "10.0.0.2", "10.0.0.2"
	r := RouteOf(m, false, true)
	if r.Master != "10.0.0.2:6379" || r.Pick("master", 0) != "10.0.0.2:6379" {
		t.Fatalf("route %+v, want the promoted replica", r)
	}
	if r.Keeps("master", "10.0.0.1:6379") || r.Keeps("replicas", "10.0.0.1:6379") {
		t.Error("connections to the old master must be closed")
	}
	// The third replica still follows the old master: not a read target yet.
	if !slices.Equal(r.Replicas, nil) || r.Pick("replicas", 3) != "10.0.0.2:6379" {
		t.Errorf("replicas %q", r.Replicas)
	}
}

func TestTiltRefusesNewConnectionsButKeepsOld(t *testing.T) {
	r := RouteOf(group(), true, true)
	if r.Accept || r.Pick("master", 0) != "" || !r.Keeps("master", "10.0.0.1:6379") {
		t.Fatalf("tilt route %+v", r)
	}
}

func TestMinoritySideClosesEverything(t *testing.T) {
	r := RouteOf(group(), false, false)
	if r.Accept || !r.Fenced || r.Keeps("master", "10.0.0.1:6379") || r.Keeps("replicas", "10.0.0.2:6379") {
		t.Fatalf("minority route %+v", r)
	}
}
