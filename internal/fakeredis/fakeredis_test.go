package fakeredis

import (
	"reflect"
	"testing"

	"github.com/seed877ff415/sentinel/monitor"
)

func testSet() Set {
	s := Set{}
	s.Add(&Instance{Host: "10.0.0.1", Port: 6379, Alive: true, RunID: "m", Role: "master", Offset: 9, Priority: 100})
	for _, h := range []string{"10.0.0.5", "10.0.0.3", "10.0.0.2", "10.0.0.4"} {
		s.Add(&Instance{Host: h, Port: 6379, Alive: true, Role: "slave", Master: "10.0.0.1:6379", Offset: 7, Priority: 100})
	}
	s["10.0.0.4:6379"].Alive = false
	return s
}

// TestInfoListsLiveReplicasInOrder: a master's INFO lists its live
// replicas by address, however the map iterates.
func TestInfoListsLiveReplicasInOrder(t *testing.T) {
	s := testSet()
	var want []monitor.ReplicaEntry
	for _, h := range []string{"10.0.0.2", "10.0.0.3", "10.0.0.5"} {
		want = append(want, monitor.ReplicaEntry{IP: h, Port: 6379, State: "online", Offset: 7})
	}
	for range 20 {
		info := s.Info(s["10.0.0.1:6379"])
		if info.Role != "master" || info.ReplOffset != 9 || !reflect.DeepEqual(info.Replicas, want) {
			t.Fatalf("master INFO %+v, want role master, offset 9, replicas %v", info, want)
		}
	}
}

// TestInfoReplicaLink: a replica's link is up while its master is alive
// and still a master.
func TestInfoReplicaLink(t *testing.T) {
	s := testSet()
	r := s["10.0.0.2:6379"]
	if info := s.Info(r); info.MasterHost != "10.0.0.1" || info.MasterPort != 6379 || !info.MasterLinkUp {
		t.Fatalf("replica INFO %+v, want master 10.0.0.1:6379 with the link up", info)
	}
	s["10.0.0.1:6379"].Alive = false
	if info := s.Info(r); info.MasterLinkUp || info.MasterLinkDownSince == 0 {
		t.Fatalf("replica INFO %+v with its master dead, want the link down", info)
	}
	if s.Reachable("10.0.0.1:6379") || !s.Reachable("10.0.0.2:6379") || s.Reachable("10.0.0.9:6379") {
		t.Fatal("Reachable does not follow Alive")
	}
}

// TestAnswerSlaveOf: SLAVEOF NO ONE promotes, SLAVEOF host port demotes,
// each answered by +OK and the INFO it leads to; other requests are the
// caller's.
func TestAnswerSlaveOf(t *testing.T) {
	s := testSet()
	r, m := s["10.0.0.3:6379"], s["10.0.0.1:6379"]
	replies, ok := s.Answer(r, monitor.SlaveOf{})
	if !ok || len(replies) != 2 || replies[0].Kind != monitor.ObsReply || !replies[0].OK ||
		replies[1].Kind != monitor.ObsInfo || replies[1].Info.Role != "master" {
		t.Fatalf("SLAVEOF NO ONE answered %+v", replies)
	}
	if r.Role != "master" || r.Master != "" {
		t.Fatalf("after SLAVEOF NO ONE: %s of %q", r.Role, r.Master)
	}
	replies, _ = s.Answer(m, monitor.SlaveOf{Host: "10.0.0.3", Port: 6379})
	if m.Role != "slave" || m.Master != "10.0.0.3:6379" || replies[1].Info.MasterHost != "10.0.0.3" {
		t.Fatalf("after SLAVEOF 10.0.0.3 6379: %s of %q, INFO %+v", m.Role, m.Master, replies[1].Info)
	}
	if replies, ok := s.Answer(r, monitor.Ping{}); !ok || len(replies) != 1 || replies[0].Reply != "PONG" {
		t.Fatalf("PING answered %+v, %v", replies, ok)
	}
	if replies, ok := s.Answer(r, monitor.Hello{}); ok || replies != nil {
		t.Fatalf("HELLO answered %+v, %v: it is the caller's", replies, ok)
	}
}
