package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// fenceDownAfter is long enough for Redis' whole-second lag to matter:
// the sentinels set min-replicas-max-lag 2 (docs/fencing.md).
const fenceDownAfter = 3 * time.Second

const noReplicas = "NOREPLICAS Not enough good replicas to write."

func startFenceGroup(t *testing.T) *group {
	g := startGroup(t, 90*time.Second, cluster.Options{
		Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: fenceDownAfter, FailoverTimeout: 5 * time.Second,
	})
	g.waitFor(5*time.Second, "master fenced on its two replicas", minReplicas(g.topo.Master, "2", "2"))
	return g
}

// minReplicas checks r's min-replicas-to-write and min-replicas-max-lag.
func minReplicas(r *cluster.Redis, toWrite, maxLag string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		got := map[string]string{}
		for _, p := range []string{"min-replicas-to-write", "min-replicas-max-lag"} {
			v, err := r.Client().ConfigGet(ctx, p).Result()
			if err != nil {
				return fmt.Errorf("redis %s: config get %s: %w", r.Addr(), p, err)
			}
			got[p] = v[p]
		}
		if got["min-replicas-to-write"] != toWrite || got["min-replicas-max-lag"] != maxLag {
			return fmt.Errorf("redis %s: %v, want to-write %s max-lag %s", r.Addr(), got, toWrite, maxLag)
		}
		return nil
	}
}

// pause stops (SIGSTOP) or resumes (SIGCONT) processes: their TCP
// connections stay up and silent, as in a partition. A stopped process is
// resumed at cleanup so that it can be stopped.
func pause[P interface {
	PID() int
	Addr() string
}](t *testing.T, stop bool, rs ...P) {
	t.Helper()
	sig := syscall.SIGCONT
	if stop {
		sig = syscall.SIGSTOP
	}
	for _, r := range rs {
		if err := syscall.Kill(r.PID(), sig); err != nil {
			t.Fatalf("%s: %v: %v", r.Addr(), sig, err)
		}
		if stop {
			t.Cleanup(func() { _ = syscall.Kill(r.PID(), syscall.SIGCONT) })
		}
	}
}

// refused runs one SET on the master itself and reports whether it was
// refused with -NOREPLICAS; any other error, or an answer that does not
// come at once, fails the test: clients must never hang.
func refused(t *testing.T, g *group) bool {
	t.Helper()
	start := time.Now()
	err := g.topo.Master.Client().Set(g.ctx, "fence-key", start.UnixNano(), 0).Err()
	if took := time.Since(start); took > time.Second {
		t.Fatalf("a write took %v to be answered (%v)", took, err)
	}
	if err != nil && err.Error() != noReplicas {
		t.Fatalf("write: %v, want nil or %q", err, noReplicas)
	}
	return err != nil
}

// waitWrites polls SET until writes are refused (want true) or accepted;
// it returns when that was seen.
func waitWrites(t *testing.T, g *group, within time.Duration, want bool) time.Time {
	t.Helper()
	for deadline := time.Now().Add(within); refused(t, g) != want; time.Sleep(poll) {
		if time.Now().After(deadline) {
			t.Fatalf("writes refused=%v not reached within %v", want, within)
		}
	}
	return time.Now()
}

// TestFenceRefusesWritesWhenReplicasAreCut: with both replicas silent the
// master refuses writes with -NOREPLICAS within down-after + 1 s, stays
// fenced while they are gone (the sentinels lower the requirement to one,
// not zero), accepts writes as soon as they are back, and gets its own
// settings back when fencing is switched off.
func TestFenceRefusesWritesWhenReplicasAreCut(t *testing.T) {
	t.Parallel()
	g := startFenceGroup(t)
	waitWrites(t, g, time.Second, false)

	pause(t, true, g.topo.Replicas...)
	cut := time.Now()
	fenced := waitWrites(t, g, fenceDownAfter+2*time.Second, true)
	t.Logf("writes refused %v after both replicas stopped (down-after %v)", fenced.Sub(cut).Round(time.Millisecond), fenceDownAfter)
	if d := fenced.Sub(cut); d > fenceDownAfter+time.Second+poll {
		t.Errorf("fenced %v after the cut, want within down-after + 1 s", d)
	}
	g.waitFor(fenceDownAfter+5*time.Second, "requirement lowered to one replica", minReplicas(g.topo.Master, "1", "2"))
	if !refused(t, g) {
		t.Fatal("write accepted with every replica gone")
	}

	pause(t, false, g.topo.Replicas...)
	back := time.Now()
	open := waitWrites(t, g, 5*time.Second, false)
	t.Logf("writes accepted %v after the replicas resumed", open.Sub(back).Round(time.Millisecond))
	g.waitFor(20*time.Second, "requirement back to two replicas", minReplicas(g.topo.Master, "2", "2"))

	for _, s := range g.topo.Sentinels {
		if err := sentinelDo(g.ctx, s.Client(), "set", masterName, "fence-writes", "no").Err(); err != nil {
			t.Fatalf("sentinel %s: set fence-writes no: %v", s.Addr(), err)
		}
	}
	g.waitFor(15*time.Second, "master's own settings restored", minReplicas(g.topo.Master, "0", "10"))
	for _, s := range g.topo.Sentinels {
		conf, err := os.ReadFile(s.ConfPath)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(conf), "sentinel fence-writes "+masterName+" no\n") {
			t.Errorf("sentinel %s: fence-writes no not saved:\n%s", s.Addr(), conf)
		}
	}
}

// TestFenceCutOffSideKeepsTheFence: the master's host cut off, as seen
// from there: its replicas and two of the three sentinels fall silent. The
// sentinel left with the master sees the replicas SDOWN but hears no
// majority, so it must not lower the requirement: no write is accepted
// until the others are back.
func TestFenceCutOffSideKeepsTheFence(t *testing.T) {
	t.Parallel()
	g := startFenceGroup(t)
	pause(t, true, g.topo.Replicas...)
	pause(t, true, g.topo.Sentinels[1], g.topo.Sentinels[2])
	cut := time.Now()
	waitWrites(t, g, fenceDownAfter+2*time.Second, true)
	for hold := cut.Add(3 * fenceDownAfter); time.Now().Before(hold); time.Sleep(poll) {
		if !refused(t, g) {
			t.Fatalf("write accepted %v after the cut by a master cut off from the majority", time.Since(cut))
		}
	}
	if err := minReplicas(g.topo.Master, "2", "2")(g.ctx); err != nil {
		t.Fatalf("requirement changed on the minority side: %v", err)
	}
	pause(t, false, g.topo.Sentinels[1], g.topo.Sentinels[2])
	pause(t, false, g.topo.Replicas...)
	waitWrites(t, g, 5*time.Second, false)
}

// TestFenceReplicaFailureIsNotAnOutage: one silent replica fences the
// master at most until the sentinels, which still hear each other and the
// master, lower the requirement; writes are accepted again while the
// replica is still gone.
func TestFenceReplicaFailureIsNotAnOutage(t *testing.T) {
	t.Parallel()
	g := startFenceGroup(t)
	pause(t, true, g.topo.Replicas[0])
	writesUntilLowered(t, g, "one replica stopped", 3*time.Second)
}

// TestFenceBrokenReplicationIsNotAnOutage: a replica that stays up but
// stops replicating fences the master only until the sentinels read it in
// the master's INFO.
func TestFenceBrokenReplicationIsNotAnOutage(t *testing.T) {
	t.Parallel()
	g := startFenceGroup(t)
	g.stallReplication(g.topo.Replicas[0])
	writesUntilLowered(t, g, "replication of one replica broken", 4*time.Second)
}

// writesUntilLowered writes to the master until the sentinels lowered the
// requirement to the one replica left, and fails if writes were refused
// for longer than maxRefused meanwhile or a failover happened.
func writesUntilLowered(t *testing.T, g *group, what string, maxRefused time.Duration) {
	t.Helper()
	start := time.Now()
	var down time.Duration
	lowered := minReplicas(g.topo.Master, "1", "2")
	for deadline, prev := start.Add(fenceDownAfter+5*time.Second), start; ; time.Sleep(poll) {
		no := refused(t, g)
		now := time.Now()
		if no {
			down += now.Sub(prev) // since the write before
		}
		prev = now
		if !no && lowered(g.ctx) == nil {
			t.Logf("%s: requirement lowered after %v; writes refused for about %v",
				what, time.Since(start).Round(time.Millisecond), down.Round(time.Millisecond))
			if down > maxRefused {
				t.Errorf("%s: writes refused for %v, want at most %v", what, down, maxRefused)
			}
			g.expectNone(0, "failover for a replica failure", on(-1, "+switch-master", ""))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not lowered within %v: %v", what, fenceDownAfter+5*time.Second, lowered(g.ctx))
		}
	}
}

// TestFenceFollowsAFailover: the promoted replica is fenced as the new
// master, the old one gets its own settings back once it is a replica, and
// SENTINEL REMOVE gives the new master its own.
func TestFenceFollowsAFailover(t *testing.T) {
	t.Parallel()
	g := startFenceGroup(t)
	old := g.topo.Master
	pause(t, true, old)
	ev := g.waitEvent(electionWait, "+switch-master", on(-1, "+switch-master", switchRef(old.Port)))
	f := strings.Fields(ev.Payload)
	promoted := g.topo.Instance(f[len(f)-2] + ":" + f[len(f)-1])
	if promoted == nil {
		t.Fatalf("+switch-master to an unknown instance: %s", ev.Payload)
	}
	g.waitFor(15*time.Second, "new master fenced on the replica left", minReplicas(promoted, "1", "2"))

	pause(t, false, old)
	g.waitFor(20*time.Second, "old master demoted", replicates(old, promoted))
	g.waitFor(15*time.Second, "old master's own settings back", minReplicas(old, "0", "10"))
	g.waitFor(20*time.Second, "new master fenced on both replicas", minReplicas(promoted, "2", "2"))

	for _, s := range g.topo.Sentinels {
		if err := sentinelDo(g.ctx, s.Client(), "remove", masterName).Err(); err != nil {
			t.Fatalf("sentinel %s: remove: %v", s.Addr(), err)
		}
	}
	g.waitFor(10*time.Second, "removed master's own settings back", minReplicas(promoted, "0", "10"))
}
