package sentinel_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/sentinel"
	"github.com/seed877ff415/sentinel/sentinel/config"
)

const candidate = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

// startDaemon runs one sentinel in-process with its config in dir,
// monitoring a master that does not exist (votes do not need it), and
// stops it at the end of the test. The master is at host; extra lines go
// before the monitor line.
func startDaemon(t *testing.T, dir, host string, extra ...string) (*redis.Client, string) {
	t.Helper()
	port, err := cluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sentinel.conf")
	conf := "port " + strconv.Itoa(port) + "\nbind 127.0.0.1\n" + strings.Join(append(extra, ""), "\n") +
		"sentinel monitor mymaster " + host + " 1 2\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- sentinel.Run(ctx, sentinel.Options{Config: cfg, Log: zerolog.New(zerolog.NewTestWriter(t)), Ready: ready})
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("sentinel did not start: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1, Protocol: 2})
	t.Cleanup(func() {
		c.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sentinel stopped with %v", err)
		}
	})
	return c, path
}

// askVote sends a vote request for candidate in epoch and returns the
// granted leader and its epoch.
func askVote(t *testing.T, c *redis.Client, epoch int) (string, int64) {
	t.Helper()
	v, err := c.Do(context.Background(), "SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1",
		strconv.Itoa(epoch), candidate).Slice()
	if err != nil || len(v) != 3 {
		t.Fatalf("IS-MASTER-DOWN-BY-ADDR: %v %v", v, err)
	}
	return v[1].(string), v[2].(int64)
}

func fileHas(path, want string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), want)
}

// checkNoVoteLeavesUnsaved breaks the store with breakStore, asks for a
// vote, and checks that no vote leaves while it cannot be saved, that the
// failure is an event, and that once fixStore repaired the store the vote
// is saved by a retry and then granted.
func checkNoVoteLeavesUnsaved(t *testing.T, c *redis.Client, path string, breakStore, fixStore func()) {
	t.Helper()
	ctx := context.Background()
	sub := c.Subscribe(ctx, "-config-save-failed", "+config-save-ok")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	breakStore()
	if leader, epoch := askVote(t, c, 5); leader != "*" || epoch != 0 {
		t.Fatalf("vote %s %d left although it could not be saved", leader, epoch)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil || msg.Channel != "-config-save-failed" {
		t.Fatalf("event %v %v, want -config-save-failed", msg, err)
	}
	// Asked again while the store is still broken: still no vote.
	if leader, _ := askVote(t, c, 5); leader != "*" {
		t.Fatalf("vote for %s left on a retry while unsaved", leader)
	}
	fixStore()
	msg, err = sub.ReceiveMessage(ctx)
	if err != nil || msg.Channel != "+config-save-ok" {
		t.Fatalf("event %v %v, want +config-save-ok", msg, err)
	}
	if !fileHas(path, "sentinel current-epoch 5") || !fileHas(path, "leader-epoch mymaster 5") {
		b, _ := os.ReadFile(path)
		t.Fatalf("retried save does not hold the vote:\n%s", b)
	}
	if leader, epoch := askVote(t, c, 5); leader != candidate || epoch != 5 {
		t.Fatalf("saved vote answered as %s %d", leader, epoch)
	}
}

// TestFailedSaveLetsNoVoteLeave: a store that fails (its directory is gone,
// so even root cannot write) withholds the vote until a retry saved it.
func TestFailedSaveLetsNoVoteLeave(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, path := startDaemon(t, dir, "127.0.0.1")
	var saved []byte
	checkNoVoteLeavesUnsaved(t, c, path, func() {
		var err error
		if saved, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, saved, 0o644); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFullDiskLetsNoVoteLeave: on a tiny tmpfs filled to the last byte, a
// vote is not answered until the disk has room and the retry saved it.
func TestFullDiskLetsNoVoteLeave(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	c, path := startDaemon(t, dir, "127.0.0.1")
	filler := filepath.Join(dir, "filler")
	checkNoVoteLeavesUnsaved(t, c, path, func() { fill(t, filler) }, func() {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	})
	testutil.Eventually(t, 5*time.Second, "the config kept on the tmpfs", func() bool {
		return fileHas(path, "sentinel current-epoch 5")
	})
}

// fill writes to path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return
		}
	}
}
