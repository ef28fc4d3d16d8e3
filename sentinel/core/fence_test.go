package core

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

func TestFenceTarget(t *testing.T) {
	cases := []struct {
		name                string
		cur, healthy, known int
		majority            bool
		want                int
		change              bool
	}{
		{"replicas healthy", 2, 2, 2, true, 2, false},
		{"a replica joined", 1, 2, 2, false, 2, true},
		{"first replica online", 0, 1, 1, false, 1, true},
		{"one replica down, majority heard", 2, 1, 2, true, 1, true},
		{"one replica down, majority not heard", 2, 1, 2, false, 2, false},
		{"all replicas down: stays fenced", 2, 0, 2, true, 1, true},
		{"all replicas down, already at 1", 1, 0, 2, true, 1, false},
		{"cut off with the master", 2, 0, 2, false, 2, false},
		{"no replica known at all", 1, 0, 0, true, 0, true},
	}
	for _, tc := range cases {
		n, change := fenceTarget(tc.cur, tc.healthy, tc.known, tc.majority)
		if n != tc.want || change != tc.change {
			t.Errorf("%s: got %d %v, want %d %v", tc.name, n, change, tc.want, tc.change)
		}
	}
}

func TestFenceLag(t *testing.T) {
	for da, want := range map[time.Duration]int{
		500 * time.Millisecond: 1, time.Second: 1, 3 * time.Second: 2, 5500 * time.Millisecond: 4, 30 * time.Second: 29,
	} {
		if got := fenceLag(da); got != want {
			t.Errorf("down-after %v: lag %d, want %d", da, got, want)
		}
	}
}

// fakeNode is a Redis instance or a peer sentinel of the rig.
type fakeNode struct {
	role            string // "master", "slave"; "" for a sentinel
	master          string
	toWrite, maxLag int
	silent          bool // partitioned or stopped: no replies, the TCP link stays up
	gone            bool // killed: no replies, and the master no longer lists it
	detached        bool // replication broken: answers, but the master no longer lists it
	lagging         bool // cut from the master only: answers, listed online with a growing lag
	noConfig        bool // CONFIG renamed away
}

// fenceRig drives one sentinel against fake instances, with a fake clock;
// every request is answered at once unless its target is silent.
type fenceRig struct {
	t      *testing.T
	s      *State
	now    time.Time
	nodes  map[string]*fakeNode
	links  map[string]monitor.LinkSpec
	up     map[string]bool
	sets   []string // CONFIG SETs and SLAVEOFs seen, "addr param value"
	events []string // event types
	peers  []string
}

const (
	rigMaster = "10.0.0.1:6379"
	rigR1     = "10.0.0.2:6379"
	rigR2     = "10.0.0.3:6379"
	rigS2     = "10.0.1.2:26379"
	rigS3     = "10.0.1.3:26379"
)

// newFenceRig: a master with its own settings orig, two replicas, this
// sentinel and two peers, run until settled.
func newFenceRig(t *testing.T, orig fenceSettings, fenceOff bool) *fenceRig {
	cfg := config.Default()
	mc := config.NewMaster("mymaster", "10.0.0.1", 6379, 2)
	mc.DownAfter = 3 * time.Second
	mc.NoFenceWrites = fenceOff
	cfg.Masters = []*config.Master{mc}
	r := &fenceRig{t: t, now: t0, links: map[string]monitor.LinkSpec{}, up: map[string]bool{},
		nodes: map[string]*fakeNode{
			rigMaster: {role: "master", toWrite: orig.toWrite, maxLag: orig.maxLag},
			rigR1:     {role: "slave", master: rigMaster, maxLag: 10},
			rigR2:     {role: "slave", master: rigMaster, maxLag: 10},
			rigS2:     {},
			rigS3:     {},
		}}
	r.s = fromConfig(Options{Port: 26379, Timers: view.DefaultTimers()}, runID("s", 1), cfg, r.now)
	for k, a := range []string{rigS2, rigS3} {
		id := runID("s", k+2)
		r.peers = append(r.peers, id)
		host, port, _ := strings.Cut(a, ":")
		r.s.Hello(r.now, host+","+port+","+id+",0,mymaster,10.0.0.1,6379,0")
	}
	r.drain()
	r.run(10 * time.Second)
	return r
}

func (r *fenceRig) drain() {
	for {
		out := r.s.Drain()
		for _, e := range out.Events {
			r.events = append(r.events, e.Channel())
		}
		if out.LinksChanged {
			r.links = map[string]monitor.LinkSpec{}
			for _, sp := range r.s.Links("rig") {
				r.links[sp.Key] = sp
			}
		}
		if len(out.Requests) == 0 && !out.LinksChanged {
			return
		}
		for _, lr := range out.Requests {
			r.execute(lr)
		}
	}
}

func (r *fenceRig) execute(lr LinkRequest) {
	sp, ok := r.links[lr.Key]
	n := r.nodes[sp.Addr]
	if !ok || !r.up[lr.Key] || n == nil || n.silent || n.gone {
		return
	}
	o := monitor.Observation{Key: lr.Key, At: r.now, Request: lr.Req, Kind: monitor.ObsReply, OK: true}
	switch req := lr.Req.(type) {
	case monitor.Ping:
		o.Kind, o.Reply = monitor.ObsPingReply, "PONG"
	case monitor.InfoRequest:
		o.Kind, o.Info = monitor.ObsInfo, r.info(sp.Addr)
	case monitor.SlaveOf:
		n.role, n.master = "slave", addr(req.Host, req.Port)
		r.sets = append(r.sets, sp.Addr+" slaveof "+n.master)
	case monitor.ConfigGet, monitor.ConfigSet:
		if n.noConfig {
			o.OK, o.Reply = false, "ERR unknown command 'CONFIG'"
			break
		}
		r.config(sp.Addr, n, lr.Req, &o)
	case monitor.Hello:
	default:
		return
	}
	r.s.Observe(r.now, o)
}

// config answers CONFIG GET in o or applies CONFIG SET.
func (r *fenceRig) config(a string, n *fakeNode, req monitor.Request, o *monitor.Observation) {
	switch req := req.(type) {
	case monitor.ConfigGet:
		o.Reply = strconv.Itoa(n.toWrite)
		if req.Param == paramMaxLag {
			o.Reply = strconv.Itoa(n.maxLag)
		}
	case monitor.ConfigSet:
		v, _ := strconv.Atoi(req.Value)
		if req.Param == paramToWrite {
			n.toWrite = v
		} else {
			n.maxLag = v
		}
		r.sets = append(r.sets, a+" "+req.Param+" "+req.Value)
	}
}

// info: a master lists its replicas online while their TCP link is up,
// silent or not, as Redis does until repl-timeout.
func (r *fenceRig) info(a string) *monitor.Info {
	n := r.nodes[a]
	info := &monitor.Info{RunID: "run-" + a, Role: n.role, SlavePriority: 100, ReplicaAnnounced: true}
	for _, ra := range []string{rigMaster, rigR1, rigR2} {
		if x := r.nodes[ra]; x.role == "slave" && x.master == a && !x.gone && !x.detached {
			host, port, _ := strings.Cut(ra, ":")
			p, _ := strconv.Atoi(port)
			e := monitor.ReplicaEntry{IP: host, Port: p, State: "online"}
			if x.lagging {
				e.Lag = 60
			}
			info.Replicas = append(info.Replicas, e)
		}
	}
	if n.role == "slave" {
		host, port, _ := strings.Cut(n.master, ":")
		info.MasterHost = host
		info.MasterPort, _ = strconv.Atoi(port)
		info.MasterLinkUp = true
	}
	return info
}

// run advances the clock in 50 ms steps; links connect as soon as the
// sentinel asks for them (a silent node keeps its connection).
func (r *fenceRig) run(d time.Duration) {
	for end := r.now.Add(d); r.now.Before(end); {
		r.now = r.now.Add(50 * time.Millisecond)
		for k := range r.links {
			if !r.up[k] {
				r.up[k] = true
				r.s.Observe(r.now, monitor.Observation{Key: k, Kind: monitor.ObsConnected, At: r.now})
				r.drain()
			}
		}
		r.s.Tick(r.now)
		r.drain()
	}
}

func (r *fenceRig) settings(a string) fenceSettings {
	return fenceSettings{toWrite: r.nodes[a].toWrite, maxLag: r.nodes[a].maxLag}
}

func (r *fenceRig) silence(on bool, addrs ...string) {
	for _, a := range addrs {
		r.nodes[a].silent = on
	}
}

// wantMaster fails unless the master holds want.
func (r *fenceRig) wantMaster(want fenceSettings, when string) {
	r.t.Helper()
	if got := r.settings(rigMaster); got != want {
		r.t.Fatalf("%s: master has %+v, want %+v (sets %v)", when, got, want, r.sets)
	}
}

var fenced2 = fenceSettings{toWrite: 2, maxLag: 2} // two replicas, down-after 3 s

func TestFenceTopologies(t *testing.T) {
	t.Run("replicas healthy", func(t *testing.T) {
		r := newFenceRig(t, redisDefaults, false)
		r.wantMaster(fenced2, "settled")
	})
	t.Run("one replica SDOWN: lowered, not fenced by it", func(t *testing.T) {
		r := newFenceRig(t, redisDefaults, false)
		r.silence(true, rigR1)
		r.run(5 * time.Second)
		r.wantMaster(fenceSettings{toWrite: 1, maxLag: 2}, "replica down")
		r.run(25 * time.Second) // stale reads of the old value must not make it set again
		if n := strings.Count(strings.Join(r.sets, "\n"), paramToWrite+" 1"); n != 1 {
			t.Fatalf("lowered %d times, want once: %v", n, r.sets)
		}
		r.silence(false, rigR1)
		r.run(fenceSettle / 2)
		r.wantMaster(fenceSettings{toWrite: 1, maxLag: 2}, "replica back but not settled")
		r.run(12 * time.Second) // the next master INFO after the settle time
		r.wantMaster(fenced2, "replica settled")
	})
	t.Run("all replicas cut: stays fenced until one is back", func(t *testing.T) {
		r := newFenceRig(t, redisDefaults, false)
		r.silence(true, rigR1, rigR2)
		r.run(20 * time.Second)
		r.wantMaster(fenceSettings{toWrite: 1, maxLag: 2}, "every replica down")
		r.silence(false, rigR1, rigR2)
		r.run(12 * time.Second)
		r.wantMaster(fenced2, "replicas back")
	})
	t.Run("replication of a replica broken: lowered within seconds", func(t *testing.T) {
		r := newFenceRig(t, redisDefaults, false)
		r.run(3 * time.Second) // mid-way through an INFO period
		r.nodes[rigR1].detached = true
		r.run(2500 * time.Millisecond) // a master INFO (every second while fenced), a round of PINGs
		r.wantMaster(fenceSettings{toWrite: 1, maxLag: 2}, "replica detached")
	})
	t.Run("replica cut from the master only: lowered within seconds", func(t *testing.T) {
		r := newFenceRig(t, redisDefaults, false)
		r.run(3 * time.Second)
		r.nodes[rigR1].lagging = true
		r.run(2500 * time.Millisecond)
		r.wantMaster(fenceSettings{toWrite: 1, maxLag: 2}, "replica lagging")
	})
	t.Run("all replicas killed: SENTINEL RESET unfences", func(t *testing.T) {
		r := newFenceRig(t, redisDefaults, false)
		r.nodes[rigR1].gone, r.nodes[rigR2].gone = true, true
		r.run(20 * time.Second)
		r.wantMaster(fenceSettings{toWrite: 1, maxLag: 2}, "every replica killed")
		if n := r.s.Reset(r.now, "mymaster"); n != 1 {
			t.Fatalf("reset %d masters", n)
		}
		r.drain()
		r.run(2 * time.Second)
		r.wantMaster(fenceSettings{toWrite: 0, maxLag: 2}, "reset with no replica attached")
	})
	t.Run("cut off with the master: never lowered", func(t *testing.T) {
		r := newFenceRig(t, redisDefaults, false)
		r.silence(true, rigR1, rigR2, rigS2, rigS3)
		r.run(30 * time.Second)
		r.wantMaster(fenced2, "minority side")
		r.silence(false, rigR1, rigR2, rigS2, rigS3)
		r.run(15 * time.Second)
		r.wantMaster(fenced2, "healed")
	})
	t.Run("sentinels split, master and replicas fine: no change", func(t *testing.T) {
		r := newFenceRig(t, redisDefaults, false)
		before := len(r.sets)
		r.silence(true, rigS2, rigS3)
		r.run(30 * time.Second)
		if len(r.sets) != before {
			t.Fatalf("sets while only sentinels were cut: %v", r.sets[before:])
		}
		r.wantMaster(fenced2, "sentinels split")
	})
}

func TestFenceSwitchOffRestores(t *testing.T) {
	own := fenceSettings{toWrite: 1, maxLag: 7}
	r := newFenceRig(t, own, false)
	r.wantMaster(fenced2, "fenced")
	if err := r.s.Set(r.now, "mymaster", []string{"fence-writes", "no"}); err != nil {
		t.Fatal(err)
	}
	if !r.s.Config().Masters[0].NoFenceWrites {
		t.Fatal("fence-writes no not in the config")
	}
	r.run(time.Second)
	r.wantMaster(own, "switched off")
	before := len(r.sets)
	r.run(30 * time.Second)
	if len(r.sets) != before {
		t.Fatalf("sets with fencing off: %v", r.sets[before:])
	}
	if err := r.s.Set(r.now, "mymaster", []string{"fence-writes", "maybe"}); err == nil {
		t.Fatal("fence-writes maybe accepted")
	}
	_ = r.s.Set(r.now, "mymaster", []string{"fence-writes", "yes"})
	r.run(11 * time.Second)
	r.wantMaster(fenced2, "switched on again")
}

func TestFenceRefusedConfigIsReportedOnce(t *testing.T) {
	r := newFenceRig(t, redisDefaults, true)
	r.nodes[rigMaster].noConfig = true
	_ = r.s.Set(r.now, "mymaster", []string{"fence-writes", "yes"})
	r.run(30 * time.Second)
	n := 0
	for _, e := range r.events {
		if e == "-fence-failed" {
			n++
		}
	}
	if n != 1 || len(r.sets) != 0 {
		t.Fatalf("-fence-failed %d times (want 1), sets %v", n, r.sets)
	}
}

func TestFenceOffFromTheStartTouchesNothing(t *testing.T) {
	r := newFenceRig(t, redisDefaults, true)
	r.run(20 * time.Second)
	if len(r.sets) != 0 {
		t.Fatalf("sets with fence-writes no: %v", r.sets)
	}
}

// A sentinel that first meets an already fenced master (another sentinel,
// or itself before a restart) restores Redis' defaults.
func TestFenceReadFencedAssumesDefaults(t *testing.T) {
	for _, seen := range []fenceSettings{fenced2, {toWrite: 0, maxLag: 2}} { // whole, or read between the two SETs
		r := newFenceRig(t, seen, false)
		_ = r.s.Set(r.now, "mymaster", []string{"fence-writes", "no"})
		r.run(time.Second)
		r.wantMaster(redisDefaults, "restored")
	}
}

func TestFenceRemoveRestoresThenClosesTheLink(t *testing.T) {
	own := fenceSettings{toWrite: 0, maxLag: 9}
	r := newFenceRig(t, own, false)
	r.wantMaster(fenced2, "fenced")
	if err := r.s.Remove(r.now, "mymaster"); err != nil {
		t.Fatal(err)
	}
	r.drain()
	r.wantMaster(own, "removed")
	if len(r.links) != 1 {
		t.Fatalf("links after remove: %v, want only the master's until restored", r.links)
	}
	r.run(retireGrace + time.Second)
	if len(r.links) != 0 {
		t.Fatalf("links still open after the grace: %v", r.links)
	}
}

// After a failover the old master gets its own settings once it is a
// replica; the promoted one is fenced as the new master.
func TestFenceFollowsAFailover(t *testing.T) {
	own := fenceSettings{toWrite: 0, maxLag: 10}
	r := newFenceRig(t, own, false)
	r.wantMaster(fenced2, "fenced")
	r.nodes[rigR1].role, r.nodes[rigR1].master = "master", ""
	r.nodes[rigR2].master = rigR1
	host, port, _ := strings.Cut(rigS2, ":")
	r.s.Hello(r.now, host+","+port+","+r.peers[0]+",1,mymaster,10.0.0.2,6379,1")
	r.drain()
	r.run(20 * time.Second)
	demoted, restored := -1, -1
	for k, x := range r.sets {
		switch x {
		case rigMaster + " slaveof " + rigR1:
			demoted = k
		case rigMaster + " " + paramToWrite + " 0":
			restored = k
		}
	}
	if demoted < 0 || restored < demoted {
		t.Fatalf("old master must be restored after its demotion: %v", r.sets)
	}
	r.wantMaster(own, "demoted")
	if got, want := r.settings(rigR1), (fenceSettings{toWrite: 2, maxLag: 2}); got != want {
		t.Fatalf("new master has %+v, want %+v (sets %v)", got, want, r.sets)
	}
}
