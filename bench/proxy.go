package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/drill"
)

const sectionProxy = "proxy"

// proxyWriteEvery paces the clients of the proxy drills: fine enough to
// time a first write to a few ms.
const proxyWriteEvery = 2 * time.Millisecond

// haproxyConf is the usual HAProxy front for Redis Sentinel (HAProxy's own
// blog post): a TCP health check that only passes on role:master, every 1 s.
const haproxyConf = `global
    maxconn 4096
defaults
    mode tcp
    timeout connect 1s
    timeout client 60s
    timeout server 60s
frontend redis
    bind 127.0.0.1:%d
    default_backend redis_master
backend redis_master
    option tcp-check
    tcp-check connect
    tcp-check send PING\r\n
    tcp-check expect string +PONG
    tcp-check send info\ replication\r\n
    tcp-check expect string role:master
    tcp-check send QUIT\r\n
    tcp-check expect string +OK
%s`

// haproxy is one running haproxy in front of a set of Redis servers.
type haproxy struct {
	addr string
	cmd  *exec.Cmd
	done chan error
}

func startHAProxy(ctx context.Context, dir string, servers []string) (*haproxy, error) {
	port, err := cluster.FreePort()
	if err != nil {
		return nil, err
	}
	var lines strings.Builder
	for i, s := range servers {
		fmt.Fprintf(&lines, "    server r%d %s check inter 1s\n", i, s)
	}
	conf := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(conf, fmt.Appendf(nil, haproxyConf, port, lines.String()), 0o644); err != nil {
		return nil, fmt.Errorf("write haproxy config: %w", err)
	}
	// -db: stay in the foreground; the log goes next to the config.
	logf, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	h := &haproxy{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan error, 1)}
	h.cmd = exec.CommandContext(ctx, "haproxy", "-db", "-f", conf)
	h.cmd.Stdout, h.cmd.Stderr = logf, logf
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	go func() { h.done <- h.cmd.Wait() }()
	return h, nil
}

func (h *haproxy) stop() {
	_ = h.cmd.Process.Kill()
	<-h.done
}

// waitWrite polls until SETs on 5 fresh connections in a row through addr
// succeed: HAProxy takes every server for up until its checks fail, so
// until then a connection may land on a replica.
func waitWrite(ctx context.Context, addr string) error {
	wctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	ok := 0
	return cluster.WaitFor(wctx, 20*time.Millisecond, func() (bool, error) {
		c := drill.PlainClient(addr)
		defer c.Close()
		err := c.Set(wctx, "bench:ready", "1", 0).Err()
		if ok++; err != nil {
			ok = 0
		}
		return ok >= 5, err
	})
}

// firstWrite writes through c until ctx ends and returns when the first
// write sent after since succeeded, or zero.
func firstWrite(ctx context.Context, c *redis.Client, since time.Time) time.Time {
	for ctx.Err() == nil {
		start := time.Now()
		wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := c.Set(wctx, "bench:proxy", start.UnixNano(), 0).Err()
		cancel()
		if err == nil && !start.Before(since) {
			return time.Now()
		}
		select {
		case <-ctx.Done():
		case <-time.After(proxyWriteEvery):
		}
	}
	return time.Time{}
}

// proxySample is one kill drill seen by three clients at once, in ms after
// the kill.
type proxySample struct {
	switchAt                float64 // first +switch-master on any sentinel
	ours, haproxy, failover float64 // first write through each
	oursAfter, haproxyAfter float64 // first write minus switchAt
}

// runProxyDrill starts a master, 2 replicas and 3 of our sentinels (down-after
// 1 s) with proxies and an HAProxy in front, kills the master and times the
// first write through our proxy, through HAProxy and through a FailoverClient.
func (b *bench) runProxyDrill(ctx context.Context, ours impl) (proxySample, error) {
	var s proxySample
	topo, err := cluster.Start(ctx, cluster.Options{Replicas: 2, Sentinels: 3, DownAfter: time.Second,
		FailoverTimeout: 10 * time.Second, SentinelCommand: ours.command})
	if err != nil {
		return s, fmt.Errorf("start topology: %w", err)
	}
	defer topo.Stop()
	dctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	if err := topo.WaitDiscovered(dctx); err != nil {
		return s, fmt.Errorf("discovery: %w", err)
	}
	proxies, err := drill.StartProxies(ctx, topo)
	if err != nil {
		return s, err
	}
	servers := []string{topo.Master.Addr()}
	for _, r := range topo.Replicas {
		servers = append(servers, r.Addr())
	}
	dir, err := os.MkdirTemp("", "bench-haproxy-")
	if err != nil {
		return s, err
	}
	defer os.RemoveAll(dir)
	h, err := startHAProxy(ctx, dir, servers)
	if err != nil {
		return s, err
	}
	defer h.stop()
	var sentinels []string
	for _, st := range topo.Sentinels {
		sentinels = append(sentinels, st.Addr())
	}
	clients := []*redis.Client{drill.PlainClient(proxies[0]), drill.PlainClient(h.addr), drill.FailoverClient(topo.Opts.MasterName, sentinels)}
	for _, c := range clients {
		defer c.Close()
	}
	for _, addr := range []string{proxies[0], h.addr} {
		if err := waitWrite(ctx, addr); err != nil {
			return s, fmt.Errorf("first write through %s: %w", addr, err)
		}
	}
	events, err := topo.Subscribe(ctx)
	if err != nil {
		return s, err
	}
	defer events.Close()

	wctx, stopWriters := context.WithTimeout(ctx, 30*time.Second)
	defer stopWriters()
	kill := time.Now()
	if err := topo.Master.Kill(); err != nil {
		return s, fmt.Errorf("kill master: %w", err)
	}
	firsts := make([]time.Time, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); firsts[i] = firstWrite(wctx, c, kill) }()
	}
	ev, err := events.Wait(wctx, func(e cluster.Event) bool { return e.Channel == "+switch-master" })
	wg.Wait()
	if err != nil {
		return s, fmt.Errorf("no +switch-master: %w", err)
	}
	ms := func(t time.Time) float64 { return float64(t.Sub(kill).Microseconds()) / 1000 }
	for i, name := range []string{"our proxy", "HAProxy", "the FailoverClient"} {
		if firsts[i].IsZero() {
			return s, fmt.Errorf("no write through %s within 30 s of the kill", name)
		}
	}
	s = proxySample{switchAt: ms(ev.At), ours: ms(firsts[0]), haproxy: ms(firsts[1]), failover: ms(firsts[2])}
	s.oursAfter, s.haproxyAfter = s.ours-s.switchAt, s.haproxy-s.switchAt
	return s, nil
}

var benchTestRPS = regexp.MustCompile(`(?m)^(SET|GET): ([0-9]+(?:\.[0-9]+)?) requests per second`)

// parseTestsRPS reads the final figures of `redis-benchmark -t set,get -q`.
func parseTestsRPS(out string) (set, get float64, err error) {
	// Progress lines are redrawn with carriage returns.
	out = strings.ReplaceAll(out, "\r", "\n")
	for _, m := range benchTestRPS.FindAllStringSubmatch(out, -1) {
		v, perr := strconv.ParseFloat(m[2], 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("parse %q: %w", m[2], perr)
		}
		if m[1] == "SET" {
			set = v
		} else {
			get = v
		}
	}
	if set == 0 || get == 0 {
		return 0, 0, errNoRPS
	}
	return set, get, nil
}

// proxyThroughput is requests/s of SET and GET per path.
type proxyThroughput struct{ set, get map[string][]float64 }

// runProxyThroughput runs `redis-benchmark -t set,get -c 50` rounds times
// directly against the master, through our proxy and through HAProxy,
// interleaved so drift on the host hits all three.
func (b *bench) runProxyThroughput(ctx context.Context, ours impl, rounds, requests int) (proxyThroughput, error) {
	tp := proxyThroughput{set: map[string][]float64{}, get: map[string][]float64{}}
	topo, err := cluster.Start(ctx, cluster.Options{Replicas: 1, Sentinels: 1, DownAfter: throughputDownAfter,
		SentinelCommand: ours.command})
	if err != nil {
		return tp, fmt.Errorf("start topology: %w", err)
	}
	defer topo.Stop()
	proxies, err := drill.StartProxies(ctx, topo)
	if err != nil {
		return tp, err
	}
	dir, err := os.MkdirTemp("", "bench-haproxy-")
	if err != nil {
		return tp, err
	}
	defer os.RemoveAll(dir)
	h, err := startHAProxy(ctx, dir, []string{topo.Master.Addr(), topo.Replicas[0].Addr()})
	if err != nil {
		return tp, err
	}
	defer h.stop()
	paths := []struct{ name, addr string }{{"direct", topo.Master.Addr()}, {"ours", proxies[0]}, {"haproxy", h.addr}}
	for _, p := range paths {
		if err := waitWrite(ctx, p.addr); err != nil {
			return tp, fmt.Errorf("write through %s %s: %w", p.name, p.addr, err)
		}
	}
	if n, err := threadsOf(h.cmd.Process.Pid); err == nil {
		b.note("HAProxy ran %d threads (its default nbthread: one per CPU)", n)
	}
	for i := range rounds {
		for _, p := range paths {
			host, port, _ := net.SplitHostPort(p.addr)
			out, err := exec.CommandContext(ctx, "redis-benchmark", "-h", host, "-p", port, "-t", "set,get",
				"-c", "50", "-n", strconv.Itoa(requests), "-q").CombinedOutput()
			if err != nil {
				return tp, fmt.Errorf("redis-benchmark via %s: %w: %s", p.name, err, strings.TrimSpace(string(out)))
			}
			set, get, err := parseTestsRPS(string(out))
			if err != nil {
				return tp, fmt.Errorf("redis-benchmark via %s: %w", p.name, err)
			}
			tp.set[p.name] = append(tp.set[p.name], set)
			tp.get[p.name] = append(tp.get[p.name], get)
			b.progress("proxy throughput round %d/%d %-7s: SET %.0f/s, GET %.0f/s", i+1, rounds, p.name, set, get)
		}
	}
	return tp, nil
}

func (b *bench) proxySection(ctx context.Context) error {
	for _, bin := range []string{"haproxy", "redis-benchmark"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not installed: %w", bin, err)
		}
	}
	ours := b.impls[0]
	runs := 5
	if b.cfg.quick {
		runs = 2
	}
	var samples []proxySample
	var errs []error
	for failures := 0; len(samples) < runs && ctx.Err() == nil; {
		s, err := b.runProxyDrill(ctx, ours)
		if err != nil {
			failures++
			b.note("proxy drill attempt failed: %v", err)
			if failures > maxFailures(runs) {
				errs = append(errs, fmt.Errorf("proxy drills: %d failed attempts", failures))
				break
			}
			continue
		}
		samples = append(samples, s)
		b.progress("proxy drill %d/%d: +switch-master %.0f ms; first write: our proxy %.0f ms (%+.0f), HAProxy %.0f ms (%+.0f), FailoverClient %.0f ms",
			len(samples), runs, s.switchAt, s.ours, s.oursAfter, s.haproxy, s.haproxyAfter, s.failover)
	}
	b.rep.Rows = append(b.rep.Rows, proxyDrillRows(samples)...)
	tp, err := b.runProxyThroughput(ctx, ours, b.plan.rounds, b.plan.requests)
	if err != nil {
		errs = append(errs, err)
	}
	b.rep.Rows = append(b.rep.Rows, proxyThroughputRows(tp)...)
	return errors.Join(errs...)
}

func proxyDrillRows(samples []proxySample) []Row {
	pick := func(f func(proxySample) float64) []float64 {
		var v []float64
		for _, s := range samples {
			v = append(v, f(s))
		}
		return v
	}
	spec := func(metric string, targets ...Target) rowSpec {
		return rowSpec{section: sectionProxy, metric: metric, unit: "ms", targets: targets}
	}
	ours := pick(func(s proxySample) float64 { return s.ours })
	return []Row{
		newRow(spec("kill → +switch-master (ours; -)"), pick(func(s proxySample) float64 { return s.switchAt }), nil),
		newRow(spec("+switch-master → first write (our proxy; HAProxy)", atMost(StatMedian, 50)),
			pick(func(s proxySample) float64 { return s.oursAfter }), pick(func(s proxySample) float64 { return s.haproxyAfter })),
		newRow(spec("kill → first write (our proxy; HAProxy)", notWorse()), ours, pick(func(s proxySample) float64 { return s.haproxy })),
		newRow(spec("kill → first write (our proxy; go-redis FailoverClient)", notWorse()), ours,
			pick(func(s proxySample) float64 { return s.failover })),
	}
}

// threadsOf reads the thread count of process pid from /proc.
func threadsOf(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no Threads line", pid)
}

// proxyThroughputRows compare medians: the rounds interleave the paths, so
// host load that comes and goes hits each path about as often, and the
// median is what a typical round gives.
func proxyThroughputRows(tp proxyThroughput) []Row {
	spec := func(metric string, targets ...Target) rowSpec {
		return rowSpec{section: sectionProxy, metric: metric, unit: "requests/s", higherBetter: true, headline: StatMedian, targets: targets}
	}
	var rows []Row
	for _, t := range []struct {
		name string
		rps  map[string][]float64
	}{{"SET", tp.set}, {"GET", tp.get}} {
		rows = append(rows,
			newRow(spec("redis-benchmark -c 50 "+t.name+" (our proxy; HAProxy)", ratioAtLeast(1)), t.rps["ours"], t.rps["haproxy"]),
			newRow(spec("redis-benchmark -c 50 "+t.name+" (our proxy; direct)"), t.rps["ours"], t.rps["direct"]),
			newRow(spec("redis-benchmark -c 50 "+t.name+" (HAProxy; direct)"), t.rps["haproxy"], t.rps["direct"]),
		)
	}
	return rows
}
