package main

import (
	"context"
	"fmt"
	"time"

	"github.com/seed877ff415/sentinel/internal/drill"
)

// drillSample is what one successful kill drill contributes, in ms.
type drillSample struct {
	toSwitch, toWrite, rejoin float64
	toElected                 float64
	agreement                 agreementSample
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
	samples, _, err := b.runDrillsWith(ctx, im, opts, n)
	return samples, err
}

// runDrillsWith runs n successful drills of impl with opts (whose sentinel
// command it sets), and also returns how many attempts failed.
func (b *bench) runDrillsWith(ctx context.Context, im impl, opts drill.LocalOptions, n int) ([]drillSample, int, error) {
	var samples []drillSample
	opts.SentinelCommand = im.command
	downAfter := opts.DownAfter
	failures := 0
	for len(samples) < n {
		if err := ctx.Err(); err != nil {
			return samples, failures, err
		}
		run := len(samples) + failures + 1
		res, err := drill.RunLocal(ctx, opts, b.drillLog)
		if err == nil {
			var s drillSample
			if s, err = sampleFromResult(res); err == nil {
				samples = append(samples, s)
				b.progress("drill %-5s down-after %-5d %2d/%d: +switch-master %5.0f ms, first write %5.0f ms, rejoin %5.0f ms, sdown→odown %3.0f ms, odown→elected %3.0f ms",
					im.name, downAfter.Milliseconds(), len(samples), n, s.toSwitch, s.toWrite, s.rejoin,
					s.agreement.sdownToOdown, s.agreement.odownToElected)
				continue
			}
		}
		if ctx.Err() != nil {
			return samples, failures, ctx.Err()
		}
		failures++
		b.note("drill %s down-after %d attempt %d failed: %v", im.name, downAfter.Milliseconds(), run, err)
		b.progress("drill %-5s down-after %-5d attempt %d FAILED: %v", im.name, downAfter.Milliseconds(), run, err)
		if failures > maxFailures(n) {
			return samples, failures, fmt.Errorf("drills of %s at down-after %d: %d failed attempts", im.name, downAfter.Milliseconds(), failures)
		}
	}
	return samples, failures, nil
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
	}
}
