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

// tlsSeries is one sentinel on one transport, filled round by round.
type tlsSeries struct {
	im      impl
	tls     bool
	samples []drillSample
	broken  bool // gave up after too many failed attempts
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
	var series []*tlsSeries
	for _, im := range b.impls {
		series = append(series, &tlsSeries{im: im}, &tlsSeries{im: im, tls: true})
	}
	for round := 1; round <= n && ctx.Err() == nil; round++ {
		for _, s := range series {
			if s.broken || ctx.Err() != nil {
				continue
			}
			opts := drill.DefaultLocalOptions()
			opts.TLS = s.tls
			got, _, err := b.runDrillsWith(ctx, s.im, opts, 1)
			s.samples = append(s.samples, got...)
			if err != nil && ctx.Err() == nil {
				s.broken = true
				b.fail(fmt.Sprintf("%s %s %s", sectionTLS, s.im.name, transport(s.tls)), err)
			}
		}
	}
	pick := func(name string, tls bool, f func(drillSample) float64) []float64 {
		var v []float64
		for _, s := range series {
			if s.im.name == name && s.tls == tls {
				for _, d := range s.samples {
					v = append(v, f(d))
				}
			}
		}
		return v
	}
	b.rep.Rows = append(b.rep.Rows, tlsRows(time.Second, pick)...)
	return ctx.Err()
}

func transport(tls bool) string {
	if tls {
		return "TLS"
	}
	return "plaintext"
}

// tlsRows are the section's rows; pick returns one figure of one
// sentinel's drills on one transport. The TLS rows have the plaintext
// drills' targets: TLS must not slow the failover down.
func tlsRows(downAfter time.Duration, pick func(name string, tls bool, f func(drillSample) float64) []float64) []Row {
	da := float64(downAfter.Milliseconds())
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
