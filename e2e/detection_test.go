package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// TestKilledReplicaIsSDownUntilItReturns: every sentinel flags a killed
// replica s_down and publishes +sdown within down-after + 1 s, and -sdown
// once it is back.
func TestKilledReplicaIsSDownUntilItReturns(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 45*time.Second, cluster.Options{
		Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
	})
	victim, other := g.topo.Replicas[0], g.topo.Replicas[1]
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	for i := range g.topo.Sentinels {
		ev := g.waitEvent(time.Until(killed.Add(downAfter+time.Second)), fmt.Sprintf("sentinel %d: +sdown of the killed replica", i),
			on(i, "+sdown", replicaRef(victim.Port)))
		t.Logf("sentinel %d: +sdown %v after the kill", i, ev.At.Sub(killed).Round(time.Millisecond))
	}
	g.waitFor(2*time.Second, "s_down in SENTINEL REPLICAS", g.replicaFlags(map[string]bool{victim.Addr(): true, other.Addr(): false}))
	g.expectNone(0, "+sdown of the replica still running", on(-1, "+sdown", replicaRef(other.Port)))

	if err := victim.Restart(g.ctx); err != nil {
		t.Fatal(err)
	}
	for i := range g.topo.Sentinels {
		g.waitEvent(5*time.Second, fmt.Sprintf("sentinel %d: -sdown of the restarted replica", i), on(i, "-sdown", replicaRef(victim.Port)))
	}
	g.waitFor(2*time.Second, "s_down cleared in SENTINEL REPLICAS", g.replicaFlags(map[string]bool{victim.Addr(): false, other.Addr(): false}))
}

// replicaFlags checks that every running sentinel lists each replica in
// sdown with s_down in its flags exactly when sdown[addr] is true.
func (g *group) replicaFlags(sdown map[string]bool) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for _, s := range g.topo.Sentinels {
			replicas, err := s.Client().Replicas(ctx, masterName).Result()
			if err != nil {
				return fmt.Errorf("sentinel %s: replicas: %w", s.Addr(), err)
			}
			seen := 0
			for _, r := range replicas {
				want, ok := sdown[r["ip"]+":"+r["port"]]
				if !ok {
					continue
				}
				seen++
				flags := strings.Split(r["flags"], ",")
				if slices.Contains(flags, "s_down") != want {
					return fmt.Errorf("sentinel %s: replica %s has flags %q, want s_down %v", s.Addr(), r["name"], r["flags"], want)
				}
				if _, has := r["s-down-time"]; has != want {
					return fmt.Errorf("sentinel %s: replica %s s-down-time present %v, want %v", s.Addr(), r["name"], has, want)
				}
			}
			if seen != len(sdown) {
				return fmt.Errorf("sentinel %s lists %d of the %d replicas", s.Addr(), seen, len(sdown))
			}
		}
		return nil
	}
}

// TestRestartKeepsIdentityEpochsAndKnownInstances: a sentinel killed and
// restarted comes back with the same myid, epochs, known replicas and known
// sentinels, read from the config file it rewrote.
func TestRestartKeepsIdentityEpochsAndKnownInstances(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 60*time.Second, cluster.Options{
		Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
	})
	// A switchover first, so that the epochs are not all zero.
	if err := g.topo.Sentinels[0].Client().Failover(g.ctx, masterName).Err(); err != nil {
		t.Fatalf("sentinel failover: %v", err)
	}
	for i := range g.topo.Sentinels {
		g.waitEvent(20*time.Second, fmt.Sprintf("sentinel %d: +switch-master", i), on(i, "+switch-master", switchRef(g.topo.Master.Port)))
	}
	s := g.topo.Sentinels[2]
	var before savedState
	g.waitFor(5*time.Second, "config file of sentinel 2 after the switch", func(context.Context) error {
		var err error
		if before, err = readSaved(s.ConfPath); err != nil {
			return err
		}
		if before.currentEpoch == 0 || before.configEpoch != before.currentEpoch || len(before.knownReplicas) != 2 || len(before.knownSentinels) != 2 {
			return fmt.Errorf("config not settled: %+v", before)
		}
		return nil
	})
	if before.myID != g.ids[2] {
		t.Fatalf("config myid %s, SENTINEL MYID %s", before.myID, g.ids[2])
	}

	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(g.ctx); err != nil {
		t.Fatal(err)
	}
	if id, err := sentinelDo(g.ctx, s.Client(), "myid").Text(); err != nil || id != before.myID {
		t.Errorf("SENTINEL MYID after restart = %q, %v; want %s", id, err, before.myID)
	}
	after, err := readSaved(s.ConfPath)
	if err != nil {
		t.Fatal(err)
	}
	if after.myID != before.myID || after.currentEpoch != before.currentEpoch || after.configEpoch != before.configEpoch ||
		after.master != before.master || !slices.Equal(after.knownReplicas, before.knownReplicas) ||
		!slices.Equal(after.knownSentinels, before.knownSentinels) {
		t.Errorf("config after restart differs:\n before %+v\n after  %+v", before, after)
	}
	m, err := s.Client().Master(g.ctx, masterName).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprint(before.configEpoch); m["config-epoch"] != want || m["ip"]+":"+m["port"] != before.master {
		t.Errorf("SENTINEL MASTER after restart: %s:%s config-epoch %s; want %s epoch %s", m["ip"], m["port"], m["config-epoch"], before.master, want)
	}
	// The restarted sentinel hears from its peers again; it must not list
	// them twice (once from its config, once from gossip).
	ctx, cancel := context.WithTimeout(g.ctx, 5*time.Second)
	defer cancel()
	if err := g.topo.WaitDiscovered(ctx); err != nil {
		t.Fatal(err)
	}
	peers, err := s.Client().Sentinels(g.ctx, masterName).Result()
	if err != nil || len(peers) != 2 {
		t.Errorf("SENTINEL SENTINELS after restart = %v, %v; want the 2 peers", peers, err)
	}
}
