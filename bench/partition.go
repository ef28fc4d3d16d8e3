package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/seed877ff415/sentinel/internal/drill"
	"github.com/seed877ff415/sentinel/internal/netns"
	"github.com/seed877ff415/sentinel/internal/partition"
)

// partitionDownAfter is the down-after of the partition runs; the fence is
// due within it plus one second (below 2 s it is due within 3 s instead).
const partitionDownAfter = 2 * time.Second

// cutLengths are how long the master's host is cut off, with the most
// ours/redis may lose of the writes the cut-off master acknowledged.
var cutLengths = []struct {
	d        time.Duration
	maxRatio float64
}{{8 * time.Second, 1.0 / 3}, {30 * time.Second, 0.1}}

// override applies the flags that set a run count.
func (p plan) override(c config) plan {
	if c.partitionRuns > 0 {
		p.partitionRuns = c.partitionRuns
	}
	if c.loadedDrills > 0 {
		p.loadedDrills = c.loadedDrills
	}
	return p
}

// partitionSection cuts the master's host off for each cut length, several
// times per implementation, each run on a fresh three-host cluster.
func (b *bench) partitionSection(ctx context.Context) error {
	if err := netns.Available(); err != nil {
		return err
	}
	if err := netns.Sweep(ctx); err != nil {
		b.note("sweep of leftover lab namespaces: %v", err)
	}
	for _, cl := range cutLengths {
		results := map[string][]partition.Result{}
		err := b.each(ctx, sectionPartition, func(im impl) error {
			for run := 1; run <= b.plan.partitionRuns; run++ {
				res, err := b.runCut(ctx, im, cl.d)
				if err != nil {
					return fmt.Errorf("cut %v run %d: %w", cl.d, run, err)
				}
				results[im.name] = append(results[im.name], res)
				b.progress("partition %-5s cut %2.0fs %d/%d seed %d: lost %d acked by the old master, %d by the new; last old ack %s, first refusal %s, converged %v, %d broken invariants",
					im.name, cl.d.Seconds(), run, b.plan.partitionRuns, res.Seed, res.LostOld, res.LostNew,
					formatSince(res.LastOldAck), formatSince(res.FirstRefusal), res.Converged.Round(time.Millisecond), len(res.Violations))
				for _, v := range res.Violations {
					b.note("partition %s cut %v seed %d: %s", im.name, cl.d, res.Seed, v)
				}
			}
			return nil
		})
		b.rep.Rows = append(b.rep.Rows, partitionRows(cl.d, cl.maxRatio, results[nameOurs], results[nameRedis])...)
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) runCut(ctx context.Context, im impl, d time.Duration) (partition.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, d+2*time.Minute)
	defer cancel()
	c, err := partition.Start(ctx, partition.Options{SentinelCommand: im.command, DownAfter: partitionDownAfter})
	if err != nil {
		return partition.Result{}, err
	}
	defer c.Close()
	return c.Run(ctx, partition.Scenario{Fault: partition.FaultCut, Duration: d})
}

// collect returns f of each x for which f reports a value.
func collect[T any](xs []T, f func(T) (float64, bool)) []float64 {
	var v []float64
	for _, x := range xs {
		if y, ok := f(x); ok {
			v = append(v, y)
		}
	}
	return v
}

func formatSince(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return d.Round(time.Millisecond).String()
}

// partitionRows turns the cuts of one length into report rows.
func partitionRows(d time.Duration, maxRatio float64, ours, redis []partition.Result) []Row {
	pick := collect[partition.Result]
	ms := func(f func(partition.Result) time.Duration) func(partition.Result) (float64, bool) {
		return func(r partition.Result) (float64, bool) {
			return float64(f(r)) / float64(time.Millisecond), f(r) >= 0
		}
	}
	count := func(f func(partition.Result) int) func(partition.Result) (float64, bool) {
		return func(r partition.Result) (float64, bool) { return float64(f(r)), true }
	}
	// Writes are only tallied in runs that converged.
	tallied := func(f func(partition.Result) int) func(partition.Result) (float64, bool) {
		return func(r partition.Result) (float64, bool) { return float64(f(r)), r.FinalHost >= 0 }
	}
	suffix := fmt.Sprintf(", cut %.0f s", d.Seconds())
	spec := func(metric, unit string, targets ...Target) rowSpec {
		return rowSpec{section: sectionPartition, metric: metric + suffix, unit: unit, targets: targets}
	}
	fence := float64((partitionDownAfter + time.Second).Milliseconds())
	lostOld := tallied(func(r partition.Result) int { return r.LostOld })
	lostNew := tallied(func(r partition.Result) int { return r.LostNew })
	broken := count(func(r partition.Result) int { return len(r.Violations) })
	lastAck := ms(func(r partition.Result) time.Duration { return r.LastOldAck })
	refusal := ms(func(r partition.Result) time.Duration { return r.FirstRefusal })
	return []Row{
		newRow(spec("acked writes lost, cut-off master", "writes", ratioAtMost(maxRatio)), pick(ours, lostOld), pick(redis, lostOld)),
		newRow(spec("acked writes lost, majority masters", "writes", atMost(StatMax, 0)), pick(ours, lostNew), pick(redis, lostNew)),
		newRow(spec("cut → old master's last ack", "ms", atMost(StatMax, fence)), pick(ours, lastAck), pick(redis, lastAck)),
		newRow(spec("cut → old master refuses writes", "ms", atMost(StatMax, fence)), pick(ours, refusal), pick(redis, refusal)),
		newRow(spec("broken invariants per run", "", atMost(StatMax, 0)), pick(ours, broken), pick(redis, broken)),
		newRow(spec("runs in which no replica was promoted", "", atMost(StatMax, 0)), noFailover(ours), noFailover(redis)),
	}
}

// noFailover counts the runs whose final master is the old one, as one
// sample (none without runs): lost-write figures mean little without a
// failover.
func noFailover(rs []partition.Result) []float64 {
	if len(rs) == 0 {
		return nil
	}
	n := 0
	for _, r := range rs {
		if r.FinalHost <= 0 {
			n++
		}
	}
	return []float64{float64(n)}
}

// loadedSection runs kill drills with 3 and 5 sentinels while stress-ng
// keeps two CPUs busy.
func (b *bench) loadedSection(ctx context.Context) error {
	stop, err := startStress(ctx)
	if err != nil {
		return err
	}
	defer stop()
	for _, n := range []int{3, 5} {
		sets := map[string][]drillSample{}
		failed, twoLeaders := map[string][]float64{}, map[string][]float64{}
		err := b.each(ctx, sectionLoaded, func(im impl) error {
			opts := drill.DefaultLocalOptions()
			opts.Sentinels = n
			b.progress("loaded drills: %s, %d sentinels", im.name, n)
			series, err := b.runDrillsWith(ctx, im, opts, b.plan.loadedDrills)
			sets[im.name] = series.samples
			failed[im.name] = []float64{float64(series.failures)}
			twoLeaders[im.name] = []float64{float64(series.twoLeaders)}
			return err
		})
		b.rep.Rows = append(b.rep.Rows, loadedRows(n, sets[nameOurs], sets[nameRedis])...)
		// A drill that timed out (no election, say) is the worst case, not a retry.
		b.rep.Rows = append(b.rep.Rows, newRow(rowSpec{section: sectionLoaded,
			metric: fmt.Sprintf("failed drill attempts (a phase timed out or two leaders), %d sentinels, loaded", n), targets: []Target{atMost(StatMax, 0)}},
			failed[nameOurs], failed[nameRedis]),
			twoLeadersRow(sectionLoaded, fmt.Sprintf("epochs with two leaders (all attempts), %d sentinels, loaded", n),
				twoLeaders[nameOurs], twoLeaders[nameRedis]))
		if err != nil {
			return err
		}
	}
	return nil
}

// startStress starts `stress-ng --cpu 2` and returns what stops it.
func startStress(ctx context.Context) (func(), error) {
	if _, err := exec.LookPath("stress-ng"); err != nil {
		return nil, fmt.Errorf("stress-ng is not installed (package stress-ng): %w", err)
	}
	cmd := exec.Command("stress-ng", "--cpu", "2", "--quiet")
	// Its own group, so its workers are reached too; it dies with us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start stress-ng: %w", err)
	}
	return func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if err := cmd.Wait(); err != nil && !isKilled(err) {
			fmt.Fprintln(os.Stderr, "stress-ng:", err)
		}
	}, ctx.Err()
}

func isKilled(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && !ee.Exited()
}

// loadedRows reports kill → +elected-leader (the election, due within
// down-after + 1 s) and kill → +switch-master for n sentinels.
func loadedRows(n int, ours, redis []drillSample) []Row {
	da := float64(drill.DefaultLocalOptions().DownAfter.Milliseconds())
	pick := collect[drillSample]
	suffix := fmt.Sprintf(", %d sentinels, loaded", n)
	el := func(s drillSample) (float64, bool) { return s.toElected, true }
	sw := func(s drillSample) (float64, bool) { return s.toSwitch, true }
	return []Row{
		newRow(rowSpec{section: sectionLoaded, metric: "kill → +elected-leader" + suffix, unit: "ms",
			targets: []Target{atMost(StatMax, da+1000)}}, pick(ours, el), pick(redis, el)),
		newRow(rowSpec{section: sectionLoaded, metric: "kill → +switch-master" + suffix, unit: "ms"}, pick(ours, sw), pick(redis, sw)),
	}
}
