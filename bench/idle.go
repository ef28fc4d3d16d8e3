package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

const (
	// clockTicks is USER_HZ, the unit of /proc/<pid>/stat CPU times; it is
	// 100 on every Linux architecture Go supports.
	clockTicks = 100
	// startParallel bounds how many redis-servers start at once.
	startParallel = 8
	// monitorTimeout bounds a sentinel learning every group's replica
	// (INFO to masters every 10 s).
	monitorTimeout = 60 * time.Second
)

// fleetConf keeps 200 idle redis-servers small and quiet, so they neither
// crowd the machine nor disturb the CPU figure of the sentinel.
var fleetConf = []string{"maxmemory 32mb", "repl-backlog-size 16kb", "databases 1", "hz 1"}

// parseCPUTicks returns utime+stime from the text of /proc/<pid>/stat.
// Fields are counted after the ")" closing the command name, which may
// itself hold spaces.
func parseCPUTicks(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("proc stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the name", len(f))
	}
	utime, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat utime: %w", err)
	}
	stime, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat stime: %w", err)
	}
	return utime + stime, nil
}

// parseVmRSS returns VmRSS in KiB from the text of /proc/<pid>/status.
func parseVmRSS(status string) (uint64, error) {
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc status VmRSS: %w", err)
		}
		return kb, nil
	}
	return 0, errors.New("proc status: no VmRSS line")
}

// countMonitored counts the masters in INFO sentinel output that are ok and
// have at least one replica.
func countMonitored(info string) int {
	n := 0
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(k, "master") || k == "masters" {
			continue
		}
		if strings.Contains(v, "status=ok") && !strings.Contains(v, "slaves=0,") {
			n++
		}
	}
	return n
}

func cpuTicks(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseCPUTicks(string(b))
}

func rssKiB(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(string(b))
}

// fleet is the idle benchmark's master groups: masters[i] with its one
// replica replicas[i].
type fleet struct {
	dir      string
	masters  []*cluster.Redis
	replicas []*cluster.Redis
}

// startFleet starts groups masters, then one replica of each, and waits
// until every replica's link is up. On error it stops what it started.
func startFleet(ctx context.Context, groups int) (*fleet, error) {
	dir, err := os.MkdirTemp("/dev/shm", "sentinel-bench-idle-")
	if err != nil {
		if dir, err = os.MkdirTemp("", "sentinel-bench-idle-"); err != nil {
			return nil, fmt.Errorf("fleet dir: %w", err)
		}
	}
	f := &fleet{dir: dir, masters: make([]*cluster.Redis, groups), replicas: make([]*cluster.Redis, groups)}
	if err := f.startAll(ctx, f.masters, func(i int) (string, []string) {
		return fmt.Sprintf("g%d-master", i+1), fleetConf
	}); err != nil {
		f.stop()
		return nil, err
	}
	if err := f.startAll(ctx, f.replicas, func(i int) (string, []string) {
		return fmt.Sprintf("g%d-replica", i+1), append([]string{fmt.Sprintf("replicaof 127.0.0.1 %d", f.masters[i].Port)}, fleetConf...)
	}); err != nil {
		f.stop()
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, monitorTimeout)
	defer cancel()
	for _, r := range f.replicas {
		err := cluster.WaitFor(lctx, 50*time.Millisecond, func() (bool, error) {
			info, err := r.Client().Info(lctx, "replication").Result()
			return err == nil && strings.Contains(info, "master_link_status:up"), err
		})
		if err != nil {
			f.stop()
			return nil, fmt.Errorf("replica %s link: %w", r.Addr(), err)
		}
	}
	return f, nil
}

// startAll fills into[i] with a redis-server for each i, a few at a time.
func (f *fleet) startAll(ctx context.Context, into []*cluster.Redis, spec func(i int) (string, []string)) error {
	sem := make(chan struct{}, startParallel)
	var wg sync.WaitGroup
	errs := make([]error, len(into))
	for i := range into {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			name, conf := spec(i)
			into[i], errs[i] = cluster.StartRedisOnFreePort(ctx, filepath.Join(f.dir, name), conf...)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// stop stops every redis-server of the fleet and removes its directory.
func (f *fleet) stop() {
	var wg sync.WaitGroup
	for _, r := range append(slicesNonNil(f.masters), slicesNonNil(f.replicas)...) {
		wg.Go(func() { _ = r.Stop() })
	}
	wg.Wait()
	// Best effort: a leftover temp dir is harmless.
	_ = os.RemoveAll(f.dir)
}

func slicesNonNil(rs []*cluster.Redis) []*cluster.Redis {
	var out []*cluster.Redis
	for _, r := range rs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// idleSentinelConf monitors the first groups masters of the fleet, each
// as its own group g<i> with quorum 1 and default timers.
func (f *fleet) idleSentinelConf(port, groups int) string {
	var extra []string
	for i, m := range f.masters[1:groups] {
		extra = append(extra, fmt.Sprintf("sentinel monitor g%d 127.0.0.1 %d 1", i+2, m.Port))
	}
	return cluster.SentinelConf(port, "g1", f.masters[0].Port, 1, 30000, 180000, extra...)
}

// idleFigures is one idle measurement.
type idleFigures struct {
	cpuPercent float64
	rssMiB     float64
}

// measureIdle starts one sentinel of impl monitoring the first groups
// groups, waits until it knows every group's replica, lets it settle, then
// measures its CPU use over window and its RSS at the end.
func (b *bench) measureIdle(ctx context.Context, im impl, f *fleet, groups int, settle, window time.Duration) (idleFigures, error) {
	dir := filepath.Join(f.dir, fmt.Sprintf("sentinel-%s-%d", im.name, groups))
	s, err := cluster.StartSentinelOnFreePort(ctx, im.command, dir, func(port int) string { return f.idleSentinelConf(port, groups) })
	if err != nil {
		return idleFigures{}, fmt.Errorf("start sentinel: %w", err)
	}
	// Stop always reaps the process; its error has no bearing on the figures.
	defer func() { _ = s.Stop() }()
	mctx, cancel := context.WithTimeout(ctx, monitorTimeout)
	defer cancel()
	err = cluster.WaitFor(mctx, 200*time.Millisecond, func() (bool, error) {
		cmd := redis.NewStringCmd(mctx, "info", "sentinel")
		if err := s.Client().Process(mctx, cmd); err != nil {
			return false, err
		}
		if n := countMonitored(cmd.Val()); n < groups {
			return false, fmt.Errorf("%d of %d groups monitored with their replica", n, groups)
		}
		return true, nil
	})
	if err != nil {
		return idleFigures{}, fmt.Errorf("sentinel %s: %w", s.Addr(), err)
	}
	if err := sleep(ctx, settle); err != nil {
		return idleFigures{}, err
	}
	pid := s.PID()
	t0, err := cpuTicks(pid)
	if err != nil {
		return idleFigures{}, err
	}
	start := time.Now()
	if err := sleep(ctx, window); err != nil {
		return idleFigures{}, err
	}
	t1, err := cpuTicks(pid)
	if err != nil {
		return idleFigures{}, err
	}
	elapsed := time.Since(start)
	kb, err := rssKiB(pid)
	if err != nil {
		return idleFigures{}, err
	}
	fig := idleFigures{
		cpuPercent: cpuPercent(t1-t0, elapsed),
		rssMiB:     float64(kb) / 1024,
	}
	b.progress("idle %-5s groups %3d: CPU %.2f%% of one core over %v, RSS %.1f MiB", im.name, groups, fig.cpuPercent, window, fig.rssMiB)
	return fig, nil
}

// cpuPercent is CPU time in ticks over elapsed, as percent of one core,
// rounded to 0.01: a tick over 30 s is 0.033%, so finer digits only carry
// the jitter of elapsed and would make equal tick counts compare unequal.
func cpuPercent(ticks uint64, elapsed time.Duration) float64 {
	return math.Round(float64(ticks)/clockTicks/elapsed.Seconds()*100*100) / 100
}

// sleep waits d as part of the measurement protocol, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func idleRows(groups int, ours, redis []idleFigures) []Row {
	pick := func(v []idleFigures, f func(idleFigures) float64) []float64 {
		var out []float64
		for _, x := range v {
			out = append(out, f(x))
		}
		return out
	}
	g := fmt.Sprintf(", %d groups", groups)
	if groups == 1 {
		g = ", 1 group"
	}
	return []Row{
		newRow(rowSpec{section: sectionIdle, metric: "CPU of one core" + g, unit: "%", targets: []Target{notWorse()}},
			pick(ours, func(x idleFigures) float64 { return x.cpuPercent }), pick(redis, func(x idleFigures) float64 { return x.cpuPercent })),
		newRow(rowSpec{section: sectionIdle, metric: "RSS" + g, unit: "MiB", targets: []Target{notWorse()}},
			pick(ours, func(x idleFigures) float64 { return x.rssMiB }), pick(redis, func(x idleFigures) float64 { return x.rssMiB })),
	}
}
