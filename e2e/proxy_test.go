package e2e

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// proxyPorts gives every sentinel of g a master and a replicas proxy at run
// time (SENTINEL SET) and returns the master proxy addresses, one per
// sentinel, once each listens.
func (g *group) proxyPorts() (masters, replicas []string) {
	g.t.Helper()
	for _, s := range g.topo.Sentinels {
		mp, err1 := cluster.FreePort()
		rp, err2 := cluster.FreePort()
		if err := errors.Join(err1, err2); err != nil {
			g.t.Fatal(err)
		}
		m, r := "127.0.0.1:"+strconv.Itoa(mp), "127.0.0.1:"+strconv.Itoa(rp)
		if err := sentinelDo(g.ctx, s.Client(), "set", masterName, "proxy-master", m, "proxy-replicas", r).Err(); err != nil {
			g.t.Fatalf("sentinel %s: set proxy: %v", s.Addr(), err)
		}
		masters, replicas = append(masters, m), append(replicas, r)
	}
	g.waitFor(10*time.Second, "every proxy listens and routes to the master", func(ctx context.Context) error {
		for _, s := range g.topo.Sentinels {
			list, err := sentinelDo(ctx, s.Client(), "proxies").Slice()
			if err != nil {
				return err
			}
			if len(list) != 2 {
				return fmt.Errorf("sentinel %s: %d proxies", s.Addr(), len(list))
			}
			for _, p := range list {
				f := proxyFields(p)
				if f["listening"] != "yes" || f["accepting"] != "yes" || f["backend"] != g.topo.Master.Addr() {
					return fmt.Errorf("sentinel %s: proxy %v", s.Addr(), f)
				}
			}
		}
		return nil
	})
	return masters, replicas
}

// proxyFields reads one SENTINEL PROXIES entry (RESP2 flat array or RESP3 map).
func proxyFields(v any) map[string]string {
	f := map[string]string{}
	switch x := v.(type) {
	case map[any]any:
		for k, val := range x {
			f[fmt.Sprint(k)] = fmt.Sprint(val)
		}
	case []any:
		for i := 0; i+1 < len(x); i += 2 {
			f[fmt.Sprint(x[i])] = fmt.Sprint(x[i+1])
		}
	}
	return f
}

// proxyClient is a plain go-redis client: it knows one address, the proxy.
func proxyClient(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: time.Second, PoolSize: 2})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ack is one write the server acknowledged, and which server did.
type ack struct {
	key  string
	port string // tcp_port of the server that executed it
	at   time.Time
}

// proxyWriter writes unique keys through one proxy in a loop, each SET in a
// MULTI with INFO server, so every acknowledgement names its server.
type proxyWriter struct {
	mu   sync.Mutex
	acks []ack
	errs int
}

func (w *proxyWriter) run(ctx context.Context, c *redis.Client, id int) {
	for n := 0; ctx.Err() == nil; n++ {
		key := fmt.Sprintf("w%d:%d", id, n)
		var info *redis.StringCmd
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, n, 0)
			info = p.Info(ctx, "server")
			return nil
		})
		w.mu.Lock()
		if err != nil {
			w.errs++
		} else {
			w.acks = append(w.acks, ack{key: key, port: infoField(info.Val(), "tcp_port"), at: time.Now()})
		}
		w.mu.Unlock()
		if err != nil {
			// A failed write is retried as a new one after a short pause,
			// as an application would.
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

func (w *proxyWriter) snapshot() []ack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]ack(nil), w.acks...)
}

// firstAckBy is the first write acknowledged by port after since, and
// whether there is one.
func firstAckBy(acks []ack, port int, since time.Time) (ack, bool) {
	for _, a := range acks {
		if a.port == strconv.Itoa(port) && a.at.After(since) {
			return a, true
		}
	}
	return ack{}, false
}

func infoField(info, key string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v
		}
	}
	return ""
}

// TestProxyWriteLoopSurvivesSwitchoverAndKill runs a plain client's write
// loop through the master proxy of each of three sentinels. A SENTINEL
// FAILOVER switchover (the old master stays alive) and then a kill of the
// new master must both be survived: writes resume through every proxy, no
// write is acknowledged by a demoted master once the new one acknowledged
// one, and every write acknowledged around the switchover is on the final
// master. redis-cli, redis-benchmark and a pub/sub subscriber go through the
// proxies too.
func TestProxyWriteLoopSurvivesSwitchoverAndKill(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 120*time.Second, cluster.Options{Replicas: 2, Sentinels: 3})
	masters, replicas := g.proxyPorts()

	for i := range masters {
		if out := redisCLI(t, masters[i], "set", "cli", strconv.Itoa(i)); out != "OK" {
			t.Fatalf("redis-cli through proxy %s: %q", masters[i], out)
		}
	}
	g.waitFor(10*time.Second, "a read through the replicas proxy sees the write", func(context.Context) error {
		if out := redisCLI(t, replicas[0], "get", "cli"); out != "2" {
			return fmt.Errorf("get through %s: %q", replicas[0], out)
		}
		return nil
	})
	if out := redisCLIPath(t, "redis-benchmark", "-h", "127.0.0.1", "-p", strings.TrimPrefix(masters[1], "127.0.0.1:"),
		"-t", "set,get", "-n", "2000", "-c", "10", "-q"); !strings.Contains(out, "SET:") || !strings.Contains(out, "GET:") {
		t.Fatalf("redis-benchmark through the proxy: %q", out)
	}

	sub := proxyClient(t, masters[2]).Subscribe(g.ctx, "news")
	t.Cleanup(func() { _ = sub.Close() })
	if _, err := sub.Receive(g.ctx); err != nil {
		t.Fatalf("subscribe through the proxy: %v", err)
	}

	ctx, stop := context.WithCancel(g.ctx)
	writers := make([]*proxyWriter, len(masters))
	var wg sync.WaitGroup
	for i, addr := range masters {
		writers[i] = &proxyWriter{}
		c := proxyClient(t, addr)
		wg.Add(1)
		go func() { defer wg.Done(); writers[i].run(ctx, c, i) }()
	}
	defer func() { stop(); wg.Wait() }()
	waitAcks := func(what string, ok func(w []ack) bool) {
		g.t.Helper()
		g.waitFor(20*time.Second, what, func(context.Context) error {
			for i, w := range writers {
				if !ok(w.snapshot()) {
					return fmt.Errorf("writer through %s: not yet", masters[i])
				}
			}
			return nil
		})
	}
	old := g.topo.Master
	waitAcks("every writer writes to the master", func(a []ack) bool { _, ok := firstAckBy(a, old.Port, time.Time{}); return ok })

	// Switchover: the old master stays alive.
	if err := sentinelDo(g.ctx, g.topo.Sentinels[0].Client(), "failover", masterName).Err(); err != nil {
		t.Fatal(err)
	}
	sw := g.waitEvent(20*time.Second, "+switch-master after SENTINEL FAILOVER", on(0, "+switch-master", switchRef(old.Port)))
	f := strings.Fields(sw.Payload)
	newPort, _ := strconv.Atoi(f[len(f)-1])
	second := g.topo.Instance("127.0.0.1:" + f[len(f)-1])
	waitAcks("every writer writes to the new master", func(a []ack) bool { _, ok := firstAckBy(a, newPort, time.Time{}); return ok })
	g.waitFor(10*time.Second, "the old master is a replica of the new one", replicates(old, second))
	for i, w := range writers {
		acks := w.snapshot()
		first, _ := firstAckBy(acks, newPort, time.Time{})
		for _, a := range acks {
			if a.port == strconv.Itoa(old.Port) && a.at.After(first.at) {
				t.Errorf("writer %d: %s acknowledged by the old master %v after the new master acknowledged %s",
					i, a.key, a.at.Sub(first.at), first.key)
			}
		}
		t.Logf("writer %d: first write on the new master %v after +switch-master (%d errors)", i, first.at.Sub(sw.At).Round(time.Millisecond), w.errs)
	}
	g.waitFor(10*time.Second, "every write acknowledged so far is on the new master", func(ctx context.Context) error {
		for _, w := range writers {
			for _, a := range w.snapshot() {
				if a.port != strconv.Itoa(old.Port) && a.port != strconv.Itoa(newPort) {
					return fmt.Errorf("%s acknowledged by unexpected port %s", a.key, a.port)
				}
				if n, err := second.Client().Exists(ctx, a.key).Result(); err != nil || n != 1 {
					return fmt.Errorf("acknowledged %s (port %s) missing on the new master: %d %v", a.key, a.port, n, err)
				}
			}
		}
		return nil
	})
	g.waitFor(10*time.Second, "the subscriber reconnects through the proxy to the new master", func(ctx context.Context) error {
		if err := proxyClient(t, masters[0]).Publish(ctx, "news", "after-switchover").Err(); err != nil {
			return err
		}
		select {
		case msg := <-sub.Channel():
			if msg.Payload != "after-switchover" {
				return fmt.Errorf("subscriber got %q", msg.Payload)
			}
			return nil
		case <-time.After(200 * time.Millisecond):
			return errors.New("no message yet")
		}
	})

	// Kill the new master: a real failover to the remaining replica.
	if err := second.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	sw2 := g.waitEvent(electionWait, "+switch-master after the kill", on(-1, "+switch-master", switchRef(newPort)))
	f = strings.Fields(sw2.Payload)
	thirdPort, _ := strconv.Atoi(f[len(f)-1])
	// The third master may be the first one, a replica since the switchover.
	waitAcks("every writer writes to the third master", func(a []ack) bool { _, ok := firstAckBy(a, thirdPort, killed); return ok })
	for i, w := range writers {
		acks := w.snapshot()
		first, _ := firstAckBy(acks, thirdPort, killed)
		for _, a := range acks {
			if a.port != strconv.Itoa(thirdPort) && a.at.After(first.at) {
				t.Errorf("writer %d: %s acknowledged by port %s after the third master took writes", i, a.key, a.port)
			}
		}
		t.Logf("writer %d: kill -> first write %v, +switch-master -> first write %v", i,
			first.at.Sub(killed).Round(time.Millisecond), first.at.Sub(sw2.At).Round(time.Millisecond))
	}
}

func redisCLI(t *testing.T, addr string, args ...string) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	return redisCLIPath(t, "redis-cli", append([]string{"-h", host, "-p", port}, args...)...)
}

func redisCLIPath(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v: %s", bin, args, err, out)
	}
	return strings.TrimSpace(string(out))
}
