package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/internal/drill"
)

// drillSample is what one successful kill drill contributes, in ms, and
// what the attempts that failed before it showed.
type drillSample struct {
	toSwitch, toWrite, rejoin float64
	toElected                 float64
	agreement                 agreementSample
	// twoLeaders counts the epochs with two leaders in this drill and the
	// failed attempts before it (a second leader fails the attempt).
	twoLeaders int
}

// sampleFromResult extracts the figures from a complete drill result.
func sampleFromResult(r *drill.Result) (drillSample, error) {
	at := map[drill.Phase]float64{}
	for _, p := range []drill.Phase{drill.PhaseSDown, drill.PhaseODown, drill.PhaseElected, drill.PhaseSwitch,
		drill.PhaseWrite, drill.PhaseRestarted, drill.PhaseRejoined} {
		ms, ok := r.At(p)
		if !ok {
			return drillSample{}, fmt.Errorf("drill result has no %s", p)
		}
		at[p] = float64(ms)
	}
	return drillSample{
		toSwitch:  at[drill.PhaseSwitch],
		toElected: at[drill.PhaseElected],
		toWrite:   at[drill.PhaseWrite],
		rejoin:    at[drill.PhaseRejoined] - at[drill.PhaseRestarted],
		agreement: agreementSample{
			sdownToOdown:   at[drill.PhaseODown] - at[drill.PhaseSDown],
			odownToElected: at[drill.PhaseElected] - at[drill.PhaseODown],
		},
	}, nil
}

// runDrills runs n successful drills (allowing a few failed attempts, each
// noted) of impl at downAfter with 3 sentinels and 2 replicas.
func (b *bench) runDrills(ctx context.Context, im impl, downAfter time.Duration, n int) ([]drillSample, error) {
	opts := drill.DefaultLocalOptions()
	opts.DownAfter = downAfter
	// The samples carry the two-leader count; attempts failed after the
	// last one end the series with an error, and each is in the notes.
	series, err := b.runDrillsWith(ctx, im, opts, n)
	return series.samples, err
}

// drillSeries is the outcome of runDrillsWith: the successful drills, the
// failed attempts, and the epochs with two leaders over all attempts.
type drillSeries struct {
	samples    []drillSample
	failures   int
	twoLeaders int
}

// runDrillsWith runs n successful drills of impl with opts (whose sentinel
// command it sets), and also counts the failed attempts.
func (b *bench) runDrillsWith(ctx context.Context, im impl, opts drill.LocalOptions, n int) (drillSeries, error) {
	var series drillSeries
	opts.SentinelCommand = im.command
	downAfter := opts.DownAfter
	pending := 0 // two-leader epochs of the failed attempts since the last sample
	for len(series.samples) < n {
		if err := ctx.Err(); err != nil {
			return series, err
		}
		run := len(series.samples) + series.failures + 1
		res, err := drill.RunLocal(ctx, opts, b.drillLog)
		if res != nil {
			series.twoLeaders += res.TwoLeaders()
			pending += res.TwoLeaders()
		}
		if err == nil {
			var s drillSample
			if s, err = sampleFromResult(res); err == nil {
				s.twoLeaders, pending = pending, 0
				series.samples = append(series.samples, s)
				b.progress("drill %-5s down-after %-5d %2d/%d: +switch-master %5.0f ms, first write %5.0f ms, rejoin %5.0f ms, sdown→odown %3.0f ms, odown→elected %3.0f ms",
					im.name, downAfter.Milliseconds(), len(series.samples), n, s.toSwitch, s.toWrite, s.rejoin,
					s.agreement.sdownToOdown, s.agreement.odownToElected)
				continue
			}
		}
		if ctx.Err() != nil {
			return series, ctx.Err()
		}
		series.failures++
		var dump []string
		if res != nil {
			dump = res.Dump
		}
		// The timeline and the sentinels' logs go with the note, so a
		// failure in a long run can be read afterwards.
		b.note("drill %s down-after %d attempt %d failed: %v\n%s", im.name, downAfter.Milliseconds(), run, err, strings.Join(dump, "\n"))
		b.progress("drill %-5s down-after %-5d attempt %d FAILED: %v", im.name, downAfter.Milliseconds(), run, err)
		if b.drillLog == io.Discard && len(dump) > 0 {
			fmt.Fprintln(b.out, strings.Join(dump, "\n"))
		}
		if series.failures > maxFailures(n) {
			return series, fmt.Errorf("drills of %s at down-after %d: %d failed attempts", im.name, downAfter.Milliseconds(), series.failures)
		}
	}
	return series, nil
}

// maxFailures is how many failed attempts a series of n runs tolerates
// before giving up: enough to ride out a flake, not a broken sentinel.
func maxFailures(n int) int { return max(2, n/3) }

// drillRows turns the drills of ours and redis-sentinel at one down-after
// into report rows; redis may be empty.
func drillRows(downAfter time.Duration, ours, redis []drillSample) []Row {
	da := float64(downAfter.Milliseconds())
	pick := func(samples []drillSample, f func(drillSample) float64) []float64 {
		var v []float64
		for _, s := range samples {
			v = append(v, f(s))
		}
		return v
	}
	suffix := fmt.Sprintf(", down-after %.0f", da)
	spec := func(metric string, targets ...Target) rowSpec {
		return rowSpec{section: sectionDrills, metric: metric + suffix, unit: "ms", targets: targets}
	}
	sw := func(s drillSample) float64 { return s.toSwitch }
	wr := func(s drillSample) float64 { return s.toWrite }
	rj := func(s drillSample) float64 { return s.rejoin }
	return []Row{
		newRow(spec("kill → +switch-master", atMost(StatMedian, da+100), atMost(StatMax, da+250)), pick(ours, sw), pick(redis, sw)),
		newRow(spec("kill → first write"), pick(ours, wr), pick(redis, wr)),
		newRow(spec("old master restart → replica", atMost(StatMax, 2000)), pick(ours, rj), pick(redis, rj)),
		twoLeadersRow(sectionDrills, "epochs with two leaders (all attempts)"+suffix, sumTwoLeaders(ours), sumTwoLeaders(redis)),
	}
}

// sumTwoLeaders totals the two-leader epochs of a series as one sample
// (none without drills).
func sumTwoLeaders(samples []drillSample) []float64 {
	if len(samples) == 0 {
		return nil
	}
	n := 0
	for _, s := range samples {
		n += s.twoLeaders
	}
	return []float64{float64(n)}
}

// twoLeadersRow reports a count of epochs with two leaders, whose target is
// none: two leaders of one epoch could both promote a replica.
func twoLeadersRow(section, metric string, ours, redis []float64) Row {
	return newRow(rowSpec{section: section, metric: metric, targets: []Target{atMost(StatMax, 0)}}, ours, redis)
}
