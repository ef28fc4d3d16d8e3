package core

import (
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

var t0 = time.Unix(1_700_000_000, 0)

func newTestState(t *testing.T) *State {
	t.Helper()
	cfg := config.Default()
	mc := config.NewMaster("mymaster", "127.0.0.1", 6379, 2)
	mc.DownAfter = time.Second
	cfg.Masters = []*config.Master{mc}
	return fromConfig(Options{Port: 26379, Timers: view.DefaultTimers()}, strings.Repeat("a", 40), cfg, t0)
}

func eventTypes(out Ready) []string {
	var ts []string
	for _, e := range out.Events {
		ts = append(ts, e.Channel())
	}
	return ts
}

func hasEvent(out Ready, typ, msg string) bool {
	for _, e := range out.Events {
		if e.Channel() == typ && (msg == "" || e.Payload() == msg) {
			return true
		}
	}
	return false
}

// TestSDownAfterDownAfter: docs/behaviour.md §3.4 (a).
func TestSDownAfterDownAfter(t *testing.T) {
	s := newTestState(t)
	s.Drain()
	key := s.masters[0].inst.linkKey()
	s.Observe(t0, monitor.Observation{Key: key, Kind: monitor.ObsConnected})
	s.Observe(t0, monitor.Observation{Key: key, Kind: monitor.ObsPingReply, OK: true, Reply: "PONG", Request: monitor.Ping{}})
	s.Drain()
	s.Observe(t0.Add(10*time.Millisecond), monitor.Observation{Key: key, Kind: monitor.ObsDisconnected})
	s.Tick(t0.Add(900 * time.Millisecond))
	if out := s.Drain(); hasEvent(out, "+sdown", "") {
		t.Fatal("+sdown before down-after")
	}
	s.Tick(t0.Add(1100 * time.Millisecond))
	out := s.Drain()
	if !hasEvent(out, "+sdown", "master mymaster 127.0.0.1 6379") {
		t.Fatalf("no +sdown after down-after: %v", eventTypes(out))
	}
	// Quorum 2: one opinion is not enough.
	if hasEvent(out, "+odown", "") {
		t.Fatal("+odown with one sentinel of quorum 2")
	}
	s.Observe(t0.Add(1200*time.Millisecond), monitor.Observation{Key: key, Kind: monitor.ObsConnected})
	s.Observe(t0.Add(1210*time.Millisecond), monitor.Observation{Key: key, Kind: monitor.ObsPingReply, OK: true, Reply: "PONG", Request: monitor.Ping{}})
	s.Tick(t0.Add(1220 * time.Millisecond))
	if out := s.Drain(); !hasEvent(out, "-sdown", "") {
		t.Fatalf("no -sdown after a valid reply: %v", eventTypes(out))
	}
}

// TestODownNeedsFreshOpinions: a peer's opinion counts for 5 ask periods.
func TestODownNeedsFreshOpinions(t *testing.T) {
	s := newTestState(t)
	s.Hello(t0, "127.0.0.2,26380,"+strings.Repeat("b", 40)+",0,mymaster,127.0.0.1,6379,0")
	out := s.Drain()
	if !hasEvent(out, "+sentinel", "") || !out.MustSave() {
		t.Fatalf("a new sentinel from a hello must be added and persisted: %v", eventTypes(out))
	}
	s.HandlePeer(t0, peer.Opinion{From: strings.Repeat("b", 40), Master: "mymaster", Down: true})
	now := t0.Add(1500 * time.Millisecond)
	s.Tick(now)
	out = s.Drain()
	if !hasEvent(out, "+odown", "master mymaster 127.0.0.1 6379 #quorum 2/2") {
		t.Fatalf("want +odown #quorum 2/2: %v", out.Events)
	}
	for i := 0; i < 60; i++ {
		now = now.Add(100 * time.Millisecond)
		s.Tick(now)
	}
	if out := s.Drain(); !hasEvent(out, "-odown", "") {
		t.Fatalf("a stale opinion must not keep ODOWN: %v", eventTypes(out))
	}
}

// TestOpinionFromBeforeLastFailoverIgnored: an opinion whose epoch is older
// than the master's config epoch is about the old master (or a replay).
func TestOpinionFromBeforeLastFailoverIgnored(t *testing.T) {
	s := newTestState(t)
	b := strings.Repeat("b", 40)
	s.Hello(t0, "127.0.0.2,26380,"+b+",3,mymaster,127.0.0.1,6379,3")
	s.Drain()
	s.HandlePeer(t0, peer.Opinion{From: b, Master: "mymaster", Down: true, Epoch: 2})
	s.Tick(t0.Add(1500 * time.Millisecond))
	if out := s.Drain(); hasEvent(out, "+odown", "") {
		t.Fatalf("an opinion of epoch 2 counted after config epoch 3: %v", eventTypes(out))
	}
	s.HandlePeer(t0.Add(1500*time.Millisecond), peer.Opinion{From: b, Master: "mymaster", Down: true, Epoch: 3})
	s.Tick(t0.Add(1600 * time.Millisecond))
	if out := s.Drain(); !hasEvent(out, "+odown", "") {
		t.Fatalf("an opinion of the current epoch did not count: %v", eventTypes(out))
	}
}

// TestOneVotePerEpoch: docs/behaviour.md §3.5, first come first served, persisted.
func TestOneVotePerEpoch(t *testing.T) {
	s := newTestState(t)
	s.Drain()
	b, c := strings.Repeat("b", 40), strings.Repeat("c", 40)
	down, leader, epoch := s.IsMasterDownByAddr(t0, "127.0.0.1", 6379, 5, b)
	out := s.Drain()
	if down || leader != b || epoch != 5 || !out.MustSave() {
		t.Fatalf("first request: down=%v leader=%s epoch=%d persist=%v", down, leader, epoch, out.MustSave())
	}
	if !hasEvent(out, "+new-epoch", "5") || !hasEvent(out, "+vote-for-leader", b+" 5") {
		t.Fatalf("events: %v", out.Events)
	}
	_, leader, epoch = s.IsMasterDownByAddr(t0, "127.0.0.1", 6379, 5, c)
	if leader != b || epoch != 5 {
		t.Fatalf("second candidate in the same epoch got the vote: %s %d", leader, epoch)
	}
	if s.Config().Masters[0].LeaderEpoch != 5 || s.Config().CurrentEpoch != 5 {
		t.Fatal("vote not in the persisted config")
	}
	// Opinion-only requests change nothing.
	_, leader, epoch = s.IsMasterDownByAddr(t0, "127.0.0.1", 6379, 9, "*")
	if leader != "" || epoch != 0 || s.CurrentEpoch() != 5 {
		t.Fatalf("'*' request voted or raised the epoch: %s %d %d", leader, epoch, s.CurrentEpoch())
	}
}

func TestHelloAddressSwitchAndConfigUpdate(t *testing.T) {
	s := newTestState(t)
	b := strings.Repeat("b", 40)
	s.Hello(t0, "127.0.0.2,26380,"+b+",3,mymaster,127.0.0.1,6379,0")
	s.Drain()
	if s.CurrentEpoch() != 3 {
		t.Fatalf("epoch %d, want 3 from the hello", s.CurrentEpoch())
	}
	s.Hello(t0, "127.0.0.9,26380,"+b+",3,mymaster,127.0.0.1,6379,0")
	out := s.Drain()
	if !hasEvent(out, "+sentinel-address-switch", "master mymaster 127.0.0.1 6379 ip 127.0.0.9 port 26380 for "+b) {
		t.Fatalf("events: %v", out.Events)
	}
	// A newer config epoch moves the master; an equal one never does.
	s.Hello(t0, "127.0.0.9,26380,"+b+",3,mymaster,127.0.0.5,6380,0")
	if out := s.Drain(); hasEvent(out, "+switch-master", "") {
		t.Fatal("equal config epoch switched")
	}
	s.Hello(t0, "127.0.0.9,26380,"+b+",3,mymaster,127.0.0.5,6380,2")
	out = s.Drain()
	if !hasEvent(out, "+config-update-from", "sentinel "+b+" 127.0.0.9 26380 @ mymaster 127.0.0.1 6379") ||
		!hasEvent(out, "+switch-master", "mymaster 127.0.0.1 6379 127.0.0.5 6380") {
		t.Fatalf("events: %v", out.Events)
	}
	if !hasEvent(out, "+slave", "slave 127.0.0.1:6379 127.0.0.1 6379 @ mymaster 127.0.0.5 6380") {
		t.Fatalf("old master must be re-added as a replica: %v", out.Events)
	}
	snap := s.Snapshot(func(string) int { return 0 })
	if m := snap.Master("mymaster"); m.AddrHost != "127.0.0.5" || m.AddrPort != 6380 || m.ConfigEpoch != 2 {
		t.Fatalf("snapshot %s:%d epoch %d", m.AddrHost, m.AddrPort, m.ConfigEpoch)
	}
}

// TestReplicaSelection: docs/behaviour.md §5 exclusions and order.
func TestReplicaSelection(t *testing.T) {
	type rep struct {
		prio      int
		offset    int64
		runID     string
		down      bool
		gone      bool
		staleInfo bool
		linkDown  time.Duration
	}
	cases := []struct {
		name string
		reps []rep
		want string // chosen replica port, "" = none
		why  string // expected reason substring when none
	}{
		{"lowest priority wins", []rep{{prio: 100, offset: 9}, {prio: 10, offset: 1}}, "7001", ""},
		{"then highest offset", []rep{{prio: 100, offset: 5}, {prio: 100, offset: 9}}, "7001", ""},
		{"then smallest run id", []rep{{prio: 1, offset: 5, runID: "BBB"}, {prio: 1, offset: 5, runID: "aaa"}}, "7001", ""},
		{"missing run id last", []rep{{prio: 1, offset: 5}, {prio: 1, offset: 5, runID: "zzz"}}, "7001", ""},
		{"priority 0 never", []rep{{prio: 0, offset: 100}, {prio: 100, offset: 1}}, "7001", ""},
		{"sdown excluded", []rep{{prio: 1, down: true}, {prio: 100}}, "7001", ""},
		{"disconnected excluded", []rep{{prio: 1, gone: true}, {prio: 100}}, "7001", ""},
		{"stale info excluded", []rep{{prio: 1, staleInfo: true}, {prio: 100}}, "7001", ""},
		{"link down too long excluded", []rep{{prio: 1, linkDown: time.Hour}, {prio: 100}}, "7001", ""},
		{"none eligible", []rep{{prio: 0}, {prio: 1, gone: true}}, "", "7000=replica-priority-0,127.0.0.1:7001=disconnected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestState(t)
			now := t0.Add(time.Minute)
			s.now = now
			m := s.masters[0]
			for k, r := range c.reps {
				i, _ := s.addReplica(m, "127.0.0.1", 7000+k)
				i.connected = !r.gone
				i.lastAvail = now
				i.priority = r.prio
				i.replOffset = r.offset
				i.runID = r.runID
				i.infoRefresh = now
				if r.staleInfo {
					i.infoRefresh = now.Add(-time.Hour)
				}
				if r.down {
					i.sdownSince = now
				}
				i.masterLinkDownTime = r.linkDown
			}
			got, why := s.selectReplica(m)
			switch {
			case c.want == "" && got != nil:
				t.Fatalf("chose %s, want none", got.name)
			case c.want != "" && (got == nil || got.name != "127.0.0.1:"+c.want):
				t.Fatalf("chose %v (%s), want %s", got, why, c.want)
			case c.want == "" && !strings.Contains(why, c.why):
				t.Fatalf("reasons %q, want %q", why, c.why)
			}
		})
	}
}

func TestSetOptionsAndErrors(t *testing.T) {
	s := newTestState(t)
	s.opts.DenyScriptsReconfig = true
	err := s.Set(t0, "mymaster", []string{"quorum", "3", "down-after-milliseconds", "0"})
	if err == nil || err.Error() != "ERR Invalid argument '0' for SENTINEL SET 'down-after-milliseconds'" {
		t.Fatalf("err %v", err)
	}
	out := s.Drain()
	if s.masters[0].quorum != 3 || !out.MustSave() || !hasEvent(out, "+set", "master mymaster 127.0.0.1 6379 quorum 3") {
		t.Fatal("options before the bad one must stay applied and be flushed")
	}
	if err := s.Set(t0, "mymaster", []string{"notification-script", "/bin/true"}); err != ErrScriptsDeny {
		t.Fatalf("script reconfiguration must be refused by default: %v", err)
	}
	if err := s.Set(t0, "mymaster", []string{"auth-pass", "secret"}); err != nil {
		t.Fatal(err)
	}
	if out := s.Drain(); !hasEvent(out, "+set", "master mymaster 127.0.0.1 6379 auth-pass ******") {
		t.Fatalf("auth-pass must be masked: %v", out.Events)
	}
	if err := s.Set(t0, "mymaster", []string{"bogus", "1"}); err == nil ||
		err.Error() != "ERR Unknown option or number of arguments for SENTINEL SET 'bogus'" {
		t.Fatalf("err %v", err)
	}
	if err := s.Set(t0, "nope", []string{"quorum", "1"}); err != ErrNoSuchMaster {
		t.Fatalf("err %v", err)
	}
}

func TestMonitorRemoveReset(t *testing.T) {
	s := newTestState(t)
	if err := s.Monitor(t0, "mymaster", "127.0.0.1", 1, 1); err == nil || err.Error() != "ERR Duplicate master name." {
		t.Fatalf("err %v", err)
	}
	if err := s.Monitor(t0, "x", "not-an-ip", 1, 1); err == nil || err.Error() != "ERR Invalid IP address or hostname specified" {
		t.Fatalf("err %v", err)
	}
	if err := s.Monitor(t0, "other", "127.0.0.1", 7000, 2); err != nil {
		t.Fatal(err)
	}
	out := s.Drain()
	if !hasEvent(out, "+monitor", "master other 127.0.0.1 7000 quorum 2") || !out.MustSave() || !out.LinksChanged {
		t.Fatalf("monitor: %v", out)
	}
	if n := s.Reset(t0, "*"); n != 2 {
		t.Fatalf("reset %d masters, want 2", n)
	}
	if err := s.Remove(t0, "other"); err != nil {
		t.Fatal(err)
	}
	if len(s.Config().Masters) != 1 {
		t.Fatal("removed master still persisted")
	}
}

func TestTiltOnClockJump(t *testing.T) {
	s := newTestState(t)
	s.Tick(t0.Add(100 * time.Millisecond))
	s.Drain()
	s.Tick(t0.Add(5 * time.Second))
	if out := s.Drain(); !hasEvent(out, "+tilt", "#tilt mode entered") {
		t.Fatalf("no +tilt after a 5 s pause: %v", eventTypes(out))
	}
	down, _, _ := s.IsMasterDownByAddr(t0.Add(5*time.Second), "127.0.0.1", 6379, 0, "*")
	if down {
		t.Fatal("TILT answers down=0")
	}
	now := t0.Add(5 * time.Second)
	for i := 0; i < 400; i++ {
		now = now.Add(100 * time.Millisecond)
		s.Tick(now)
	}
	if out := s.Drain(); !hasEvent(out, "-tilt", "#tilt mode exited") {
		t.Fatal("TILT never exited")
	}
	if n := s.Snapshot(func(string) int { return 0 }).TotalTilt; n != 1 {
		t.Fatalf("TotalTilt %d after one TILT", n)
	}
}

func TestEventsLevels(t *testing.T) {
	s := newTestState(t)
	out := s.Drain()
	if len(out.Events) != 1 || out.Events[0].Channel() != "+monitor" || out.Events[0].Level != notify.LevelWarning {
		t.Fatalf("start-up events: %v", out.Events)
	}
}

// TestRebootedMasterIsDownUntilItAnswersPong: docs/behaviour.md §3.4 (c), with
// master-reboot-down-after-period set; LOADING does not count as PONG.
func TestRebootedMasterIsDownUntilItAnswersPong(t *testing.T) {
	s := newTestState(t)
	if err := s.Set(t0, "mymaster", []string{"master-reboot-down-after-period", "500"}); err != nil {
		t.Fatal(err)
	}
	key := s.masters[0].inst.linkKey()
	now := t0
	step := func(d time.Duration, o ...monitor.Observation) Ready {
		now = now.Add(d)
		for _, x := range o {
			x.Key = key
			s.Observe(now, x)
		}
		s.Tick(now)
		return s.Drain()
	}
	info := func(runID string) monitor.Observation {
		return monitor.Observation{Kind: monitor.ObsInfo, Request: monitor.InfoRequest{},
			Info: &monitor.Info{RunID: runID, Role: "master"}}
	}
	loading := monitor.Observation{Kind: monitor.ObsPingReply, OK: true, Reply: "LOADING Redis is loading", Request: monitor.Ping{}}
	step(0, monitor.Observation{Kind: monitor.ObsConnected}, info(strings.Repeat("1", 40)))
	out := step(100*time.Millisecond, info(strings.Repeat("2", 40)))
	if !hasEvent(out, "+reboot", "master mymaster 127.0.0.1 6379") {
		t.Fatalf("no +reboot on a new run id: %v", eventTypes(out))
	}
	for i := 0; i < 6; i++ {
		out = step(100*time.Millisecond, loading)
		if hasEvent(out, "+sdown", "") {
			break
		}
	}
	if !hasEvent(out, "+sdown", "master mymaster 127.0.0.1 6379") {
		t.Fatal("a rebooted master answering LOADING past the period must be SDOWN")
	}
	out = step(100*time.Millisecond, monitor.Observation{Kind: monitor.ObsPingReply, OK: true, Reply: "PONG", Request: monitor.Ping{}})
	if !hasEvent(out, "-sdown", "") {
		t.Fatalf("PONG must clear the reboot SDOWN: %v", eventTypes(out))
	}
}

// TestHellosOfManyGroupsDoNotFlap: a peer watching several groups with us
// is added once per group; its hellos for one group never move it in
// another (the address switch is per group, as in Redis).
func TestHellosOfManyGroupsDoNotFlap(t *testing.T) {
	s := newTestState(t)
	if err := s.Monitor(t0, "other", "127.0.0.1", 7000, 1); err != nil {
		t.Fatal(err)
	}
	s.Drain()
	b := strings.Repeat("b", 40)
	for i := 0; i < 3; i++ {
		s.Hello(t0, "127.0.0.2,26380,"+b+",0,mymaster,127.0.0.1,6379,0")
		s.Hello(t0, "127.0.0.2,26380,"+b+",0,other,127.0.0.1,7000,0")
	}
	out := s.Drain()
	if n := len(out.Events); n != 2 || !hasEvent(out, "+sentinel", "") || hasEvent(out, "+sentinel-address-switch", "") {
		t.Fatalf("want one +sentinel per group and nothing else: %v", out.Events)
	}
	links := 0
	for _, l := range s.Links("x") {
		if l.Kind == monitor.LinkSentinel {
			links++
		}
	}
	if links != 1 {
		t.Fatalf("%d links to one peer, want 1 shared", links)
	}
	peerLink := s.masters[0].sentinels[0].linkKey()
	s.Observe(t0, monitor.Observation{Key: peerLink, Kind: monitor.ObsConnected})
	s.Drain()
	pings := 0
	for i := 1; i <= 30; i++ {
		now := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		s.Tick(now)
		for _, r := range s.Drain().Requests {
			if _, ok := r.Req.(monitor.Ping); ok && r.Key == peerLink {
				pings++
				s.Observe(now, monitor.Observation{Key: peerLink, Kind: monitor.ObsPingReply, OK: true, Reply: "PONG", Request: r.Req})
			}
		}
	}
	if pings < 2 || pings > 3 {
		t.Fatalf("%d PINGs to the shared peer link in 3 s, want one a second", pings)
	}
}
