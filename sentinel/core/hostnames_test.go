package core

import (
	"strings"
	"testing"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// TestAnnounceHostnamesSwitchesBothWays: with resolve-hostnames, addresses
// given as names are reported as their IPs unless announce-hostnames is on,
// and SENTINEL CONFIG SET switches that at run time, both ways: replies,
// events, hellos and SLAVEOF follow (Redis' announceSentinelAddr). The
// config keeps the names.
func TestAnnounceHostnamesSwitchesBothWays(t *testing.T) {
	names := map[string]string{"redis-1.example": "10.0.0.1", "sentinel-2.example": "10.0.1.2"}
	cfg := config.Default()
	cfg.ResolveHostnames = true
	cfg.Masters = []*config.Master{config.NewMaster("mymaster", "redis-1.example", 6379, 2)}
	s := fromConfig(Options{Port: 26379, Timers: view.DefaultTimers(),
		Resolve: func(h string) (string, bool) { ip, ok := names[h]; return ip, ok }}, strings.Repeat("a", 40), cfg, t0)
	b := strings.Repeat("b", 40)
	s.Hello(t0, "sentinel-2.example,26380,"+b+",0,mymaster,redis-1.example,6379,0")
	s.Drain()

	addrs := func() (master, sentinel string) {
		m := s.Snapshot(func(string) int { return 0 }).Master("mymaster")
		return m.AddrHost + "/" + m.IP, m.Sentinels[0].IP
	}
	if m, si := addrs(); m != "10.0.0.1/10.0.0.1" || si != "10.0.1.2" {
		t.Fatalf("announce-hostnames no: master %s, sentinel %s, want IPs", m, si)
	}
	if p := s.helloPayload(s.master("mymaster"), ""); !strings.Contains(p, ",10.0.0.1,6379,") {
		t.Fatalf("hello %q, want the master's IP", p)
	}

	if err := s.ConfigSet(t0, "announce-hostnames", "yes"); err != nil {
		t.Fatal(err)
	}
	s.Drain()
	if m, si := addrs(); m != "redis-1.example/redis-1.example" || si != "sentinel-2.example" {
		t.Fatalf("announce-hostnames yes: master %s, sentinel %s, want names", m, si)
	}
	if p := s.helloPayload(s.master("mymaster"), ""); !strings.Contains(p, ",redis-1.example,6379,") {
		t.Fatalf("hello %q, want the master's name", p)
	}
	// A replica following the master by IP is not "misconfigured".
	key := s.master("mymaster").inst.linkKey()
	s.Observe(t0, monitor.Observation{Key: key, Kind: monitor.ObsInfo, Info: &monitor.Info{Role: "master",
		Replicas: []monitor.ReplicaEntry{{IP: "10.0.0.2", Port: 6379}}}})
	out := s.Drain()
	if !hasEvent(out, "+slave", "slave 10.0.0.2:6379 10.0.0.2 6379 @ mymaster redis-1.example 6379") {
		t.Fatalf("events with announce-hostnames yes: %v", out.Events)
	}
	r := s.master("mymaster").replicas[0]
	r.slaveMasterHost, r.slaveMasterPort = "10.0.0.1", 6379
	if !s.master("mymaster").inst.isAt(r.slaveMasterHost, r.slaveMasterPort) {
		t.Fatal("the master is not found by its IP")
	}

	if err := s.ConfigSet(t0, "announce-hostnames", "no"); err != nil {
		t.Fatal(err)
	}
	s.Drain()
	s.event(notify.LevelNotice, notify.KindSlave, s.master("mymaster").replicas[0], "")
	out = s.Drain()
	if !hasEvent(out, "+slave", "slave 10.0.0.2:6379 10.0.0.2 6379 @ mymaster 10.0.0.1 6379") {
		t.Fatalf("events with announce-hostnames no: %v", out.Events)
	}
	if m, si := addrs(); m != "10.0.0.1/10.0.0.1" || si != "10.0.1.2" {
		t.Fatalf("back to announce-hostnames no: master %s, sentinel %s, want IPs", m, si)
	}
	if c := reloads(t, s); c.Masters[0].Host != "redis-1.example" || c.Masters[0].KnownSentinels[0].Host != "sentinel-2.example" {
		t.Fatalf("config lost the names: %s %v", c.Masters[0].Host, c.Masters[0].KnownSentinels)
	}
}
