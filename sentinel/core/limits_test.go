package core

import (
	"fmt"
	"strings"
	"testing"

	"github.com/seed877ff415/sentinel/monitor"
)

func countEvents(out Ready, typ string) int {
	n := 0
	for _, e := range out.Events {
		if e.Channel() == typ {
			n++
		}
	}
	return n
}

// TestReplicasOverTheCapAreIgnoredWithOneWarning: a master listing more
// replicas than monitor.MaxReplicas gets that many, and one warning.
func TestReplicasOverTheCapAreIgnoredWithOneWarning(t *testing.T) {
	s := newTestState(t)
	key := s.masters[0].inst.linkKey()
	info := func(from, n int) monitor.Observation {
		in := &monitor.Info{Role: "master", ReplicasOmitted: 7}
		for i := from; i < from+n; i++ {
			in.Replicas = append(in.Replicas, monitor.ReplicaEntry{IP: fmt.Sprintf("10.0.%d.%d", i/256, i%256), Port: 6379})
		}
		return monitor.Observation{Key: key, Kind: monitor.ObsInfo, Request: monitor.InfoRequest{}, Info: in}
	}
	s.Observe(t0, info(0, monitor.MaxReplicas))
	out := s.Drain()
	if n := countEvents(out, "+slave"); n != monitor.MaxReplicas {
		t.Fatalf("%d +slave, want %d", n, monitor.MaxReplicas)
	}
	if !hasEvent(out, "-max-replicas-reached", "master mymaster 127.0.0.1 6379 #max 1000") {
		t.Fatalf("no warning for the replicas omitted from INFO: %v", eventTypes(out)[monitor.MaxReplicas:])
	}
	// Other replicas later: none added, no second warning; known ones stay.
	for range 3 {
		s.Observe(t0, info(monitor.MaxReplicas, 10))
		if out := s.Drain(); countEvents(out, "+slave") != 0 || countEvents(out, "-max-replicas-reached") != 0 {
			t.Fatalf("over the cap: %v", eventTypes(out))
		}
	}
	if n := len(s.masters[0].replicas); n != monitor.MaxReplicas {
		t.Fatalf("%d replicas kept", n)
	}
}

func TestSentinelsOverTheCapAreIgnoredWithOneWarning(t *testing.T) {
	s := newTestState(t)
	hello := func(i int) string {
		return fmt.Sprintf("127.0.%d.%d,26379,%040x,0,mymaster,127.0.0.1,6379,0", i/256, i%256, i+1)
	}
	for i := range monitor.MaxSentinels + 5 {
		s.Hello(t0, hello(i))
	}
	out := s.Drain()
	if n := countEvents(out, "+sentinel"); n != monitor.MaxSentinels {
		t.Fatalf("%d +sentinel, want %d", n, monitor.MaxSentinels)
	}
	if n := countEvents(out, "-max-sentinels-reached"); n != 1 {
		t.Fatalf("%d warnings, want 1", n)
	}
	// A known sentinel's hellos still count.
	s.Hello(t0.Add(1), hello(0))
	if si := s.masters[0].sentinelByID(fmt.Sprintf("%040x", 1)); si == nil || !si.lastHello.Equal(t0.Add(1)) {
		t.Fatal("a known sentinel's hello was ignored")
	}
	if strings.Contains(strings.Join(eventTypes(s.Drain()), " "), "max") {
		t.Fatal("warned again")
	}
}

func TestReplyOverLimitWarns(t *testing.T) {
	s := newTestState(t)
	key := s.masters[0].inst.linkKey()
	s.Observe(t0, monitor.Observation{Key: key, Kind: monitor.ObsConnected})
	s.Drain()
	err := fmt.Errorf("bulk string of 9223372036854775807 bytes is over the limit: %w", monitor.ErrReplyLimit)
	s.Observe(t0, monitor.Observation{Key: key, Kind: monitor.ObsDisconnected, Err: err, OverLimit: true})
	if out := s.Drain(); !hasEvent(out, "-reply-over-limit", "master mymaster 127.0.0.1 6379 "+err.Error()) {
		t.Fatalf("events: %v", out.Events)
	}
	s.Observe(t0, monitor.Observation{Key: key, Kind: monitor.ObsDisconnected, Err: err})
	if out := s.Drain(); hasEvent(out, "-reply-over-limit", "") {
		t.Fatal("warned without OverLimit")
	}
}
