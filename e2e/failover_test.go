package e2e

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// TestFailoverPromotesByPriorityThenOffset kills the master of three
// replicas with offsets stale < behind < current and priorities 10, 10 and
// 50: "behind" must win (priority before offset, then offset). The others
// follow it, clients and config files move to it, and the old master
// rejoins as its replica.
func TestFailoverPromotesByPriorityThenOffset(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 90*time.Second, cluster.Options{
		Replicas: 3, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
		ReplicaConf: [][]string{{"replica-priority 10"}, {"replica-priority 10"}, {"replica-priority 50"}},
	})
	old, stale, best, current := g.topo.Master, g.topo.Replicas[0], g.topo.Replicas[1], g.topo.Replicas[2]
	client := g.failoverClient()
	if err := client.Set(g.ctx, "e2e:before", "1", 0).Err(); err != nil {
		t.Fatalf("write before the failover: %v", err)
	}
	g.stallReplication(stale)
	behindFrom := g.writeBatch(old, 2)
	g.stallReplication(best)
	currentFrom := g.writeBatch(old, 1)
	// Sentinels must see the offsets before the kill: INFO every 200 ms.
	g.debugTimers("info-period", 200)
	g.waitFor(10*time.Second, "sentinels see the three offsets", g.offsetsSeen(map[*cluster.Redis][2]int64{
		stale:   {0, behindFrom},
		best:    {behindFrom, currentFrom},
		current: {currentFrom, math.MaxInt64},
	}))

	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	sel := g.waitEvent(electionWait, "+selected-slave", on(-1, "+selected-slave", ""))
	// Let the stalled replicas follow whoever won. The failover kills
	// their normal clients, ours included: retry on a new connection.
	for _, r := range []*cluster.Redis{stale, best} {
		g.waitFor(5*time.Second, "clear masterauth", func(ctx context.Context) error {
			return r.Client().ConfigSet(ctx, "masterauth", "").Err()
		})
	}
	if !on(-1, "+selected-slave", replicaRef(best.Port))(sel) {
		t.Fatalf("+selected-slave %q, want %s (priority first, then offset)", sel.Payload, best.Addr())
	}
	newRef := fmt.Sprintf("%s 127.0.0.1 %d 127.0.0.1 %d", masterName, old.Port, best.Port)
	var last time.Time
	for i := range g.topo.Sentinels {
		ev := g.waitEvent(electionWait, fmt.Sprintf("sentinel %d: +switch-master", i), on(i, "+switch-master", ""))
		if ev.Payload != newRef {
			t.Fatalf("sentinel %d: +switch-master %q, want %q", i, ev.Payload, newRef)
		}
		t.Logf("sentinel %d: kill -> +switch-master %v", i, ev.At.Sub(killed).Round(time.Millisecond))
		if ev.At.After(last) {
			last = ev.At
		}
	}
	t.Logf("kill -> +switch-master on all sentinels: %v", last.Sub(killed).Round(time.Millisecond))

	g.waitFor(5*time.Second, "promoted replica is master", hasRole(best, "master"))
	g.waitFor(5*time.Second, "sentinels name the new master", g.masterAddrIs(best.Addr()))
	g.waitFor(20*time.Second, "priority-50 replica follows", replicates(current, best))
	g.waitFor(20*time.Second, "stale replica follows", replicates(stale, best))
	g.waitFor(10*time.Second, "go-redis writes after the failover", func(ctx context.Context) error {
		return client.Set(ctx, "e2e:after", "1", 0).Err()
	})
	if v, err := best.Client().Get(g.ctx, "e2e:after").Result(); err != nil || v != "1" {
		t.Errorf("new master has e2e:after = %q, %v; the client wrote elsewhere", v, err)
	}
	g.waitFor(5*time.Second, "config files name the new master", g.configsName(best.Addr()))

	if err := old.Restart(g.ctx); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	g.waitFor(20*time.Second, "old master becomes a replica of the new one", replicaOfPort(old, best.Port))
	rejoin := time.Since(restarted)
	t.Logf("old master restart -> role:slave of the new master: %v", rejoin.Round(time.Millisecond))
	if rejoin > 2*time.Second {
		t.Errorf("old master converted %v after its restart, want within 2s", rejoin.Round(time.Millisecond))
	}
	g.waitFor(20*time.Second, "old master link up", replicates(old, best))
}

// stallReplication stops r applying its master's stream while its links
// to the sentinels stay healthy: it can no longer authenticate to the
// master.
func (g *group) stallReplication(r *cluster.Redis) {
	g.t.Helper()
	if err := r.Client().ConfigSet(g.ctx, "masterauth", "e2e-wrong-password").Err(); err != nil {
		g.t.Fatal(err)
	}
	if err := r.Client().ClientKillByFilter(g.ctx, "TYPE", "master").Err(); err != nil {
		g.t.Fatal(err)
	}
}

// writeBatch writes to master until that many replicas acknowledged it and
// returns the lowest offset of a replica that received any of it.
func (g *group) writeBatch(master *cluster.Redis, replicas int) int64 {
	g.t.Helper()
	f, err := replication(g.ctx, master)
	if err != nil {
		g.t.Fatal(err)
	}
	from, err := strconv.ParseInt(f["master_repl_offset"], 10, 64)
	if err != nil {
		g.t.Fatalf("redis %s: master_repl_offset: %v", master.Addr(), err)
	}
	for i := range 50 {
		// A replica whose replication was just stalled fences the master
		// until the sentinels lower the requirement (docs/fencing.md).
		g.waitFor(10*time.Second, "write to the master", func(ctx context.Context) error {
			return master.Client().Set(ctx, fmt.Sprintf("e2e:k%d", i), from, 0).Err()
		})
	}
	if n, err := master.Client().Wait(g.ctx, replicas, 5*time.Second).Result(); err != nil || n < int64(replicas) {
		g.t.Fatalf("WAIT %d = %d, %v", replicas, n, err)
	}
	return from + 1
}

// offsetsSeen checks that every sentinel sees each replica's offset within
// its [low, high) bounds, none of them s_down.
func (g *group) offsetsSeen(bounds map[*cluster.Redis][2]int64) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for _, s := range g.topo.Sentinels {
			replicas, err := s.Client().Replicas(ctx, masterName).Result()
			if err != nil {
				return fmt.Errorf("sentinel %s: replicas: %w", s.Addr(), err)
			}
			offsets := map[string]int64{}
			for _, r := range replicas {
				if strings.Contains(r["flags"], "s_down") {
					return fmt.Errorf("sentinel %s: replica %s is %s", s.Addr(), r["name"], r["flags"])
				}
				if offsets[r["name"]], err = strconv.ParseInt(r["slave-repl-offset"], 10, 64); err != nil {
					return fmt.Errorf("sentinel %s: replica %s: slave-repl-offset: %w", s.Addr(), r["name"], err)
				}
			}
			for r, b := range bounds {
				if off, ok := offsets[r.Addr()]; !ok || off < b[0] || off >= b[1] {
					return fmt.Errorf("sentinel %s: replica %s at offset %d (known %v), want in [%d, %d)", s.Addr(), r.Addr(), off, ok, b[0], b[1])
				}
			}
		}
		return nil
	}
}

// configsName checks every sentinel's config file monitors addr.
func (g *group) configsName(addr string) func(context.Context) error {
	return func(context.Context) error {
		for _, s := range g.topo.Sentinels {
			saved, err := readSaved(s.ConfPath)
			if err != nil {
				return err
			}
			if saved.master != addr {
				return fmt.Errorf("sentinel %s: config monitors %s, want %s", s.Addr(), saved.master, addr)
			}
		}
		return nil
	}
}

// replicaOfPort checks r reports role:slave of the master on port, link up
// or not.
func replicaOfPort(r *cluster.Redis, port int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		f, err := replication(ctx, r)
		if err != nil {
			return err
		}
		if f["role"] != "slave" || f["master_port"] != strconv.Itoa(port) {
			return fmt.Errorf("redis %s: role %s of port %q, want replica of %d", r.Addr(), f["role"], f["master_port"], port)
		}
		return nil
	}
}

// TestPriorityZeroReplicaIsNeverPromoted: of two replicas the one with
// replica-priority 0 is never selected; it follows the other.
func TestPriorityZeroReplicaIsNeverPromoted(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 60*time.Second, cluster.Options{
		Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
		ReplicaConf: [][]string{{"replica-priority 0"}},
	})
	old, never, other := g.topo.Master, g.topo.Replicas[0], g.topo.Replicas[1]
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s 127.0.0.1 %d 127.0.0.1 %d", masterName, old.Port, other.Port)
	for i := range g.topo.Sentinels {
		if ev := g.waitEvent(electionWait, fmt.Sprintf("sentinel %d: +switch-master", i), on(i, "+switch-master", "")); ev.Payload != want {
			t.Fatalf("sentinel %d: +switch-master %q, want %q", i, ev.Payload, want)
		}
	}
	if n := g.count(on(-1, "+selected-slave", replicaRef(never.Port))); n != 0 {
		t.Errorf("the priority-0 replica was selected %d times", n)
	}
	g.waitFor(20*time.Second, "priority-0 replica follows the new master", replicates(never, other))
}

// TestNoEligibleReplicaAbortsFailover: when every replica has priority 0
// the leader publishes -failover-abort-no-good-slave and promotes nobody.
func TestNoEligibleReplicaAbortsFailover(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 60*time.Second, cluster.Options{
		Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
		ReplicaConf: [][]string{{"replica-priority 0"}, {"replica-priority 0"}},
	})
	old := g.topo.Master
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	ev := g.waitEvent(electionWait, "-failover-abort-no-good-slave", on(-1, "-failover-abort-no-good-slave", masterRef(old.Port)))
	t.Logf("kill -> -failover-abort-no-good-slave %v", ev.At.Sub(killed).Round(time.Millisecond))
	g.expectNone(3*downAfter, "a promotion without an eligible replica", func(ev cluster.Event) bool {
		return ev.Channel == "+selected-slave" || ev.Channel == "+promoted-slave" || ev.Channel == "+switch-master"
	})
	for _, r := range g.topo.Replicas {
		if err := hasRole(r, "slave")(g.ctx); err != nil {
			t.Error(err)
		}
	}
	if err := g.masterAddrIs(old.Addr())(g.ctx); err != nil {
		t.Error(err)
	}
}

// TestSentinelKilledMidFailoverDoesNotVoteTwice kills a sentinel that just
// voted in the election a peer won. Restarted, it converges on the new
// master and its persisted leader-epoch is the failover epoch, with a
// single vote for that epoch in its log.
func TestSentinelKilledMidFailoverDoesNotVoteTwice(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 90*time.Second, cluster.Options{
		Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
	})
	old := g.topo.Master
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	won := g.waitEvent(electionWait, "+elected-leader", on(-1, "+elected-leader", masterRef(old.Port)))
	leader := won.Sentinel
	var epoch uint64
	for e, who := range g.leadersByEpoch(old.Port) {
		if len(who) == 1 && who[0] == leader {
			epoch = e
		}
	}
	if epoch == 0 {
		t.Fatalf("sentinel %d elected without a recorded vote for itself", leader)
	}
	voted := g.waitEvent(5*time.Second, fmt.Sprintf("another sentinel's vote in epoch %d", epoch), func(ev cluster.Event) bool {
		return ev.Sentinel != leader && ev.Channel == "+vote-for-leader" && epochOf(ev) == epoch
	})
	v := g.topo.Sentinels[voted.Sentinel]
	if err := v.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("sentinel %d led epoch %d; killed sentinel %d after its vote %q", leader, epoch, voted.Sentinel, voted.Payload)

	sw := g.waitEvent(electionWait, "+switch-master from the leader", on(leader, "+switch-master", switchRef(old.Port)))
	f := strings.Fields(sw.Payload)
	newAddr := net.JoinHostPort(f[3], f[4])
	if err := v.Restart(g.ctx); err != nil {
		t.Fatal(err)
	}
	g.waitFor(15*time.Second, "restarted sentinel names the new master", func(ctx context.Context) error {
		addr, err := v.Client().GetMasterAddrByName(ctx, masterName).Result()
		if err != nil || len(addr) != 2 || net.JoinHostPort(addr[0], addr[1]) != newAddr {
			return fmt.Errorf("restarted sentinel names %v, %v; want %s", addr, err, newAddr)
		}
		return nil
	})
	g.waitFor(5*time.Second, "restarted sentinel's config", func(context.Context) error {
		saved, err := readSaved(v.ConfPath)
		if err != nil {
			return err
		}
		if saved.master != newAddr || saved.configEpoch != epoch || saved.leaderEpoch != epoch {
			return fmt.Errorf("config monitors %s, config-epoch %d, leader-epoch %d; want %s and epoch %d for both",
				saved.master, saved.configEpoch, saved.leaderEpoch, newAddr, epoch)
		}
		return nil
	})

	// Another candidate asking for the same epoch must get the old answer;
	// asking for the next epoch is the control that the request is served.
	candidate := strings.Repeat("e", 40)
	host, port, _ := net.SplitHostPort(newAddr)
	for _, ask := range []struct {
		epoch uint64
		grant bool
	}{{epoch, false}, {epoch + 1, true}} {
		reply, err := sentinelDo(g.ctx, v.Client(), "is-master-down-by-addr", host, port, ask.epoch, candidate).Slice()
		if err != nil || len(reply) != 3 {
			t.Fatalf("is-master-down-by-addr in epoch %d = %v, %v", ask.epoch, reply, err)
		}
		if granted := reply[1] == candidate; granted != ask.grant {
			t.Errorf("vote request for epoch %d from a new candidate: reply %v, want vote granted %v", ask.epoch, reply, ask.grant)
		}
	}
	for e, want := range map[uint64]int{epoch: 1, epoch + 1: 1} {
		votes, err := votesInLog(v.LogPath, e)
		if err != nil {
			t.Fatal(err)
		}
		if votes != want {
			t.Errorf("sentinel %d logged %d votes in epoch %d, want %d", voted.Sentinel, votes, e, want)
		}
	}
}

var (
	ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")
	voteLine   = regexp.MustCompile(`\s[0-9a-f]{40} (\d+)\s+event=\+vote-for-leader\b`)
)

// votesInLog counts the +vote-for-leader events for epoch in a daemon log,
// which spans every start of that sentinel.
func votesInLog(path string, epoch uint64) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read sentinel log: %w", err)
	}
	n := 0
	for line := range strings.Lines(ansiEscape.ReplaceAllString(string(b), "")) {
		if m := voteLine.FindStringSubmatch(line); m != nil && m[1] == strconv.FormatUint(epoch, 10) {
			n++
		}
	}
	return n, nil
}

// TestManualFailoverLosesNoAcknowledgedWrite runs SENTINEL FAILOVER on a
// healthy group while a go-redis client increments a counter: every
// acknowledged INCR survives on the new master, the values it returned
// never go back, and the old master ends up a replica.
func TestManualFailoverLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 60*time.Second, cluster.Options{
		Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
	})
	old := g.topo.Master
	w := startWriter(t, g.failoverClient())
	g.waitFor(5*time.Second, "writes before the switchover", w.ackedAtLeast(20))

	if err := g.topo.Sentinels[0].Client().Failover(g.ctx, masterName).Err(); err != nil {
		t.Fatalf("sentinel failover: %v", err)
	}
	asked := time.Now()
	var promoted *cluster.Redis
	for i := range g.topo.Sentinels {
		ev := g.waitEvent(20*time.Second, fmt.Sprintf("sentinel %d: +switch-master", i), on(i, "+switch-master", switchRef(old.Port)))
		f := strings.Fields(ev.Payload)
		if promoted = g.topo.Instance(net.JoinHostPort(f[3], f[4])); promoted == nil || promoted == old {
			t.Fatalf("sentinel %d: +switch-master %q names no former replica", i, ev.Payload)
		}
		t.Logf("sentinel %d: SENTINEL FAILOVER -> +switch-master %v", i, ev.At.Sub(asked).Round(time.Millisecond))
	}
	g.waitFor(10*time.Second, "new master", hasRole(promoted, "master"))
	g.waitFor(10*time.Second, "old master replicates the new one", replicates(old, promoted))
	g.waitFor(10*time.Second, "writes after the switchover", w.ackedAtLeast(w.acked.Load()+20))

	w.stop()
	final, err := promoted.Client().Get(g.ctx, "e2e:counter").Int64()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writes acknowledged, %d failed, longest gap between acknowledgements %v; counter %d",
		w.acked.Load(), w.failed, w.maxGap.Round(time.Millisecond), final)
	if final < w.acked.Load() {
		t.Errorf("counter on the new master is %d, but %d increments were acknowledged", final, w.acked.Load())
	}
	for _, r := range w.regressions {
		t.Errorf("acknowledged value went back: %s", r)
	}
}

// writer increments e2e:counter in a loop through a failover client.
// acked is read while it runs; the other fields only after stop.
type writer struct {
	cancel context.CancelFunc
	done   chan struct{}
	acked  atomic.Int64

	failed      int
	regressions []string
	maxGap      time.Duration
}

func startWriter(t *testing.T, c *redis.Client) *writer {
	ctx, cancel := context.WithCancel(t.Context())
	w := &writer{cancel: cancel, done: make(chan struct{})}
	t.Cleanup(w.stop)
	go func() {
		defer close(w.done)
		var last int64
		lastAck := time.Now()
		for ctx.Err() == nil {
			v, err := c.Incr(ctx, "e2e:counter").Result()
			if err != nil {
				w.failed++
				// The client fails fast while no master is known.
				select {
				case <-ctx.Done():
				case <-time.After(10 * time.Millisecond):
				}
				continue
			}
			if v <= last {
				w.regressions = append(w.regressions, fmt.Sprintf("INCR returned %d after %d", v, last))
			}
			last = v
			w.maxGap = max(w.maxGap, time.Since(lastAck))
			lastAck = time.Now()
			w.acked.Add(1)
		}
	}()
	return w
}

// stop ends the loop and waits for it; it is idempotent.
func (w *writer) stop() {
	w.cancel()
	<-w.done
}

func (w *writer) ackedAtLeast(n int64) func(context.Context) error {
	return func(context.Context) error {
		if got := w.acked.Load(); got < n {
			return fmt.Errorf("%d writes acknowledged, want %d", got, n)
		}
		return nil
	}
}
