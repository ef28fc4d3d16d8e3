package core

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// podRig is one sentinel with resolve-hostnames watching "redis-0.test",
// whose names resolve through a map the test rewrites (a pod restarting).
type podRig struct {
	t     *testing.T
	s     *State
	names map[string]string
	now   time.Time
}

func newPodRig(t *testing.T, g view.Global, known ...config.KnownSentinel) *podRig {
	t.Helper()
	r := &podRig{t: t, names: map[string]string{"redis-0.test": "10.0.0.10", "redis-1.test": "10.0.0.11"}, now: t0}
	cfg := config.Default()
	cfg.ResolveHostnames, cfg.AnnounceHostnames = true, g.AnnounceHostnames
	cfg.AnnounceIP, cfg.AnnouncePort = g.AnnounceIP, g.AnnouncePort
	mc := config.NewMaster("mymaster", "redis-0.test", 6379, 2)
	mc.DownAfter = time.Second
	mc.KnownSentinels = known
	cfg.Masters = []*config.Master{mc}
	opts := Options{Port: 26379, Timers: view.DefaultTimers(),
		Resolve: func(h string) (string, bool) { ip, ok := r.names[h]; return ip, ok }}
	r.s = fromConfig(opts, strings.Repeat("a", 40), cfg, t0)
	r.s.Drain()
	return r
}

func (r *podRig) m() *master { return r.s.master("mymaster") }

func (r *podRig) observe(i *instance, o monitor.Observation) Ready {
	r.t.Helper()
	o.Key = i.linkKey()
	r.s.Observe(r.now, o)
	return r.s.Drain()
}

// connect reports a new connection of i's link that reached ip, and a PONG.
func (r *podRig) connect(i *instance, ip string) Ready {
	out := r.observe(i, monitor.Observation{Kind: monitor.ObsConnected, RemoteIP: ip, LocalIP: "10.0.9.9"})
	o := r.observe(i, monitor.Observation{Kind: monitor.ObsPingReply, OK: true, Reply: "PONG", Request: monitor.Ping{}})
	out.Events = append(out.Events, o.Events...)
	return out
}

// masterLists feeds an INFO of the master listing these replicas (ip field
// as the master reports it: replica-announce-ip, or the IP it sees).
func (r *podRig) masterLists(hosts ...string) Ready {
	info := &monitor.Info{Role: "master", RunID: strings.Repeat("0", 40)}
	for _, h := range hosts {
		info.Replicas = append(info.Replicas, monitor.ReplicaEntry{IP: h, Port: 6379})
	}
	return r.observe(r.m().inst, monitor.Observation{Kind: monitor.ObsInfo, Info: info, Request: monitor.InfoRequest{}})
}

func (r *podRig) tick(d time.Duration) Ready {
	r.now = r.now.Add(d)
	r.s.Tick(r.now)
	return r.s.Drain()
}

// replicas renders SENTINEL REPLICAS as name/ip/flags.
func (r *podRig) replicas() []string {
	var rs []string
	for _, x := range r.s.Snapshot(func(string) int { return 0 }).Master("mymaster").Replicas {
		rs = append(rs, x.Name+"/"+x.IP+"/"+x.Flags.String())
	}
	return rs
}

func (r *podRig) wantReplicas(when string, want ...string) {
	r.t.Helper()
	if got := r.replicas(); strings.Join(got, " ") != strings.Join(want, " ") {
		r.t.Fatalf("%s: replicas %v, want %v", when, got, want)
	}
}

// TestPodRestartKeepsTheReplica: a replica known by name that comes back
// under a new IP is the same entry, its IP follows the link's connection,
// and its s_down ends; INFO listing it by name or by its new IP adds no
// entry.
func TestPodRestartKeepsTheReplica(t *testing.T) {
	r := newPodRig(t, view.Global{})
	r.connect(r.m().inst, "10.0.0.10")
	if out := r.masterLists("redis-1.test"); !hasEvent(out, "+slave", "slave redis-1.test:6379 10.0.0.11 6379 @ mymaster 10.0.0.10 6379") {
		t.Fatalf("+slave: %v", out.Events)
	}
	rep := r.m().replicas[0]
	r.connect(rep, "10.0.0.11")
	r.wantReplicas("up", "redis-1.test:6379/10.0.0.11/slave")

	// The pod dies; its entry goes s_down.
	r.observe(rep, monitor.Observation{Kind: monitor.ObsDisconnected})
	r.tick(500 * time.Millisecond)
	r.connect(r.m().inst, "10.0.0.10")
	if out := r.tick(700 * time.Millisecond); !hasEvent(out, "+sdown", "slave redis-1.test:6379 10.0.0.11 6379 @ mymaster 10.0.0.10 6379") {
		t.Fatalf("no +sdown for the dead pod: %v", out.Events)
	}

	// It comes back elsewhere: the link dialled the name and reached the
	// new IP. The master lists it by name and, without announce, by IP.
	r.names["redis-1.test"] = "10.0.0.21"
	r.connect(rep, "10.0.0.21")
	if out := r.tick(10 * time.Millisecond); !hasEvent(out, "-sdown", "slave redis-1.test:6379 10.0.0.21 6379 @ mymaster 10.0.0.10 6379") {
		t.Fatalf("no -sdown at the new IP: %v", out.Events)
	}
	for _, listed := range []string{"redis-1.test", "10.0.0.21"} {
		if out := r.masterLists(listed); hasEvent(out, "+slave", "") {
			t.Fatalf("INFO listing %s added a replica: %v", listed, out.Events)
		}
	}
	r.wantReplicas("after the restart", "redis-1.test:6379/10.0.0.21/slave")
	if c := reloads(t, r.s); len(c.Masters[0].KnownReplicas) != 1 || c.Masters[0].KnownReplicas[0].Host != "redis-1.test" {
		t.Fatalf("saved replicas %v, want the name once", c.Masters[0].KnownReplicas)
	}
	if err := r.s.ConfigSet(r.now, "announce-hostnames", "yes"); err != nil {
		t.Fatal(err)
	}
	r.wantReplicas("announce-hostnames yes", "redis-1.test:6379/redis-1.test/slave")
}

// TestIPListedBeforeTheNameLedThere: INFO lists a restarted replica by its
// new IP before the link to its name has reconnected; once the name leads
// to that IP, the entry by IP is dropped and the name's entry stays.
func TestIPListedBeforeTheNameLedThere(t *testing.T) {
	r := newPodRig(t, view.Global{})
	r.connect(r.m().inst, "10.0.0.10")
	r.masterLists("redis-1.test")
	rep := r.m().replicas[0]
	r.connect(rep, "10.0.0.11")

	r.names["redis-1.test"] = "10.0.0.21"
	r.observe(rep, monitor.Observation{Kind: monitor.ObsDisconnected})
	r.masterLists("10.0.0.21")
	r.wantReplicas("listed by IP", "redis-1.test:6379/10.0.0.11/slave,disconnected", "10.0.0.21:6379/10.0.0.21/slave,disconnected")
	out := r.connect(rep, "10.0.0.21")
	if !out.LinksChanged || !out.MustSave() {
		t.Fatalf("dropping the entry by IP changed no link or saved nothing: %+v", out)
	}
	r.wantReplicas("the name reached the IP", "redis-1.test:6379/10.0.0.21/slave")
	if out := r.masterLists("10.0.0.21", "redis-1.test"); hasEvent(out, "+slave", "") {
		t.Fatalf("INFO re-added a replica: %v", out.Events)
	}
}

// TestNameAdoptedByAReplicaKnownByIP: a replica first listed by IP and then,
// with replica-announce-ip set, by a name that resolves to that IP is the
// same replica, now known by the name.
func TestNameAdoptedByAReplicaKnownByIP(t *testing.T) {
	r := newPodRig(t, view.Global{})
	r.connect(r.m().inst, "10.0.0.10")
	r.masterLists("10.0.0.11")
	rep := r.m().replicas[0]
	r.connect(rep, "10.0.0.11")
	rep.priority = 7 // something learned about it
	out := r.masterLists("redis-1.test")
	if hasEvent(out, "+slave", "") || !out.LinksChanged {
		t.Fatalf("the name added a replica or kept the link: %v", out.Events)
	}
	r.wantReplicas("named", "redis-1.test:6379/10.0.0.11/slave")
	if x := r.m().replicas[0]; x != rep || x.priority != 7 {
		t.Fatal("the replica lost its state when it took the name")
	}
}

// TestFailoverToANamedReplicaKeepsTheName: a peer's hello moving the master
// to the IP of a replica known by name makes the name the master's address,
// in replies, events and the client-reconfig-script's arguments.
func TestFailoverToANamedReplicaKeepsTheName(t *testing.T) {
	r := newPodRig(t, view.Global{AnnounceHostnames: true})
	r.connect(r.m().inst, "10.0.0.10")
	r.masterLists("redis-1.test")
	r.connect(r.m().replicas[0], "10.0.0.11")
	r.m().reconfigScript = "/bin/reconfig"
	b := strings.Repeat("b", 40)
	r.s.Hello(r.now, "10.0.1.2,26380,"+b+",1,mymaster,10.0.0.11,6379,1")
	out := r.s.Drain()
	if !hasEvent(out, "+switch-master", "mymaster redis-0.test 6379 redis-1.test 6379") {
		t.Fatalf("events: %v", out.Events)
	}
	if len(out.Scripts) != 1 || strings.Join(out.Scripts[0][1:], " ") != "mymaster observer start redis-0.test 6379 redis-1.test 6379" {
		t.Fatalf("client-reconfig-script %v, want the names", out.Scripts)
	}
	m := r.s.Snapshot(func(string) int { return 0 }).Master("mymaster")
	if m.AddrHost != "redis-1.test" {
		t.Fatalf("master address %s, want the name", m.AddrHost)
	}
	r.wantReplicas("after the switch", "redis-0.test:6379/redis-0.test/slave,disconnected")
}

// TestOwnAddressIsNeverAPeer: hellos with another run id at the address this
// sentinel announces (announce-ip, or the local address of its links) are
// its previous incarnation and add no peer (redis#2335); nor does a hello
// with its own run id at another address, a known-sentinel line at its own
// address, or a peer entry whose link leads back to this sentinel.
func TestOwnAddressIsNeverAPeer(t *testing.T) {
	old, b, c := strings.Repeat("0", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	sentinels := func(r *podRig) int { return len(r.m().sentinels) }

	nat := newPodRig(t, view.Global{AnnounceIP: "203.0.113.7", AnnouncePort: 30001},
		config.KnownSentinel{Host: "203.0.113.7", Port: 30001, RunID: old})
	if n := sentinels(nat); n != 0 {
		t.Fatalf("known-sentinel at the own announced address loaded: %d peers", n)
	}
	nat.s.Hello(t0, "203.0.113.7,30001,"+old+",0,mymaster,redis-0.test,6379,0")
	nat.s.Hello(t0, "198.51.100.1,26379,"+strings.Repeat("a", 40)+",0,mymaster,redis-0.test,6379,0")
	if n := sentinels(nat); n != 0 {
		t.Fatalf("own hellos added %d peers", n)
	}
	// The same IP with another port is another sentinel (one NAT, two ports).
	nat.s.Hello(t0, "203.0.113.7,30002,"+b+",0,mymaster,redis-0.test,6379,0")
	if n := sentinels(nat); n != 1 {
		t.Fatalf("a peer behind the same NAT: %d peers, want 1", n)
	}

	local := newPodRig(t, view.Global{})
	local.connect(local.m().inst, "10.0.0.10") // local address 10.0.9.9
	local.s.Hello(t0, "10.0.9.9,26379,"+old+",0,mymaster,redis-0.test,6379,0")
	if n := sentinels(local); n != 0 {
		t.Fatalf("a hello at the link's own address added %d peers", n)
	}
	local.s.Hello(t0, "10.0.9.9,26380,"+c+",0,mymaster,redis-0.test,6379,0")
	if n := sentinels(local); n != 1 {
		t.Fatalf("a peer on the same host: %d peers, want 1", n)
	}

	// A peer entry (say from a copied config) that leads back here.
	loop := newPodRig(t, view.Global{}, config.KnownSentinel{Host: "10.0.5.5", Port: 26379, RunID: old})
	si := loop.m().sentinels[0]
	out := loop.observe(si, monitor.Observation{Kind: monitor.ObsConnected, RemoteIP: "10.0.5.5", LocalIP: "10.0.5.5"})
	if n := sentinels(loop); n != 0 || !hasEvent(out, "+sentinel-invalid-addr", "") || !out.MustSave() {
		t.Fatalf("a peer link that reached this sentinel: %d peers, events %v", n, out.Events)
	}
	if len(out.Requests) != 0 {
		t.Fatalf("requests sent to itself: %v", out.Requests)
	}
}

// TestFencingCountsANamedReplicaListedByIP: the master's INFO lists a
// replica by the IP its name led to; fencing counts it as healthy.
func TestFencingCountsANamedReplicaListedByIP(t *testing.T) {
	r := newPodRig(t, view.Global{})
	r.connect(r.m().inst, "10.0.0.10")
	r.masterLists("redis-1.test")
	r.connect(r.m().replicas[0], "10.0.0.11")
	r.m().inst.info = &monitor.Info{Role: "master", Replicas: []monitor.ReplicaEntry{{IP: "10.0.0.11", Port: 6379, State: "online"}}}
	if n := r.s.healthyReplicas(r.m()); n != 1 {
		t.Fatalf("healthy replicas %d, want 1", n)
	}
}

// TestNoLookupsOverTheReplicaCap: once a master lists as many replicas as
// the cap, the names it lists beyond it are not looked up (each lookup
// blocks the loop).
func TestNoLookupsOverTheReplicaCap(t *testing.T) {
	r := newPodRig(t, view.Global{})
	lookups := 0
	r.s.opts.Resolve = func(string) (string, bool) { lookups++; return "", false }
	var ips, names []string
	for i := range monitor.MaxReplicas {
		ips = append(ips, fmt.Sprintf("10.1.%d.%d", i/256, i%256))
		names = append(names, fmt.Sprintf("pod-%d.test", i))
	}
	r.masterLists(ips...)
	r.masterLists(names...)
	if n := len(r.m().replicas); n != monitor.MaxReplicas || lookups != 0 {
		t.Fatalf("%d replicas, %d lookups over the cap", n, lookups)
	}
}
