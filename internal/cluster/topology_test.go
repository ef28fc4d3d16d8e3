package cluster

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/testutil"
)

// TestFailoverWithRedisSentinel drives a real failover: three Debian
// sentinels notice the killed master, promote a replica, and convert the old
// master into a replica once it is back.
func TestFailoverWithRedisSentinel(t *testing.T) {
	needBinaries(t, "redis-server", "redis-sentinel")
	t.Parallel()
	ctx := testContext(t, 55*time.Second)
	topo, err := Start(ctx, Options{
		Replicas:        2,
		Sentinels:       3,
		Quorum:          2,
		DownAfter:       time.Second,
		FailoverTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(topo.Stop)
	dumpOnFailure(t, topo)

	if err := topo.WaitDiscovered(ctx); err != nil {
		t.Fatal(err)
	}
	if addr, err := topo.MasterAddr(ctx); err != nil || addr != topo.Master.Addr() {
		t.Fatalf("MasterAddr = %q, %v; want %s", addr, err, topo.Master.Addr())
	}
	events, err := topo.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(events.Close)

	old := topo.Master
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	wantPrefix := topo.Opts.MasterName + " 127.0.0.1 " + strconv.Itoa(old.Port) + " "
	for i := range topo.Sentinels {
		ev, err := events.Wait(ctx, func(ev Event) bool { return ev.Sentinel == i && ev.Channel == "+switch-master" })
		if err != nil {
			t.Fatalf("sentinel %d: no +switch-master: %v", i, err)
		}
		if !strings.HasPrefix(ev.Payload, wantPrefix) || ev.At.IsZero() {
			t.Fatalf("sentinel %d: +switch-master %q at %v, want payload starting %q", i, ev.Payload, ev.At, wantPrefix)
		}
	}
	// Already recorded events are found again, not awaited.
	if _, err := events.Wait(ctx, func(ev Event) bool { return ev.Channel == "+sdown" && strings.HasPrefix(ev.Payload, "master ") }); err != nil {
		t.Fatalf("recorded +sdown of the master not found: %v", err)
	}

	var promoted string
	if err := WaitFor(ctx, 100*time.Millisecond, func() (bool, error) {
		addr, err := topo.MasterAddr(ctx)
		promoted = addr
		return err == nil, err
	}); err != nil {
		t.Fatal(err)
	}
	if r := topo.Instance(promoted); r == nil || !slices.Contains(topo.Replicas, r) {
		t.Fatalf("sentinels agree on %s, which is not a former replica", promoted)
	}

	if err := old.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := WaitFor(ctx, 200*time.Millisecond, func() (bool, error) {
		info, err := old.Client().Info(ctx, "replication").Result()
		if err != nil {
			return false, err
		}
		if !strings.Contains(info, "role:slave") {
			return false, errors.New("old master still reports role:master")
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}

	var pids []int
	for _, r := range topo.instances() {
		pids = append(pids, r.PID())
	}
	for _, s := range topo.Sentinels {
		pids = append(pids, s.PID())
	}
	events.Close()
	if _, err := events.Wait(ctx, func(Event) bool { return false }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close = %v, want ErrClosed", err)
	}
	topo.Stop()
	topo.Stop()
	if _, err := os.Stat(topo.Opts.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stop left its temp dir %s behind: %v", topo.Opts.Dir, err)
	}
	// A killed group's forked children (a BGSAVE) are reaped by init a
	// moment later: poll rather than look once.
	for _, pid := range pids {
		if pid == 0 {
			t.Errorf("a process had no pid")
			continue
		}
		testutil.Eventually(t, 5*time.Second, fmt.Sprintf("process %d gone after Stop", pid), func() bool { return gone(pid) })
	}
	t.Logf("failover recorded %d events", len(events.All()))
}

// TestEventsFollowARestartedSentinel checks Subscribe refuses a down
// sentinel, and that a subscription survives its sentinel restarting.
func TestEventsFollowARestartedSentinel(t *testing.T) {
	needBinaries(t, "redis-server", "redis-sentinel")
	t.Parallel()
	ctx := testContext(t, 30*time.Second)
	topo, err := Start(ctx, Options{Sentinels: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(topo.Stop)
	dumpOnFailure(t, topo)
	s := topo.Sentinels[0]

	events, err := topo.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(events.Close)
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := topo.Subscribe(ctx); err == nil {
		t.Fatal("Subscribe succeeded with the only sentinel killed")
	}
	if _, err := topo.MasterAddr(ctx); err == nil {
		t.Fatal("MasterAddr succeeded with no sentinel running")
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// Each SENTINEL SET publishes +set; repeat until the re-subscribed
	// reader has caught one.
	isSet := func(ev Event) bool { return ev.Channel == "+set" && strings.HasSuffix(ev.Payload, " quorum 1") }
	if err := WaitFor(ctx, 100*time.Millisecond, func() (bool, error) {
		if err := s.Client().Set(ctx, topo.Opts.MasterName, "quorum", "1").Err(); err != nil {
			return false, err
		}
		return slices.ContainsFunc(events.All(), isSet), nil
	}); err != nil {
		t.Fatal(err)
	}
}
