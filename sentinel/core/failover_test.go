package core

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// loneFailover is one sentinel (quorum 1, so it elects itself) watching a
// master with one replica, driven by hand on a fake clock.
type loneFailover struct {
	t       *testing.T
	s       *State
	now     time.Time
	replica string // the replica's link key
	role    string // what the replica's INFO says
}

func newLoneFailover(t *testing.T) *loneFailover {
	cfg := config.Default()
	mc := config.NewMaster("mymaster", "127.0.0.1", 6379, 1)
	mc.DownAfter = time.Second
	mc.FailoverTimeout = 10 * time.Second
	cfg.Masters = []*config.Master{mc}
	f := &loneFailover{t: t, now: t0, role: "slave",
		s: fromConfig(Options{Port: 26379, Timers: view.DefaultTimers()}, strings.Repeat("a", 40), cfg, t0)}
	m := f.s.masters[0]
	key := m.inst.linkKey()
	f.s.Observe(f.now, monitor.Observation{Key: key, Kind: monitor.ObsConnected})
	f.s.Observe(f.now, monitor.Observation{Key: key, Kind: monitor.ObsPingReply, OK: true, Reply: "PONG", Request: monitor.Ping{}})
	f.s.Observe(f.now, monitor.Observation{Key: key, Kind: monitor.ObsInfo, Info: &monitor.Info{
		RunID: strings.Repeat("b", 40), Role: "master",
		Replicas: []monitor.ReplicaEntry{{IP: "127.0.0.1", Port: 6380, State: "online", Offset: 100}}}})
	if len(m.replicas) != 1 {
		t.Fatalf("the master's INFO added %d replicas, want 1", len(m.replicas))
	}
	f.replica = m.replicas[0].linkKey()
	f.s.Observe(f.now, monitor.Observation{Key: f.replica, Kind: monitor.ObsConnected})
	f.s.Drain()
	return f
}

// advance moves the clock by d in 100 ms ticks, the replica answering its
// PINGs and INFOs, and returns the SLAVEOF requests sent to it.
func (f *loneFailover) advance(d time.Duration, connected bool) (slaveofs int, channels []string) {
	for end := f.now.Add(d); f.now.Before(end); {
		f.now = f.now.Add(100 * time.Millisecond)
		if connected {
			f.s.Observe(f.now, monitor.Observation{Key: f.replica, Kind: monitor.ObsPingReply, OK: true, Reply: "PONG", Request: monitor.Ping{}})
			f.s.Observe(f.now, monitor.Observation{Key: f.replica, Kind: monitor.ObsInfo, Request: monitor.InfoRequest{}, Info: f.info()})
		}
		f.s.Tick(f.now)
		out := f.s.Drain()
		channels = append(channels, eventTypes(out)...)
		for _, r := range out.Requests {
			if so, ok := r.Req.(monitor.SlaveOf); ok && r.Key == f.replica && so.Host == "" {
				slaveofs++
			}
		}
	}
	return slaveofs, channels
}

func (f *loneFailover) info() *monitor.Info {
	info := &monitor.Info{RunID: strings.Repeat("c", 40), Role: f.role, SlavePriority: 100, ReplicaAnnounced: true,
		SlaveReplOffset: 100}
	if f.role == "slave" {
		info.MasterHost, info.MasterPort = "127.0.0.1", 6379
		info.MasterLinkDownSince = time.Second
	}
	return info
}

// A link's queue goes with its connection: a SLAVEOF NO ONE queued just
// before the chosen replica's link dropped never reaches the replica. The
// leader must send it again once the link is back and the replica still
// reports role:slave, not wait out failover-timeout and then 2 × that
// before the next attempt (a drill saw no +promoted-slave within 11 s).
func TestSlaveofLostWithTheLinkIsSentAgain(t *testing.T) {
	f := newLoneFailover(t)
	f.advance(500*time.Millisecond, true)
	f.s.Observe(f.now, monitor.Observation{Key: f.s.masters[0].inst.linkKey(), Kind: monitor.ObsDisconnected})
	sent, channels := 0, []string(nil)
	for i := 0; i < 30 && sent == 0; i++ {
		var ch []string
		sent, ch = f.advance(100*time.Millisecond, true)
		channels = append(channels, ch...)
	}
	if sent != 1 || f.s.masters[0].failoverState != foWaitPromotion {
		t.Fatalf("no SLAVEOF NO ONE within 3 s of the master's loss (state %v): %v", f.s.masters[0].failoverState, channels)
	}
	// The request went down with the connection; the link comes back 250 ms
	// later and the replica is still a replica.
	f.s.Observe(f.now, monitor.Observation{Key: f.replica, Kind: monitor.ObsDisconnected})
	f.advance(200*time.Millisecond, false)
	f.s.Observe(f.now, monitor.Observation{Key: f.replica, Kind: monitor.ObsConnected})
	if again, ch := f.advance(500*time.Millisecond, true); again != 1 {
		t.Fatalf("SLAVEOF NO ONE sent %d times after the link came back, want 1: %v", again, ch)
	}
	f.role = "master"
	if _, ch := f.advance(200*time.Millisecond, true); !strings.Contains(strings.Join(ch, " "), "+promoted-slave") {
		t.Fatalf("no +promoted-slave once the replica reports role:master: %v", ch)
	}
	// Once sent on the new connection, it is not sent again.
	if again, _ := f.advance(time.Second, true); again != 0 {
		t.Fatalf("SLAVEOF NO ONE sent %d more times after the promotion", again)
	}
}

// A link that never dropped keeps its request: no second SLAVEOF, however
// long the replica takes to report its new role.
func TestSlaveofIsNotRepeatedOnAStableLink(t *testing.T) {
	f := newLoneFailover(t)
	f.advance(500*time.Millisecond, true)
	f.s.Observe(f.now, monitor.Observation{Key: f.s.masters[0].inst.linkKey(), Kind: monitor.ObsDisconnected})
	sent, _ := f.advance(3*time.Second, true)
	if sent != 1 {
		t.Fatalf("SLAVEOF NO ONE sent %d times, want 1", sent)
	}
	if again, _ := f.advance(3*time.Second, true); again != 0 {
		t.Fatalf("SLAVEOF NO ONE repeated %d times on a link that stayed up", again)
	}
}

// Sentinels that hold the master down together rank themselves the same
// way: one stands within half a step, the others a step apart, and a
// sentinel whose peers' opinions went stale ranks first on its own.
func TestCandidacyDelayRanksTheSentinelsThatHoldTheMasterDown(t *testing.T) {
	ids := []string{strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)}
	var delays []time.Duration
	for seed := int64(1); seed <= 50; seed++ {
		delays = delays[:0]
		for _, me := range ids {
			cfg := config.Default()
			cfg.Masters = []*config.Master{config.NewMaster("mymaster", "127.0.0.1", 6379, 2)}
			s := fromConfig(Options{Port: 26379, Timers: view.DefaultTimers(), Desync: CandidacyDelay, Seed: seed}, me, cfg, t0)
			m := s.masters[0]
			for i, id := range ids {
				if id != me {
					si := m.addSentinel(id, "127.0.0."+strconv.Itoa(i+1), 26379, t0, "")
					si.masterDown, si.masterDownReply = true, t0
				}
			}
			delays = append(delays, s.candidacyDelay(m))
			s.now = t0.Add(s.staleAfter() + time.Millisecond)
			if d := s.candidacyDelay(m); d > CandidacyDelay/2 {
				t.Fatalf("%s alone with stale opinions waits %v, want at most %v", me[:1], d, CandidacyDelay/2)
			}
		}
		sorted := slices.Sorted(slices.Values(delays))
		for rank, d := range sorted {
			lo := time.Duration(rank) * CandidacyDelay
			if d < lo || d > lo+CandidacyDelay/2 {
				t.Fatalf("seed %d: delays %v: rank %d waits %v, want [%v, %v]", seed, delays, rank, d, lo, lo+CandidacyDelay/2)
			}
		}
	}
}
