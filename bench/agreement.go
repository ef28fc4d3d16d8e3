package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

const (
	// agreementDownAfter is the down-after of the agreement runs; the
	// figures measured do not depend on it.
	agreementDownAfter = time.Second
	// agreementFailoverTimeout matches the drills' failover-timeout.
	agreementFailoverTimeout = 10 * time.Second
	// electTimeout allows one failed election and its retry after
	// 2×failover-timeout.
	electTimeout = agreementDownAfter + 2*agreementFailoverTimeout + 5*time.Second
	// discoverTimeout bounds the sentinels finding each other (hellos
	// every 2 s).
	discoverTimeout = 30 * time.Second
)

// agreementSample is one run's agreement latencies, in ms.
type agreementSample struct {
	sdownToOdown, odownToElected float64
}

// errNoEvent is wrapped when a run's events lack a step.
var errNoEvent = errors.New("event not observed")

// agreementFromEvents measures from the first +sdown of master name on any
// sentinel to the first +odown, and from there to the first
// +elected-leader.
func agreementFromEvents(events []cluster.Event, name string) (agreementSample, error) {
	first := map[string]time.Time{}
	for _, e := range events {
		switch e.Channel {
		case "+sdown", "+odown", "+elected-leader":
		default:
			continue
		}
		if _, seen := first[e.Channel]; seen || !aboutMaster(e.Payload, name) {
			continue
		}
		first[e.Channel] = e.At
	}
	for _, ch := range []string{"+sdown", "+odown", "+elected-leader"} {
		if _, ok := first[ch]; !ok {
			return agreementSample{}, fmt.Errorf("%w: %s master %s", errNoEvent, ch, name)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return agreementSample{
		sdownToOdown:   ms(first["+odown"].Sub(first["+sdown"])),
		odownToElected: ms(first["+elected-leader"].Sub(first["+odown"])),
	}, nil
}

// aboutMaster reports whether an event payload ("master <name> <ip>
// <port> ...") is about master group name.
func aboutMaster(payload, name string) bool {
	f := strings.Fields(payload)
	return len(f) >= 4 && f[0] == "master" && f[1] == name
}

// agreementRun starts a master, 2 replicas and n sentinels, kills the
// master and times the agreement from the sentinels' events.
func agreementRun(ctx context.Context, im impl, n int) (agreementSample, error) {
	topo, err := cluster.Start(ctx, cluster.Options{
		Replicas:        2,
		Sentinels:       n,
		DownAfter:       agreementDownAfter,
		FailoverTimeout: agreementFailoverTimeout,
		SentinelCommand: im.command,
	})
	if err != nil {
		return agreementSample{}, fmt.Errorf("start topology: %w", err)
	}
	defer topo.Stop()
	dctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	if err := topo.WaitDiscovered(dctx); err != nil {
		return agreementSample{}, fmt.Errorf("discovery: %w", err)
	}
	events, err := topo.Subscribe(ctx)
	if err != nil {
		return agreementSample{}, err
	}
	defer events.Close()
	if err := topo.Master.Kill(); err != nil {
		return agreementSample{}, fmt.Errorf("kill master: %w", err)
	}
	name := topo.Opts.MasterName
	wctx, cancelWait := context.WithTimeout(ctx, electTimeout)
	defer cancelWait()
	if _, err := events.Wait(wctx, func(e cluster.Event) bool {
		return e.Channel == "+elected-leader" && aboutMaster(e.Payload, name)
	}); err != nil {
		return agreementSample{}, fmt.Errorf("no +elected-leader: %w", err)
	}
	return agreementFromEvents(events.All(), name)
}

// runAgreement returns n samples for impl with the given sentinel count,
// taking them from this run's drills when there are enough.
func (b *bench) runAgreement(ctx context.Context, im impl, sentinels, n int) ([]agreementSample, error) {
	if sentinels == 3 {
		if drills := b.drills1000[im.name]; len(drills) >= n {
			var out []agreementSample
			for _, s := range drills {
				out = append(out, s.agreement)
			}
			b.progress("agreement %-5s %d sentinels: %d samples from the drills at down-after 1000", im.name, sentinels, len(out))
			if note := "3-sentinel agreement figures come from the drills at down-after 1000 (1 ms resolution)"; !slices.Contains(b.rep.Notes, note) {
				b.note("%s", note)
			}
			return out, nil
		}
	}
	var out []agreementSample
	failures := 0
	for len(out) < n {
		s, err := agreementRun(ctx, im, sentinels)
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			failures++
			b.note("agreement %s %d sentinels attempt %d failed: %v", im.name, sentinels, len(out)+failures, err)
			b.progress("agreement %-5s %d sentinels attempt FAILED: %v", im.name, sentinels, err)
			if failures > maxFailures(n) {
				return out, fmt.Errorf("agreement of %s with %d sentinels: %d failed attempts", im.name, sentinels, failures)
			}
			continue
		}
		out = append(out, s)
		b.progress("agreement %-5s %d sentinels %2d/%d: sdown→odown %6.1f ms, odown→elected %6.1f ms",
			im.name, sentinels, len(out), n, s.sdownToOdown, s.odownToElected)
	}
	return out, nil
}

// agreementRows turns the samples of ours and redis-sentinel with one
// sentinel count into report rows; redis may be empty.
func agreementRows(sentinels int, ours, redis []agreementSample) []Row {
	pick := func(v []agreementSample, f func(agreementSample) float64) []float64 {
		var out []float64
		for _, s := range v {
			out = append(out, f(s))
		}
		return out
	}
	so := func(s agreementSample) float64 { return s.sdownToOdown }
	oe := func(s agreementSample) float64 { return s.odownToElected }
	spec := func(metric string) rowSpec {
		return rowSpec{section: sectionAgreement, metric: fmt.Sprintf("%s, %d sentinels", metric, sentinels),
			unit: "ms", targets: []Target{atMost(StatMax, 50)}}
	}
	return []Row{
		newRow(spec("+sdown → +odown"), pick(ours, so), pick(redis, so)),
		newRow(spec("+odown → +elected-leader"), pick(ours, oe), pick(redis, oe)),
	}
}
