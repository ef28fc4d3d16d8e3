package drill

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/testutil"
)

// startGroup starts a discovered topology for a live drill, of Redis
// Sentinel unless a sentinel command is given.
func startGroup(t *testing.T, ctx context.Context, command ...string) *cluster.Topology {
	t.Helper()
	bins := []string{"redis-server"}
	if len(command) == 0 {
		bins = append(bins, "redis-sentinel")
		command = []string{cluster.DefaultSentinelCommand}
	}
	for _, bin := range bins {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	topo, err := cluster.Start(ctx, cluster.Options{Replicas: 2, Sentinels: 3, DownAfter: time.Second,
		FailoverTimeout: 10 * time.Second, SentinelCommand: command[0]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(topo.Stop)
	if err := topo.WaitDiscovered(ctx); err != nil {
		t.Fatal(err)
	}
	return topo
}

// TestRunLive drills a running group both ways: the master paused, then a
// switchover; each must end with a new master and the old one following.
func TestRunLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real redis-server and sentinel processes")
	}
	ours := ourSentinel(t)
	for _, c := range []struct {
		name    string
		mode    Mode
		phases  []Phase
		command []string
	}{
		{"redis-sentinel/pause", ModePause, PausePhases, nil},
		{"redis-sentinel/switchover", ModeSwitchover, SwitchoverPhases, nil},
		{"ours/pause", ModePause, PausePhases, []string{ours}},
		{"ours/switchover", ModeSwitchover, SwitchoverPhases, []string{ours}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			topo := startGroup(t, ctx, c.command...)
			o := DefaultLiveOptions()
			o.Sentinel, o.MasterName, o.Mode = topo.Sentinels[0].Addr(), topo.Opts.MasterName, c.mode
			o.PauseMargin = 3 * time.Second
			var plans []string
			o.Confirm = func(plan string) (bool, error) { plans = append(plans, plan); return true, nil }
			progress := &testutil.SyncBuffer{}
			res, err := RunLive(ctx, o, progress)
			t.Logf("progress:\n%s", progress.String())
			if err != nil {
				t.Fatalf("RunLive: %v", err)
			}
			if len(plans) != 1 {
				t.Errorf("confirmation asked %d times", len(plans))
			}
			if err := res.Check(c.phases); err != nil {
				t.Fatal(err)
			}
			if res.NewMaster == "" || res.NewMaster == res.OldMaster {
				t.Fatalf("new master %q, old master %q", res.NewMaster, res.OldMaster)
			}
		})
	}
	t.Run("declined", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		topo := startGroup(t, ctx)
		o := DefaultLiveOptions()
		o.Sentinel, o.MasterName = topo.Sentinels[0].Addr(), topo.Opts.MasterName
		o.Confirm = func(string) (bool, error) { return false, nil }
		if _, err := RunLive(ctx, o, &testutil.SyncBuffer{}); !errors.Is(err, ErrAborted) {
			t.Fatalf("err = %v, want ErrAborted", err)
		}
		if addr, err := topo.MasterAddr(ctx); err != nil || addr != topo.Master.Addr() {
			t.Fatalf("master after a declined drill: %q, %v", addr, err)
		}
	})
	t.Run("no-quorum", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		topo := startGroup(t, ctx)
		for _, s := range topo.Sentinels[1:] {
			if err := s.Kill(); err != nil {
				t.Fatal(err)
			}
		}
		first := topo.Sentinels[0]
		// The survivor must first see its peers as down.
		err := cluster.WaitFor(ctx, 50*time.Millisecond, func() (bool, error) {
			return first.Client().CkQuorum(ctx, topo.Opts.MasterName).Err() != nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		o := DefaultLiveOptions()
		o.Sentinel, o.MasterName = first.Addr(), topo.Opts.MasterName
		o.Confirm = func(string) (bool, error) {
			t.Error("asked to confirm a drill that cannot fail over")
			return false, nil
		}
		if _, err := RunLive(ctx, o, &testutil.SyncBuffer{}); !errors.Is(err, ErrNoQuorum) {
			t.Fatalf("err = %v, want ErrNoQuorum", err)
		}
		if err := topo.Master.Client().Ping(ctx).Err(); err != nil {
			t.Fatalf("master not answering after a refused drill: %v", err)
		}
	})
}
