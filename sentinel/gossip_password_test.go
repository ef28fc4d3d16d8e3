package sentinel

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/sentinel/config"
)

// Two sentinels with requirepass and no gossip-key form their gossip group,
// keyed from the password, and fail over: while a peer is alive in gossip,
// opinions and votes travel there (its Redis port is the fallback).
func TestRequirepassAloneSecuresGossipAndFailsOver(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server processes")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	master, err := cluster.StartRedisOnFreePort(ctx, filepath.Join(dir, "master"))
	if err != nil {
		t.Fatal(err)
	}
	defer master.Stop()
	replica, err := cluster.StartRedisOnFreePort(ctx, filepath.Join(dir, "replica"), "replicaof 127.0.0.1 "+strconv.Itoa(master.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Stop()

	type daemon struct {
		logs   testutil.SyncBuffer
		client *redis.SentinelClient
		done   chan error
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	daemons := make([]*daemon, 2)
	for i := range daemons {
		port, err := cluster.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "sentinel"+strconv.Itoa(i)+".conf")
		conf := cluster.SentinelConf(port, "mymaster", master.Port, 2, 1000, 5000, "requirepass s3cret")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		d := &daemon{done: make(chan error, 1)}
		ready := make(chan struct{})
		go func() {
			d.done <- Run(runCtx, Options{Config: cfg, Log: zerolog.New(&d.logs), Ready: ready})
		}()
		select {
		case <-ready:
		case err := <-d.done:
			t.Fatalf("sentinel %d: %v\n%s", i, err, d.logs.String())
		}
		d.client = redis.NewSentinelClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Password: "s3cret", MaxRetries: -1})
		defer d.client.Close()
		daemons[i] = d
	}
	defer func() {
		stop()
		for _, d := range daemons {
			if err := <-d.done; err != nil {
				t.Errorf("run: %v", err)
			}
		}
	}()

	testutil.Eventually(t, 20*time.Second, "both sentinels in one authenticated gossip group", func() bool {
		for _, d := range daemons {
			l := d.logs.String()
			if !strings.Contains(l, `"secret":"requirepass","message":"gossip authenticated"`) ||
				!strings.Contains(l, "gossip member alive") {
				return false
			}
		}
		return true
	})
	testutil.Eventually(t, 20*time.Second, "both sentinels to know the replica", func() bool {
		for _, d := range daemons {
			rs, err := d.client.Replicas(ctx, "mymaster").Result()
			if err != nil || len(rs) != 1 {
				return false
			}
		}
		return true
	})
	if err := master.Kill(); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 40*time.Second, "both sentinels to name the replica as master", func() bool {
		for _, d := range daemons {
			addr, err := d.client.GetMasterAddrByName(ctx, "mymaster").Result()
			if err != nil || len(addr) != 2 || addr[1] != strconv.Itoa(replica.Port) {
				return false
			}
		}
		return true
	})
	for i, d := range daemons {
		if l := d.logs.String(); strings.Contains(l, "gossip input refused") {
			t.Errorf("sentinel %d refused gossip from its peer:\n%s", i, l)
		}
	}
}
