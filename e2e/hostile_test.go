package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// TestHostileHellosAreIgnoredAndConfigStillLoads replays the hello attacks
// against the built binary: hellos on the master's __sentinel__:hello
// channel and PUBLISHed to a sentinel, with port 99999, "not-an-ip", an
// empty IP (what a redis-sentinel with announce-ip "" sends) and epoch
// 2^64-1, each claiming a newer config that moves the master. No sentinel
// adds the sender or switches; every one restarts from the config it saved.
func TestHostileHellosAreIgnoredAndConfigStillLoads(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 60*time.Second, cluster.Options{Replicas: 1, Sentinels: 2})
	ctx := g.ctx
	mport := g.topo.Master.Port
	rest := func(ip, port, runID, epoch string) string {
		return strings.Join([]string{ip, port, runID, epoch, masterName, "127.0.0.1", "1", "99"}, ",")
	}
	hostile := []string{
		rest("127.0.0.1", "99999", strings.Repeat("e", 40), "1"),
		rest("not-an-ip", "26379", strings.Repeat("e", 40), "1"),
		rest("", "26379", strings.Repeat("e", 40), "1"),
		rest("127.0.0.1", "26379", strings.Repeat("e", 40), "18446744073709551615"),
		strings.Join([]string{"127.0.0.1", "26379", strings.Repeat("e", 40), "1", masterName, "not-an-ip", "6379", "99"}, ","),
	}
	for _, h := range hostile {
		if err := g.topo.Master.Client().Publish(ctx, "__sentinel__:hello", h).Err(); err != nil {
			t.Fatal(err)
		}
		for _, s := range g.topo.Sentinels {
			if err := do(ctx, s, "PUBLISH", "__sentinel__:hello", h).Err(); err != nil {
				t.Fatalf("PUBLISH to sentinel %s: %v", s.Addr(), err)
			}
		}
	}
	// A valid hello sent after them shows the channel is read: once every
	// sentinel reported it, the hostile ones before it were processed too.
	control := strings.Repeat("f", 40)
	valid := strings.Join([]string{"127.0.0.1", "1", control, "0", masterName, "127.0.0.1", strconv.Itoa(mport), "0"}, ",")
	if err := g.topo.Master.Client().Publish(ctx, "__sentinel__:hello", valid).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range g.topo.Sentinels {
		g.waitEvent(10*time.Second, "the control hello", func(ev cluster.Event) bool {
			return ev.Sentinel == i && ev.Channel == "+sentinel" && strings.Contains(ev.Payload, control)
		})
	}
	g.expectNone(time.Millisecond, "a hostile hello accepted", func(ev cluster.Event) bool {
		return ev.Channel == "+switch-master" || ev.Channel == "+config-update-from" ||
			(ev.Channel == "+sentinel" && strings.Contains(ev.Payload, strings.Repeat("e", 40)))
	})
	for i, s := range g.topo.Sentinels {
		epoch, err := do(ctx, s, "INFO", "sentinel").Text()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(epoch, "18446744073709551615") {
			t.Fatalf("sentinel %d adopted epoch 2^64-1", i)
		}
		if err := g.masterAddrIs("127.0.0.1:" + strconv.Itoa(mport))(ctx); err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = s.Restart(rctx)
		cancel()
		if err != nil {
			t.Fatalf("sentinel %d does not restart from its saved config: %v\n%s", i, err, s.LogTail(20))
		}
	}
}

// do sends a command that is not a SENTINEL subcommand to a sentinel.
func do(ctx context.Context, s *cluster.Sentinel, args ...any) *redis.Cmd {
	cmd := redis.NewCmd(ctx, args...)
	_ = s.Client().Process(ctx, cmd) // the error is kept in cmd
	return cmd
}
