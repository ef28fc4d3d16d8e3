package cluster

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRedisKillRestartStop(t *testing.T) {
	needBinaries(t, "redis-server")
	t.Parallel()
	ctx := testContext(t, 20*time.Second)
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	r, err := StartRedis(ctx, t.TempDir(), port, "replica-priority 10")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	if got, err := r.Client().ConfigGet(ctx, "replica-priority").Result(); err != nil || got["replica-priority"] != "10" {
		t.Fatalf("extra conf not applied: %v %v", got, err)
	}

	first := r.PID()
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	if r.Alive() || r.PID() != 0 || !gone(first) {
		t.Fatalf("after Kill: alive=%v pid=%d, old pid gone=%v", r.Alive(), r.PID(), gone(first))
	}

	if err := r.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	second := r.PID()
	if !r.Alive() || second == first || r.Port != port {
		t.Fatalf("after Restart: alive=%v pid=%d (was %d) port=%d", r.Alive(), second, first, r.Port)
	}
	if err := r.Client().Ping(ctx).Err(); err != nil {
		t.Fatalf("cached client after Restart: %v", err)
	}

	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if r.Alive() || !gone(second) {
		t.Fatalf("after Stop: alive=%v, pid %d gone=%v", r.Alive(), second, gone(second))
	}
	if !strings.Contains(r.LogTail(100), "Ready to accept connections") {
		t.Fatalf("log tail lacks the start-up line:\n%s", r.LogTail(100))
	}
}

func TestStartRedisReportsFailures(t *testing.T) {
	needBinaries(t, "redis-server")
	t.Parallel()
	ctx := testContext(t, 20*time.Second)
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	_, err = StartRedis(ctx, t.TempDir(), port, "no-such-directive yes")
	if err == nil || !strings.Contains(err.Error(), "no-such-directive") {
		t.Fatalf("bad conf: err = %v, want the log tail naming the directive", err)
	}

	r, err := StartRedis(ctx, t.TempDir(), port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	if _, err := StartRedis(ctx, t.TempDir(), port); !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("second server on port %d: err = %v, want ErrAddrInUse", port, err)
	}
}

func TestStartStopsWhatItStartedOnError(t *testing.T) {
	needBinaries(t, "redis-server")
	t.Parallel()
	dir := t.TempDir()
	_, err := Start(testContext(t, 20*time.Second), Options{
		Dir:             dir,
		Replicas:        1,
		Sentinels:       1,
		SentinelCommand: filepath.Join(dir, "no-such-sentinel") + " {conf}",
	})
	if err == nil {
		t.Fatal("Start with a missing sentinel binary succeeded")
	}
	portLine := regexp.MustCompile(`(?m)^port (\d+)$`)
	for _, name := range []string{"master", "replica-1"} {
		conf, err := os.ReadFile(filepath.Join(dir, name, "redis.conf"))
		if err != nil {
			t.Fatalf("%s was not started before the failure: %v", name, err)
		}
		m := portLine.FindSubmatch(conf)
		if m == nil {
			t.Fatalf("%s conf has no port line", name)
		}
		port, _ := strconv.Atoi(string(m[1]))
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			c.Close()
			t.Fatalf("%s still listening on %d after failed Start", name, port)
		}
	}
}
