package core

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// reloads renders the state's config and parses it again, as a restart
// would: a config the sentinel wrote must always load.
func reloads(t *testing.T, s *State) *config.Config {
	t.Helper()
	data := config.Render(nil, s.Config())
	c, err := config.Parse("/tmp/sentinel.conf", data)
	if err != nil {
		t.Fatalf("the saved config does not load: %v\n%s", err, data)
	}
	return c
}

// TestHostileHellosAreIgnored replays the hellos of the attack reports
// (port 99999, not-an-ip, an empty IP as a real redis-sentinel with
// announce-ip "" sends) and other malformed fields: Redis ignores them, and
// so does the core, over pub/sub and over gossip; nothing is saved.
func TestHostileHellosAreIgnored(t *testing.T) {
	b := strings.Repeat("b", 40)
	good := []string{"127.0.0.2", "26380", b, "1", "mymaster", "127.0.0.1", "6379", "0"}
	bad := []struct {
		field int
		value string
	}{
		{0, ""}, {0, "not-an-ip"}, {0, "fe80::1%eth0"}, {0, "host.example"},
		{1, "99999"}, {1, "0"}, {1, "-1"}, {1, "x"},
		{2, "short"}, {2, strings.Repeat("z", 40)},
		{3, "18446744073709551615"}, {3, "9223372036854775808"}, {3, "-1"},
		{4, strings.Repeat("m", 300)},
		{5, "not-an-ip"}, {5, ""}, {6, "99999"}, {6, "0"},
		{7, "18446744073709551615"},
	}
	for _, tc := range bad {
		for _, viaGossip := range []bool{false, true} {
			s := newTestState(t)
			s.Hello(t0, strings.Join(good, ",")) // b is known, epoch 1
			s.Drain()
			fields := append([]string(nil), good...)
			fields[tc.field] = tc.value
			fields[7] = "5" // a config epoch that would switch the master
			if tc.field == 7 {
				fields[7] = tc.value
			}
			fields[5], fields[6] = "10.9.9.9", "7000"
			if tc.field == 5 || tc.field == 6 {
				fields[tc.field] = tc.value
			}
			payload := strings.Join(fields, ",")
			if viaGossip {
				s.HandlePeer(t0, peer.Hello{Payload: payload})
			} else {
				s.Hello(t0, payload)
			}
			out := s.Drain()
			if len(out.Rejected) != 1 || out.MustSave() || len(out.Events) != 0 {
				t.Fatalf("hello %q (gossip %v): rejected %v, persist %v, events %v", payload, viaGossip,
					out.Rejected, out.MustSave(), out.Events)
			}
			snap := s.Snapshot(func(string) int { return 0 })
			m := snap.Master("mymaster")
			if m.AddrHost != "127.0.0.1" || m.AddrPort != 6379 || len(m.Sentinels) != 1 || snap.CurrentEpoch != 1 {
				t.Fatalf("hello %q changed the state: master %s:%d, %d sentinels, epoch %d", payload,
					m.AddrHost, m.AddrPort, len(m.Sentinels), snap.CurrentEpoch)
			}
			if snap.Rejected[RejectHello] != 1 {
				t.Fatalf("rejected counts %v", snap.Rejected)
			}
			reloads(t, s)
		}
	}
}

// TestHostnameHelloNeedsResolveHostnames: a hostname is valid only when
// resolve-hostnames allows it, as in Redis.
func TestHostnameHelloNeedsResolveHostnames(t *testing.T) {
	s := newTestState(t)
	s.opts.ResolveHostnames = true
	b := strings.Repeat("b", 40)
	s.Hello(t0, "sentinel-2.example,26380,"+b+",1,mymaster,127.0.0.1,6379,0")
	if out := s.Drain(); len(out.Rejected) != 0 || !hasEvent(out, "+sentinel", "") {
		t.Fatalf("hostname hello with resolve-hostnames: %v %v", out.Rejected, out.Events)
	}
	if c := reloads(t, s); c.Masters[0].KnownSentinels[0].Host != "sentinel-2.example" {
		t.Fatalf("known sentinel %v", c.Masters[0].KnownSentinels)
	}
}

// TestVoteRequestBeyondEpochCapIsRefused: a VoteRequest with epoch 2^64-1
// used to be saved, wrapping the next epoch to 0 and aborting every later
// failover. It is refused over both transports and nothing is persisted.
func TestVoteRequestBeyondEpochCapIsRefused(t *testing.T) {
	b := strings.Repeat("b", 40)
	for _, epoch := range []uint64{math.MaxUint64, 1 << 63} {
		s := newTestState(t)
		s.Hello(t0, "127.0.0.2,26380,"+b+",0,mymaster,127.0.0.1,6379,0")
		s.Drain()
		_, leader, le := s.IsMasterDownByAddr(t0, "127.0.0.1", 6379, epoch, b)
		out := s.Drain()
		if leader != "" || le != 0 || out.MustSave() || s.CurrentEpoch() != 0 || len(out.Rejected) != 1 {
			t.Fatalf("IS-MASTER-DOWN-BY-ADDR epoch %d: leader %q %d, persist %v, epoch %d, rejected %v",
				epoch, leader, le, out.MustSave(), s.CurrentEpoch(), out.Rejected)
		}
		s.HandlePeer(t0, peer.VoteRequest{From: b, Master: "mymaster", MasterIP: "127.0.0.1", MasterPort: 6379,
			Epoch: epoch, Candidate: b})
		out = s.Drain()
		if out.MustSave() || s.CurrentEpoch() != 0 || len(out.Peers) != 0 || len(out.Rejected) != 1 {
			t.Fatalf("gossip VoteRequest epoch %d: persist %v, epoch %d, replies %v", epoch, out.MustSave(),
				s.CurrentEpoch(), out.Peers)
		}
		if c := reloads(t, s); c.CurrentEpoch != 0 || c.Masters[0].LeaderEpoch != 0 {
			t.Fatalf("saved epochs %d/%d", c.CurrentEpoch, c.Masters[0].LeaderEpoch)
		}
	}
	// The cap itself is a valid epoch; beyond it no election starts and
	// nothing wraps.
	s := newTestState(t)
	s.Hello(t0, "127.0.0.2,26380,"+b+","+strconv.FormatUint(math.MaxInt64, 10)+",mymaster,127.0.0.1,6379,0")
	s.Drain()
	if s.CurrentEpoch() != math.MaxInt64 {
		t.Fatalf("epoch %d", s.CurrentEpoch())
	}
	s.startFailover(s.master("mymaster"))
	if s.CurrentEpoch() != math.MaxInt64 || s.master("mymaster").failoverState != foNone {
		t.Fatalf("an election started past the cap: epoch %d", s.CurrentEpoch())
	}
	reloads(t, s)
}

// TestVoteRequestForAnotherCandidateIsRefused: a peer asks votes only for
// itself.
func TestVoteRequestForAnotherCandidateIsRefused(t *testing.T) {
	s := newTestState(t)
	b, c := strings.Repeat("b", 40), strings.Repeat("c", 40)
	s.Hello(t0, "127.0.0.2,26380,"+b+",0,mymaster,127.0.0.1,6379,0")
	s.Drain()
	s.HandlePeer(t0, peer.VoteRequest{From: b, Master: "mymaster", MasterIP: "127.0.0.1", MasterPort: 6379, Epoch: 3, Candidate: c})
	if out := s.Drain(); out.MustSave() || len(out.Peers) != 0 || len(out.Rejected) != 1 {
		t.Fatalf("persist %v, replies %v, rejected %v", out.MustSave(), out.Peers, out.Rejected)
	}
}

// TestForgedVoteReplyDoesNotCount: a vote reply counts only from a known
// sentinel that this one asked, and only for the epoch it asked in. A forged
// reply can neither mark the master down nor elect anyone.
func TestForgedVoteReplyDoesNotCount(t *testing.T) {
	s := newTestState(t)
	me, b, c := s.opts.MyID, strings.Repeat("b", 40), strings.Repeat("c", 40)
	s.Hello(t0, "127.0.0.2,26380,"+b+",0,mymaster,127.0.0.1,6379,0")
	s.Hello(t0, "127.0.0.3,26381,"+c+",0,mymaster,127.0.0.1,6379,0")
	s.Drain()
	m := s.master("mymaster")

	// Unasked: dropped, the opinion too.
	s.HandlePeer(t0, peer.VoteReply{From: b, Master: "mymaster", Down: true, Leader: me, LeaderEpoch: 1})
	if out := s.Drain(); len(out.Rejected) != 1 || m.sentinelByID(b).masterDown {
		t.Fatalf("unasked reply: rejected %v, master_down %v", out.Rejected, m.sentinelByID(b).masterDown)
	}
	// From a stranger: ignored.
	stranger := strings.Repeat("d", 40)
	s.HandlePeer(t0, peer.VoteReply{From: stranger, Master: "mymaster", Down: true, Leader: me, LeaderEpoch: 1})
	s.Drain()

	// A real candidacy in epoch 1: a reply for an older epoch, or from a
	// stranger, does not count; the asked peer's reply does.
	m.inst.sdownSince, m.inst.odownSince = t0, t0
	s.gossipPeers[b], s.gossipPeers[c] = true, true
	s.startFailover(m)
	s.Drain()
	s.HandlePeer(t0, peer.VoteReply{From: stranger, Master: "mymaster", Down: true, Leader: me, LeaderEpoch: 1})
	s.HandlePeer(t0, peer.VoteReply{From: b, Master: "mymaster", Down: true, Leader: me, LeaderEpoch: 0})
	if _, ok := m.candidacy.Leader(m.known(), m.quorum); ok {
		t.Fatal("a stranger's or an old epoch's reply elected this sentinel")
	}
	s.HandlePeer(t0, peer.VoteReply{From: b, Master: "mymaster", Down: true, Leader: me, LeaderEpoch: 1})
	if leader, ok := m.candidacy.Leader(m.known(), m.quorum); !ok || leader != me {
		t.Fatalf("the asked peer's vote did not count: %q %v", leader, ok)
	}
}

// TestHostileInfoIsBounded: INFO fields from a monitored instance are
// checked: bad replica addresses and run ids are dropped, the replica count
// is capped, and the config still loads.
func TestHostileInfoIsBounded(t *testing.T) {
	s := newTestState(t)
	key := s.master("mymaster").inst.linkKey()
	info := &monitor.Info{Role: "master", RunID: "not-a-run-id"}
	for _, bad := range []monitor.ReplicaEntry{{IP: "not-an-ip", Port: 6380}, {IP: "", Port: 6380},
		{IP: "10.0.0.9", Port: 99999}, {IP: "10.0.0.9", Port: 0}} {
		info.Replicas = append(info.Replicas, bad)
	}
	for i := 0; i < monitor.MaxReplicas+50; i++ {
		info.Replicas = append(info.Replicas, monitor.ReplicaEntry{IP: "10.1." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250), Port: 6379})
	}
	s.Observe(t0, monitor.Observation{Key: key, Kind: monitor.ObsInfo, Info: info})
	out := s.Drain()
	if got := len(s.master("mymaster").replicas); got != monitor.MaxReplicas {
		t.Fatalf("%d replicas kept, want the cap %d", got, monitor.MaxReplicas)
	}
	if countEvents(out, "-max-replicas-reached") != 1 {
		t.Fatalf("no warning for the replicas over the cap: %v", eventTypes(out)[monitor.MaxReplicas:])
	}
	if len(out.Rejected) != 5 || s.master("mymaster").inst.runID != "" {
		t.Fatalf("rejected %d inputs (%v), run id %q", len(out.Rejected), out.Rejected[:min(len(out.Rejected), 8)],
			s.master("mymaster").inst.runID)
	}
	if c := reloads(t, s); len(c.Masters[0].KnownReplicas) != monitor.MaxReplicas {
		t.Fatalf("%d known replicas saved", len(c.Masters[0].KnownReplicas))
	}
}

// TestCommandArgumentsAreValidated: MONITOR, CONFIG SET announce-ip and
// DEBUG refuse what would break a saved config or overflow.
func TestCommandArgumentsAreValidated(t *testing.T) {
	s := newTestState(t)
	for _, tc := range []struct {
		name, host string
		port       int
		want       string
	}{
		{"a", "not-an-ip", 6379, "ERR Invalid IP address or hostname specified"},
		{"a", "", 6379, "ERR Invalid IP address or hostname specified"},
		{"a", "10.0.0.1", 0, "ERR Invalid port number."},
		{"a", "10.0.0.1", 65536, "ERR Invalid port number."},
		{"a b", "10.0.0.1", 6379, "ERR Invalid master name."},
		{"a,b", "10.0.0.1", 6379, "ERR Invalid master name."},
	} {
		if err := s.Monitor(t0, tc.name, tc.host, tc.port, 1); err == nil || err.Error() != tc.want {
			t.Errorf("MONITOR %q %q %d: %v, want %s", tc.name, tc.host, tc.port, err, tc.want)
		}
	}
	if err := s.ConfigSet(t0, "announce-ip", "not an ip"); err == nil {
		t.Error("announce-ip with a space accepted")
	}
	if err := s.ConfigSet(t0, "announce-ip", "10.0.0.7"); err != nil {
		t.Error(err)
	}
	before := s.Timers().InfoPeriod
	for _, v := range []string{"9223372036854775807", "9223372036855", "0", "-5", "x"} {
		err := s.Debug([]string{"info-period", v})
		if err == nil || err.Error() != "ERR Invalid argument '"+v+"' for SENTINEL DEBUG 'info-period'" {
			t.Errorf("DEBUG info-period %s: %v", v, err)
		}
	}
	if s.Timers().InfoPeriod != before {
		t.Fatalf("info-period changed to %v", s.Timers().InfoPeriod)
	}
	if err := s.Debug([]string{"info-period", "9223372036854"}); err != nil || s.Timers().InfoPeriod != 9223372036854*time.Millisecond {
		t.Fatalf("largest info-period: %v %v", err, s.Timers().InfoPeriod)
	}
	// A tunable nothing would apply is refused, not silently kept.
	if err := s.Debug([]string{"min-link-reconnect-period", "100"}); err == nil {
		t.Fatal("DEBUG min-link-reconnect-period accepted although no link uses it")
	}
	reloads(t, s)
}

func TestValidHostname(t *testing.T) {
	for h, want := range map[string]bool{
		"a": true, "redis-1.svc.cluster.local": true, "A1-b2": true, strings.Repeat("a", 63): true,
		"": false, "-a": false, "a-": false, "a..b": false, ".a": false, "a_b": false, "a b": false,
		strings.Repeat("a", 64): false, strings.Repeat("a.", 127) + "a": false, "a.": false,
	} {
		if got := validHostname(h); got != want {
			t.Errorf("validHostname(%q) = %v, want %v", h, got, want)
		}
	}
}

// TestSimHostileInputNeverSaved drives a failover while hostile hellos,
// vote requests and vote replies arrive at random sentinels: the failover
// still happens, no sentinel follows a forged address or epoch, and every
// sentinel's config loads again.
func TestSimHostileInputNeverSaved(t *testing.T) {
	hostile := []func(victim, known string) peer.Message{
		func(_, known string) peer.Message {
			return peer.Hello{Payload: "127.0.0.9,99999," + known + ",1,mymaster,10.6.6.6,6379,999"}
		},
		func(_, known string) peer.Message {
			return peer.Hello{Payload: "not-an-ip,26379," + known + ",1,mymaster,10.6.6.6,6379,999"}
		},
		func(_, known string) peer.Message {
			return peer.Hello{Payload: "," + "26379," + known + ",1,mymaster,,6379,999"}
		},
		func(_, known string) peer.Message {
			return peer.VoteRequest{From: known, Master: "mymaster", MasterIP: "10.0.0.1", MasterPort: 6379,
				Epoch: math.MaxUint64, Candidate: known}
		},
		func(victim, known string) peer.Message {
			return peer.VoteReply{From: known, Master: "mymaster", Down: true, Leader: victim, LeaderEpoch: math.MaxUint64}
		},
	}
	for seed := int64(1); seed <= 20; seed++ {
		w := newWorld(t, seed, 3, 2, 2)
		w.idle(3 * time.Second)
		w.redis["10.0.0.1:6379"].Alive = false
		for i := 0; i < 3000; i++ {
			if i%10 == 0 {
				victim := w.nodes[w.rng.Intn(3)]
				known := w.nodes[(w.rng.Intn(2)+1+indexOf(w, victim))%3].id
				victim.st.HandlePeer(w.now, hostile[w.rng.Intn(len(hostile))](victim.id, known))
				victim.st.Hello(w.now, "127.0.0.9,0,"+known+",18446744073709551615,mymaster,10.6.6.6,6379,999")
				w.drain(victim)
			}
			w.step(time.Millisecond)
		}
		w.checkOneLeaderPerEpoch(seed)
		if len(w.events("+elected-leader")) != 1 {
			t.Fatalf("seed %d: %d leaders", seed, len(w.events("+elected-leader")))
		}
		for _, n := range w.nodes {
			c := reloads(t, n.st)
			if c.CurrentEpoch > 10 || c.Masters[0].Host == "10.6.6.6" {
				t.Fatalf("seed %d: %s saved epoch %d, master %s", seed, n.id, c.CurrentEpoch, c.Masters[0].Host)
			}
		}
	}
}

func indexOf(w *world, n *simNode) int {
	for i, x := range w.nodes {
		if x == n {
			return i
		}
	}
	return -1
}

// TestSetValuesThatWouldNotLoadAreRefused: SENTINEL SET values that overflow
// a duration or a 32-bit count are refused, so the saved config loads.
func TestSetValuesThatWouldNotLoadAreRefused(t *testing.T) {
	s := newTestState(t)
	for _, args := range [][]string{
		{"down-after-milliseconds", "9223372036854775807"},
		{"failover-timeout", "9223372036855"},
		{"master-reboot-down-after-period", "9223372036854775807"},
		{"quorum", "2147483648"},
		{"parallel-syncs", "9223372036854775807"},
	} {
		if err := s.Set(t0, "mymaster", args); err == nil {
			t.Errorf("SET %v accepted", args)
		}
	}
	if err := s.Set(t0, "mymaster", []string{"down-after-milliseconds", "9223372036854", "quorum", "2147483647"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Monitor(t0, "big", "10.0.0.1", 6379, math.MaxInt32+1); err == nil {
		t.Error("MONITOR with a quorum beyond 32 bits accepted")
	}
	if c := reloads(t, s); c.Masters[0].DownAfter != 9223372036854*time.Millisecond || c.Masters[0].Quorum != math.MaxInt32 {
		t.Fatalf("reloaded %v %d", c.Masters[0].DownAfter, c.Masters[0].Quorum)
	}
}
