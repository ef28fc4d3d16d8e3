package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

const (
	masterName = "mymaster"
	downAfter  = time.Second
	// poll is how often state conditions are re-checked.
	poll = 50 * time.Millisecond
	// electionWait bounds a failover after a kill; it covers one split vote
	// (abort after the 5 s failover-timeout, retry after twice that).
	electionWait = 30 * time.Second
)

// needRedis skips when the Redis binaries are missing or in -short mode.
func needRedis(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end process test")
	}
	for _, name := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(name); err != nil {
			t.Skipf("%s not installed: %v", name, err)
		}
	}
}

// tmpfsDir is a directory for one topology. Sentinels fsync their config on
// every change; on a busy disk one slow fsync stalls them into TILT.
func tmpfsDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/dev/shm", "sentinel-e2e-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// group is one running topology with its event log. ids[i] is the myid of
// Sentinels[i].
type group struct {
	t      *testing.T
	ctx    context.Context
	topo   *cluster.Topology
	events *cluster.Events
	ids    []string
}

// startGroup starts a topology of our sentinels, waits until every sentinel
// knows every replica and peer, and records events from then on.
func startGroup(t *testing.T, timeout time.Duration, o cluster.Options) *group {
	t.Helper()
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	o.Dir = tmpfsDir(t)
	o.SentinelCommand = sentinelCommand
	topo, err := cluster.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	g := newGroup(t, ctx, topo)
	if err := topo.WaitDiscovered(ctx); err != nil {
		t.Fatal(err)
	}
	return g
}

// newGroup takes over topo: it is stopped and its logs checked at cleanup.
func newGroup(t *testing.T, ctx context.Context, topo *cluster.Topology) *group {
	t.Helper()
	// Registered before Stop so it runs after it: race reports and panics
	// are complete once the processes have exited.
	t.Cleanup(func() { checkLogs(t, topo) })
	t.Cleanup(topo.Stop)
	events, err := topo.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(events.Close)
	start := time.Now()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		all := events.All()
		for _, ev := range all[max(0, len(all)-200):] {
			t.Logf("event +%v sentinel %d: %s %s", ev.At.Sub(start).Round(time.Millisecond), ev.Sentinel, ev.Channel, ev.Payload)
		}
	})
	g := &group{t: t, ctx: ctx, topo: topo, events: events}
	for _, s := range topo.Sentinels {
		id, err := sentinelDo(ctx, s.Client(), "myid").Text()
		if err != nil {
			t.Fatalf("sentinel %s: myid: %v", s.Addr(), err)
		}
		g.ids = append(g.ids, id)
	}
	return g
}

// checkLogs fails the test on a daemon panic or data race and prints every
// log tail if the test failed.
func checkLogs(t *testing.T, topo *cluster.Topology) {
	for _, s := range topo.Sentinels {
		b, err := os.ReadFile(s.LogPath)
		if err != nil {
			t.Errorf("sentinel %s: %v", s.Addr(), err)
			continue
		}
		log := string(b)
		if strings.Contains(log, "WARNING: DATA RACE") || strings.HasPrefix(log, "panic: ") || strings.Contains(log, "\npanic: ") {
			t.Errorf("sentinel %s crashed or raced; log tail:\n%s", s.Addr(), s.LogTail(80))
		}
	}
	if !t.Failed() {
		return
	}
	for _, r := range append([]*cluster.Redis{topo.Master}, topo.Replicas...) {
		t.Logf("--- redis %s log:\n%s", r.Addr(), r.LogTail(20))
	}
	for _, s := range topo.Sentinels {
		t.Logf("--- sentinel %s log:\n%s", s.Addr(), s.LogTail(60))
	}
}

// waitEvent waits up to within for the first recorded event matching pred.
func (g *group) waitEvent(within time.Duration, what string, pred func(cluster.Event) bool) cluster.Event {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(g.ctx, within)
	defer cancel()
	ev, err := g.events.Wait(ctx, pred)
	if err != nil {
		g.t.Fatalf("%s: %v", what, err)
	}
	return ev
}

// expectNone fails if an event matching pred is recorded, before or during
// the next window.
func (g *group) expectNone(window time.Duration, what string, pred func(cluster.Event) bool) {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(g.ctx, window)
	defer cancel()
	ev, err := g.events.Wait(ctx, pred)
	switch {
	case err == nil:
		g.t.Errorf("unexpected %s: sentinel %d published %s %q", what, ev.Sentinel, ev.Channel, ev.Payload)
	case !errors.Is(err, context.DeadlineExceeded) || g.ctx.Err() != nil:
		g.t.Fatalf("%s: %v", what, err)
	}
}

// count returns how many recorded events match pred.
func (g *group) count(pred func(cluster.Event) bool) int {
	n := 0
	for _, ev := range g.events.All() {
		if pred(ev) {
			n++
		}
	}
	return n
}

// on matches channel published by sentinel i (any when i < 0) about the
// instance ref (any when ref is "").
func on(i int, channel, ref string) func(cluster.Event) bool {
	return func(ev cluster.Event) bool {
		return (i < 0 || ev.Sentinel == i) && ev.Channel == channel &&
			(ref == "" || ev.Payload == ref || strings.HasPrefix(ev.Payload, ref+" "))
	}
}

// masterRef and replicaRef are how event payloads name an instance.
func masterRef(port int) string { return fmt.Sprintf("master %s 127.0.0.1 %d", masterName, port) }

func replicaRef(port int) string {
	return fmt.Sprintf("slave 127.0.0.1:%d 127.0.0.1 %d @ %s", port, port, masterName)
}

// switchRef is the start of +switch-master away from the master on port.
func switchRef(port int) string { return fmt.Sprintf("%s 127.0.0.1 %d", masterName, port) }

// epochOf parses the epoch of a +vote-for-leader payload.
func epochOf(ev cluster.Event) uint64 {
	f := strings.Fields(ev.Payload)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseUint(f[len(f)-1], 10, 64)
	return n
}

// waitFor polls cond until it holds or within ends; it fails the test with
// cond's last error.
func (g *group) waitFor(within time.Duration, what string, cond func(ctx context.Context) error) {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(g.ctx, within)
	defer cancel()
	err := cluster.WaitFor(ctx, poll, func() (bool, error) {
		err := cond(ctx)
		return err == nil, err
	})
	if err != nil {
		g.t.Fatalf("%s: %v", what, err)
	}
}

// masterAddrIs checks every running sentinel names addr as the master.
func (g *group) masterAddrIs(addr string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		got, err := g.topo.MasterAddr(ctx)
		if err != nil {
			return err
		}
		if got != addr {
			return fmt.Errorf("sentinels name %s as master, want %s", got, addr)
		}
		return nil
	}
}

// replication returns the fields of INFO replication.
func replication(ctx context.Context, r *cluster.Redis) (map[string]string, error) {
	info, err := r.Client().Info(ctx, "replication").Result()
	if err != nil {
		return nil, fmt.Errorf("redis %s: info: %w", r.Addr(), err)
	}
	fields := map[string]string{}
	for line := range strings.Lines(info) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			fields[k] = v
		}
	}
	return fields, nil
}

// replicates checks r is a replica of master with its link up.
func replicates(r, master *cluster.Redis) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		f, err := replication(ctx, r)
		if err != nil {
			return err
		}
		if f["role"] != "slave" || f["master_port"] != strconv.Itoa(master.Port) || f["master_link_status"] != "up" {
			return fmt.Errorf("redis %s: role %s of port %s, link %s; want replica of %d with link up",
				r.Addr(), f["role"], f["master_port"], f["master_link_status"], master.Port)
		}
		return nil
	}
}

// hasRole checks r reports role (master or slave) in INFO.
func hasRole(r *cluster.Redis, role string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		f, err := replication(ctx, r)
		if err != nil {
			return err
		}
		if f["role"] != role {
			return fmt.Errorf("redis %s: role %s, want %s", r.Addr(), f["role"], role)
		}
		return nil
	}
}

// sentinelAddrs lists the sentinels as go-redis and python take them.
func (g *group) sentinelAddrs() []string {
	var addrs []string
	for _, s := range g.topo.Sentinels {
		addrs = append(addrs, s.Addr())
	}
	return addrs
}

// failoverClient is a go-redis client that finds the master through the
// sentinels, as applications do.
func (g *group) failoverClient() *redis.Client {
	c := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    masterName,
		SentinelAddrs: g.sentinelAddrs(),
		DialTimeout:   500 * time.Millisecond,
		ReadTimeout:   time.Second,
		WriteTimeout:  time.Second,
	})
	g.t.Cleanup(func() { _ = c.Close() })
	return c
}

// debugTimers speeds a sentinel timer up on every running sentinel.
func (g *group) debugTimers(args ...any) {
	g.t.Helper()
	for _, s := range g.topo.Sentinels {
		if err := sentinelDo(g.ctx, s.Client(), append([]any{"debug"}, args...)...).Err(); err != nil {
			g.t.Fatalf("sentinel %s: sentinel debug %v: %v", s.Addr(), args, err)
		}
	}
}

// sentinelDo sends SENTINEL args (SentinelClient has no Do).
func sentinelDo(ctx context.Context, c *redis.SentinelClient, args ...any) *redis.Cmd {
	cmd := redis.NewCmd(ctx, append([]any{"sentinel"}, args...)...)
	// The error is kept in cmd.
	_ = c.Process(ctx, cmd)
	return cmd
}

// stopOnCleanup stops s when the test ends, and shows its log if it failed.
func stopOnCleanup(t *testing.T, s *cluster.Sentinel) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sentinel %s log:\n%s", s.Addr(), s.LogTail(40))
		}
		_ = s.Stop()
	})
}
