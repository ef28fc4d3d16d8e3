package main

import (
	"context"
	"fmt"
	"time"

	"github.com/seed877ff415/sentinel/internal/drill"
)

const sectionTLS = "tls"

// tlsDrills is how many drills of each sentinel run per transport (quick:
// one).
const tlsDrills = 5

// tlsSeries names one sentinel on one transport.
type tlsSeries struct {
	name string
	tls  bool
}

// tlsSection times the kill-the-master drill on a TLS-only topology beside
// the same drill in plaintext (down-after 1000, 3 sentinels, 2 replicas).
// The series alternate drill by drill, so drift on the host reaches all of
// them alike.
func (b *bench) tlsSection(ctx context.Context) error {
	n := tlsDrills
	if b.cfg.quick {
		n = 1
	}
	samples := map[tlsSeries][]drillSample{}
	broken := map[tlsSeries]bool{} // gave up after too many failed attempts
	for round := 1; round <= n && ctx.Err() == nil; round++ {
		for _, im := range b.impls {
			for _, tls := range []bool{false, true} {
				key := tlsSeries{im.name, tls}
				if broken[key] || ctx.Err() != nil {
					continue
				}
				opts := drill.DefaultLocalOptions()
				opts.TLS = tls
				series, err := b.runDrillsWith(ctx, im, opts, 1)
				samples[key] = append(samples[key], series.samples...)
				if err != nil && ctx.Err() == nil {
					broken[key] = true
					b.fail(fmt.Sprintf("%s %s %s", sectionTLS, im.name, transport(tls)), err)
				}
			}
		}
	}
	b.rep.Rows = append(b.rep.Rows, tlsRows(time.Second, samples)...)
	return ctx.Err()
}

func transport(tls bool) string {
	if tls {
		return "TLS"
	}
	return "plaintext"
}

// tlsRows are the section's rows, plaintext then TLS. The TLS rows have the
// plaintext drills' targets: TLS must not slow the failover down.
func tlsRows(downAfter time.Duration, samples map[tlsSeries][]drillSample) []Row {
	da := float64(downAfter.Milliseconds())
	pick := func(name string, tls bool, f func(drillSample) float64) []float64 {
		var v []float64
		for _, s := range samples[tlsSeries{name, tls}] {
			v = append(v, f(s))
		}
		return v
	}
	spec := func(metric string, tls bool, targets ...Target) rowSpec {
		return rowSpec{section: sectionTLS, metric: fmt.Sprintf("%s, %s, down-after %.0f", metric, transport(tls), da),
			unit: "ms", targets: targets}
	}
	sw := func(s drillSample) float64 { return s.toSwitch }
	wr := func(s drillSample) float64 { return s.toWrite }
	var rows []Row
	for _, tls := range []bool{false, true} {
		rows = append(rows,
			newRow(spec("kill → +switch-master", tls, atMost(StatMedian, da+100), atMost(StatMax, da+250)),
				pick(nameOurs, tls, sw), pick(nameRedis, tls, sw)),
			newRow(spec("kill → first write", tls), pick(nameOurs, tls, wr), pick(nameRedis, tls, wr)))
	}
	return rows
}
