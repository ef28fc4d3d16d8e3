package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// ErrTimeout is wrapped when a phase does not come in time.
var ErrTimeout = errors.New("drill timed out")

// restartGrace bounds restarting the old master (a process start).
const restartGrace = 15 * time.Second

// follower is the run loop of one drill: it owns res and newMaster, turns
// observations into timeline lines, and starts the pollers and the old
// master's restart when their time comes.
type follower struct {
	name      string
	oldMaster string
	replicas  []string // the data nodes but the old master, at the start
	expect    []Phase
	downAfter time.Duration
	failover  time.Duration // failover-timeout
	rejoin    time.Duration // how long the old master may take to rejoin
	nodes     *nodes
	rep       *reporter
	obs       chan observation
	// restart brings the old master back (sandbox); nil when it comes back
	// by itself (live).
	restart func(context.Context) error

	res       *Result
	leaders   leaderCheck
	newMaster string
	restarted bool // restart started
	wg        sync.WaitGroup
}

// run consumes observations until every expected phase was seen, one is
// late, or ctx ends. The pollers it started are stopped before it returns.
func (f *follower) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		f.wg.Wait()
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		missing, ok := f.missing()
		if !ok {
			f.rep.waiting("", time.Time{})
			f.rep.printf("%s", f.res.electionsLine())
			return nil
		}
		f.rep.waiting(string(missing), f.res.Start)
		deadline := f.deadline(missing)
		timer.Reset(time.Until(deadline))
		select {
		case o := <-f.obs:
			if o.err != nil {
				return o.err
			}
			if err := f.leaders.observe(f.res, o); err != nil {
				return err
			}
			f.observe(ctx, o)
		case <-timer.C:
			return fmt.Errorf("%w: no %s within %v of the %s%s", ErrTimeout, missing,
				deadline.Sub(f.res.Start).Round(time.Millisecond), f.expect[0], f.explain(ctx, missing))
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", missing, ctx.Err())
		}
	}
}

// explain probes the data nodes once to say why a polled phase is late.
func (f *follower) explain(ctx context.Context, p Phase) string {
	var addrs []string
	switch {
	case f.newMaster == "":
		return ""
	case p == PhaseRejoined:
		addrs = []string{f.oldMaster}
	case p == PhaseRepointed:
		addrs = f.replicas
	default:
		return ""
	}
	var states []string
	for _, a := range addrs {
		r, err := f.nodes.replication(ctx, a)
		if err != nil {
			states = append(states, err.Error())
			continue
		}
		states = append(states, fmt.Sprintf("%s: role %s of %q, link up %t", a, r.role, r.master, r.linkUp))
	}
	return fmt.Sprintf(" (new master %s; %s)", f.newMaster, strings.Join(states, "; "))
}

// missing is the first expected phase not yet observed.
func (f *follower) missing() (Phase, bool) {
	for _, p := range f.expect {
		if _, ok := f.res.At(p); !ok {
			return p, true
		}
	}
	return "", false
}

// deadline is when waiting for p becomes a failure: the failover proper
// must end within down-after + failover-timeout (the sentinels' own bound),
// the replicas' reconfiguration within another failover-timeout, and the
// old master's return within the rejoin allowance after it can begin.
func (f *follower) deadline(p Phase) time.Time {
	failoverEnd := f.res.Start.Add(f.downAfter + f.failover)
	switch p {
	case PhaseWrite, PhaseRepointed:
		return failoverEnd.Add(f.failover)
	case PhaseRestarted:
		return time.Now().Add(restartGrace)
	case PhaseRejoined:
		return f.res.Start.Add(time.Duration(f.latest())*time.Millisecond + f.rejoin)
	}
	return failoverEnd
}

// latest is the time of the last phase observed, in ms since the trigger.
func (f *follower) latest() int64 {
	var last int64
	for _, pt := range f.res.Phases {
		last = max(last, pt.MS)
	}
	return last
}

func (f *follower) observe(ctx context.Context, o observation) {
	if o.note {
		f.res.Notes = append(f.res.Notes, o.detail)
		f.rep.printf("%9s  %s", "note", o.detail)
		return
	}
	if _, seen := f.res.At(o.phase); seen || o.phase == "" {
		return
	}
	pt := PhaseTime{Phase: o.phase, MS: o.at.Sub(f.res.Start).Milliseconds(), Detail: o.detail}
	f.res.Phases = append(f.res.Phases, pt)
	f.rep.printf("%s", timelineLine(pt))
	if o.addr != "" && f.newMaster == "" {
		f.newMaster, f.res.NewMaster = o.addr, o.addr
		f.pollRepointed(ctx)
		if f.restart == nil {
			f.pollRejoined(ctx)
		}
	}
	if o.phase == PhaseRestarted {
		f.pollRejoined(ctx)
	}
	if f.restart != nil && !f.restarted && f.seenAll(causes[PhaseRestarted]) {
		f.restarted = true
		f.restartOldMaster(ctx)
	}
}

// seenAll reports whether every phase of ps this drill expects was seen.
func (f *follower) seenAll(ps []Phase) bool {
	for _, p := range ps {
		if _, ok := f.res.At(p); !ok && slices.Contains(f.expect, p) {
			return false
		}
	}
	return true
}

// send hands an observation to the loop unless the run is over.
func (f *follower) send(ctx context.Context, o observation) {
	select {
	case f.obs <- o:
	case <-ctx.Done():
	}
}

// poll reports phase once cond holds; it gives up silently when ctx ends,
// the loop having reported the timeout.
func (f *follower) poll(ctx context.Context, phase Phase, detail string, cond func(context.Context) (bool, error)) {
	f.wg.Go(func() {
		err := cluster.WaitFor(ctx, pollEvery, func() (bool, error) { return cond(ctx) })
		if err == nil {
			f.send(ctx, observation{phase: phase, at: time.Now(), detail: detail})
		}
	})
}

func (f *follower) pollRepointed(ctx context.Context) {
	var others []string
	for _, r := range f.replicas {
		if r != f.newMaster {
			others = append(others, r)
		}
	}
	master := f.newMaster
	f.poll(ctx, PhaseRepointed, fmt.Sprintf("%d other replica(s) follow %s, link up", len(others), master),
		func(ctx context.Context) (bool, error) { return f.nodes.following(ctx, others, master) })
}

func (f *follower) pollRejoined(ctx context.Context) {
	old, master := f.oldMaster, f.newMaster
	f.poll(ctx, PhaseRejoined, fmt.Sprintf("%s is a replica of %s, link up", old, master),
		func(ctx context.Context) (bool, error) { return f.nodes.following(ctx, []string{old}, master) })
}

func (f *follower) restartOldMaster(ctx context.Context) {
	f.wg.Go(func() {
		if err := f.restart(ctx); err != nil {
			f.send(ctx, observation{err: fmt.Errorf("restart old master %s: %w", f.oldMaster, err)})
			return
		}
		f.send(ctx, observation{phase: PhaseRestarted, at: time.Now(), detail: "redis-server " + f.oldMaster + " started again"})
	})
}
