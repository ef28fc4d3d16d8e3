package e2e

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// TestMixedGroupWithRedisSentinelFailsOver runs a master, two replicas, two
// of our sentinels and one Debian redis-sentinel (quorum 2). Killing the
// master must end with all three naming the same promoted replica after
// exactly one +elected-leader in the failover epoch. Then one of ours and
// the new master are killed: the surviving pair, one of each
// implementation, must still elect a leader (majority of 3 known is 2, so
// the leader needs the other implementation's vote) and fail over again.
func TestMixedGroupWithRedisSentinelFailsOver(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("redis-sentinel"); err != nil {
		t.Skipf("redis-sentinel not installed: %v", err)
	}
	g := startMixedGroup(t, 120*time.Second)
	impl := func(i int) string {
		if g.topo.Sentinels[i].Command == cluster.DefaultSentinelCommand {
			return fmt.Sprintf("sentinel %d (redis-sentinel)", i)
		}
		return fmt.Sprintf("sentinel %d (ours)", i)
	}

	// Round 1: all three sentinels, the original master dies.
	old := g.topo.Master
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	formerReplicas := []string{g.topo.Replicas[0].Addr(), g.topo.Replicas[1].Addr()}
	var first string
	g.waitFor(15*time.Second, "round 1: all three sentinels name the same promoted replica", func(ctx context.Context) error {
		addr, err := g.agreedMaster(ctx, impl)
		if err != nil {
			return err
		}
		if !slices.Contains(formerReplicas, addr) {
			return fmt.Errorf("sentinels name %s, want one of the former replicas %v", addr, formerReplicas)
		}
		first = addr
		return nil
	})
	t.Logf("round 1: kill -> all three name %s: %v", first, time.Since(killed).Round(time.Millisecond))
	leader1, epoch1 := g.checkSingleLeader("round 1", old.Port, impl)
	t.Logf("round 1: %s elected in epoch %d", impl(leader1), epoch1)

	// Round 2: one of ours and the new master die; the pair left is one
	// of each implementation. Kill the round-1 leader if it was ours, so
	// the pair has not led yet.
	newMaster := g.topo.Instance(first)
	if newMaster == nil {
		t.Fatalf("no started instance listens on %s", first)
	}
	var rest *cluster.Redis
	for _, r := range g.topo.Replicas {
		if r != newMaster {
			rest = r
		}
	}
	g.waitFor(20*time.Second, "round 2 set-up: the other replica follows the new master", replicates(rest, newMaster))
	g.waitFor(10*time.Second, "round 2 set-up: every sentinel sees the replica healthy", g.replicaSeenHealthy(rest))
	victim := 0
	if g.topo.Sentinels[leader1].Command != cluster.DefaultSentinelCommand {
		victim = leader1
	}
	if err := g.topo.Sentinels[victim].Kill(); err != nil {
		t.Fatal(err)
	}
	if err := newMaster.Kill(); err != nil {
		t.Fatal(err)
	}
	killed = time.Now()
	t.Logf("round 2: killed %s and the master %s", impl(victim), first)
	var second string
	g.waitFor(electionWait, "round 2: the surviving pair names a new master", func(ctx context.Context) error {
		addr, err := g.agreedMaster(ctx, impl)
		if err != nil {
			return err
		}
		if addr == first || addr == old.Addr() {
			return fmt.Errorf("survivors name %s, a killed master", addr)
		}
		second = addr
		return nil
	})
	t.Logf("round 2: kill -> both survivors name %s: %v", second, time.Since(killed).Round(time.Millisecond))
	leader2, epoch2 := g.checkSingleLeader("round 2", newMaster.Port, impl)
	if leader2 == victim {
		t.Fatalf("round 2: the killed %s published +elected-leader", impl(victim))
	}
	if epoch2 <= epoch1 {
		t.Errorf("round 2 failover epoch %d, want above round 1's %d", epoch2, epoch1)
	}
	voter := 3 - victim - leader2 // the survivor that did not lead
	vote := g.waitEvent(5*time.Second, fmt.Sprintf("round 2: %s's vote for %s", impl(voter), impl(leader2)), func(ev cluster.Event) bool {
		return ev.Sentinel == voter && ev.Channel == "+vote-for-leader" && ev.Payload == fmt.Sprintf("%s %d", g.ids[leader2], epoch2)
	})
	t.Logf("round 2: %s elected in epoch %d with the vote of %s (%q)", impl(leader2), epoch2, impl(voter), vote.Payload)
}

// startMixedGroup starts a master, two replicas, two of our sentinels and a
// redis-sentinel (index 2), quorum 2, and waits until every sentinel knows
// both replicas and both peers.
func startMixedGroup(t *testing.T, timeout time.Duration) *group {
	t.Helper()
	o := cluster.Options{Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second}
	redisSentinel := func(i int) string {
		if i == 2 {
			return cluster.DefaultSentinelCommand
		}
		return ""
	}
	return startGroupWithConf(t, timeout, o, redisSentinel, nil)
}

// agreedMaster asks every running sentinel for the master's address and
// returns it if they all give the same one; the error lists each answer.
func (g *group) agreedMaster(ctx context.Context, impl func(int) string) (string, error) {
	var answers []string
	agreed := ""
	for i, s := range g.topo.Sentinels {
		if !s.Alive() {
			continue
		}
		hp, err := s.Client().GetMasterAddrByName(ctx, masterName).Result()
		if err != nil {
			return "", fmt.Errorf("%s: get-master-addr-by-name: %w", impl(i), err)
		}
		if len(hp) != 2 {
			return "", fmt.Errorf("%s: get-master-addr-by-name reply %q", impl(i), hp)
		}
		addr := net.JoinHostPort(hp[0], hp[1])
		answers = append(answers, fmt.Sprintf("%s: %s", impl(i), addr))
		if agreed == "" {
			agreed = addr
		} else if addr != agreed {
			agreed = "-"
		}
	}
	if agreed == "" || agreed == "-" {
		return "", fmt.Errorf("sentinels disagree on the master: %s", strings.Join(answers, "; "))
	}
	return agreed, nil
}

// checkSingleLeader waits until the running sentinels agree on the
// config-epoch of the failover away from the master on port and checks that
// exactly one sentinel published +elected-leader in that epoch (and at most
// one in any epoch). It returns the leader and the epoch.
func (g *group) checkSingleLeader(round string, port int, impl func(int) string) (int, uint64) {
	g.t.Helper()
	g.waitEvent(5*time.Second, round+": +elected-leader", on(-1, "+elected-leader", masterRef(port)))
	var epoch uint64
	g.waitFor(5*time.Second, round+": running sentinels agree on the config-epoch", func(ctx context.Context) error {
		var got []string
		epoch = 0
		agree := true
		for i, s := range g.topo.Sentinels {
			if !s.Alive() {
				continue
			}
			m, err := s.Client().Master(ctx, masterName).Result()
			if err != nil {
				return fmt.Errorf("%s: sentinel master: %w", impl(i), err)
			}
			var e uint64
			if _, err := fmt.Sscan(m["config-epoch"], &e); err != nil {
				return fmt.Errorf("%s: config-epoch %q: %w", impl(i), m["config-epoch"], err)
			}
			got = append(got, fmt.Sprintf("%s: %d", impl(i), e))
			if epoch != 0 && e != epoch {
				agree = false
			}
			epoch = max(epoch, e)
		}
		if !agree || epoch == 0 {
			return fmt.Errorf("config-epochs %s", strings.Join(got, ", "))
		}
		return nil
	})
	leaders := g.leadersByEpoch(port)
	for e, who := range leaders {
		if len(who) > 1 || e == 0 {
			g.t.Errorf("%s: epoch %d: +elected-leader from sentinels %v, want at most one with a vote for itself", round, e, who)
		}
	}
	who := leaders[epoch]
	if len(who) != 1 {
		g.t.Fatalf("%s: failover epoch %d: +elected-leader from sentinels %v, want exactly one (all: %v)", round, epoch, who, leaders)
	}
	return who[0], epoch
}

// replicaSeenHealthy checks every running sentinel lists r as a replica
// with its master link ok and not down, so it can be promoted next.
func (g *group) replicaSeenHealthy(r *cluster.Redis) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for _, s := range g.topo.Sentinels {
			if !s.Alive() {
				continue
			}
			replicas, err := s.Client().Replicas(ctx, masterName).Result()
			if err != nil {
				return fmt.Errorf("sentinel %s: replicas: %w", s.Addr(), err)
			}
			i := slices.IndexFunc(replicas, func(m map[string]string) bool { return m["name"] == r.Addr() })
			if i < 0 {
				return fmt.Errorf("sentinel %s: replica %s not listed", s.Addr(), r.Addr())
			}
			if m := replicas[i]; m["master-link-status"] != "ok" || strings.Contains(m["flags"], "down") || strings.Contains(m["flags"], "disconnected") {
				return fmt.Errorf("sentinel %s: replica %s flags %s, master link %s", s.Addr(), r.Addr(), m["flags"], m["master-link-status"])
			}
		}
		return nil
	}
}

// TestMixedTLSGroupFailsOver runs a TLS-only group (port 0, tls-replication
// yes) of two of our sentinels and one Debian redis-sentinel. One of ours
// is killed first, so the pair left is one of each implementation: the
// leader's +odown (quorum 2) needs the other's IS-MASTER-DOWN-BY-ADDR reply
// and its election the other's vote (majority of 3), all over TLS. Which
// implementation leads varies from run to run; the other may never reach
// +odown itself, the failover overtaking it.
func TestMixedTLSGroupFailsOver(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("redis-sentinel"); err != nil {
		t.Skipf("redis-sentinel not installed: %v", err)
	}
	g := startGroup(t, 120*time.Second, cluster.Options{Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter,
		FailoverTimeout: 5 * time.Second, TLS: true, SentinelCommands: []string{"", "", cluster.DefaultSentinelCommand}})
	impl := func(i int) string {
		if cluster.IsRedisSentinel(g.topo.Sentinels[i].Command) {
			return fmt.Sprintf("sentinel %d (redis-sentinel)", i)
		}
		return fmt.Sprintf("sentinel %d (ours)", i)
	}
	noPlaintext(t, g.topo)
	if err := g.topo.Sentinels[0].Kill(); err != nil {
		t.Fatal(err)
	}
	old := g.topo.Master
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	formerReplicas := []string{g.topo.Replicas[0].Addr(), g.topo.Replicas[1].Addr()}
	var promoted string
	g.waitFor(electionWait, "the surviving pair names the same promoted replica", func(ctx context.Context) error {
		addr, err := g.agreedMaster(ctx, impl)
		if err != nil {
			return err
		}
		if !slices.Contains(formerReplicas, addr) {
			return fmt.Errorf("sentinels name %s, want one of the former replicas %v", addr, formerReplicas)
		}
		promoted = addr
		return nil
	})
	t.Logf("kill -> both survivors name %s: %v", promoted, time.Since(killed).Round(time.Millisecond))
	leader, epoch := g.checkSingleLeader("tls", old.Port, impl)
	if leader == 0 {
		t.Fatalf("the killed %s published +elected-leader", impl(0))
	}
	odown := g.waitEvent(5*time.Second, impl(leader)+": +odown", on(leader, "+odown", masterRef(old.Port)))
	if !strings.Contains(odown.Payload, "#quorum 2/2") {
		t.Errorf("%s: +odown %q, want #quorum 2/2 (its own and the other's report)", impl(leader), odown.Payload)
	}
	voter := 3 - leader // the survivor that did not lead
	vote := g.waitEvent(5*time.Second, fmt.Sprintf("%s's vote for %s", impl(voter), impl(leader)), func(ev cluster.Event) bool {
		return ev.Sentinel == voter && ev.Channel == "+vote-for-leader" && ev.Payload == fmt.Sprintf("%s %d", g.ids[leader], epoch)
	})
	t.Logf("%s elected in epoch %d with the vote of %s (%q), over TLS", impl(leader), epoch, impl(voter), vote.Payload)
	g.waitFor(20*time.Second, "the other replica follows the new master over TLS", func(ctx context.Context) error {
		for _, r := range g.topo.Replicas {
			if r.Addr() != promoted {
				return replicates(r, g.topo.Instance(promoted))(ctx)
			}
		}
		return nil
	})
}
