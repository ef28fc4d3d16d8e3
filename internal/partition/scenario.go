package partition

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// Fault is what a scenario does to host 1 (the master's).
type Fault string

const (
	// FaultCut isolates host 1 from hosts 2 and 3 at the bridge.
	FaultCut Fault = "cut"
	// FaultStop SIGSTOPs the master and SIGCONTs it at the heal.
	FaultStop Fault = "sigstop"
	// FaultKill SIGKILLs the master and restarts it at the heal.
	FaultKill Fault = "kill"
	// FaultLoss drops LossPercent of host 1's frames at random.
	FaultLoss Fault = "loss"
	// FaultSentinelPort cuts the sentinels' port between all hosts while
	// Redis replication and clients are unaffected.
	FaultSentinelPort Fault = "sentinel-port"
)

// healTimeout is how long after the heal the cluster has to converge.
const healTimeout = 30 * time.Second

// Scenario is one fault of host 1 lasting Duration.
type Scenario struct {
	Fault       Fault
	Duration    time.Duration
	LossPercent int
	// Seed fixes the schedule (when the fault starts); 0 picks one. The
	// kernel's drops and the processes' timing are not reproducible.
	Seed uint64
}

// Result is what one scenario measured. Durations are from the fault.
type Result struct {
	Seed    uint64
	Fencing bool
	// Acked and Lost count writes per writer (index = host); a lost write
	// was acknowledged but is missing from the final master's list. The
	// write figures are only filled in when the cluster converged
	// (FinalHost >= 0).
	Acked, Lost [hosts]int
	// LostOld counts lost writes the master on host 1 acknowledged after
	// the fault, LostNew lost writes acknowledged by hosts 2 and 3 (Redis
	// replication is asynchronous, so a second failover can lose those).
	LostOld, LostNew int
	// LastOldAck is the last write host 1 acknowledged while the fault
	// lasted (-1: none); FirstRefusal the first error reply host 1 gave
	// (-1: none).
	LastOldAck, FirstRefusal time.Duration
	// FirstFence is the first -NOREPLICAS from host 1 (-1: none).
	FirstFence time.Duration
	// Converged is from the heal until one master, its replicas and every
	// sentinel agreed; FinalMaster is that master and FinalHost its host's
	// index (0: host 1 is master again, -1: none).
	Converged   time.Duration
	FinalMaster string
	FinalHost   int
	// Leaders maps each failover epoch to the sentinels (host indexes)
	// that announced +elected-leader in it.
	Leaders map[uint64][]int
	// Violations lists every invariant the run broke.
	Violations []string
}

// Run applies the scenario while the writers write, heals, and checks the
// invariants. An error means the run could not be carried out; broken
// invariants are in Result.Violations.
func (c *Cluster) Run(ctx context.Context, sc Scenario) (Result, error) {
	if sc.Seed == 0 {
		sc.Seed = rand.Uint64()
	}
	res := Result{Seed: sc.Seed, Fencing: c.Fencing, LastOldAck: -1, FirstRefusal: -1, FirstFence: -1}
	rng := rand.New(rand.NewPCG(sc.Seed, sc.Seed^0x9e3779b97f4a7c15))
	c.opts.Logf("scenario %s for %v, seed %d, fencing %v", sc.Fault, sc.Duration, sc.Seed, c.Fencing)

	var cut atomic.Bool
	writers := make([]*writer, hosts)
	for i := range hosts {
		writers[i] = c.startWriter(ctx, i, func(h int) bool { return !cut.Load() || (i == 0) == (h == 0) })
	}
	stopWriters := func() {
		for _, w := range writers {
			w.stop()
		}
	}
	// Every writer must be writing before the fault, or it measures nothing.
	if err := cluster.WaitFor(ctx, writeEvery, func() (bool, error) {
		for _, w := range writers {
			if w.acked.Load() == 0 {
				return false, fmt.Errorf("writer %s has no acknowledged write yet", w.name)
			}
		}
		return true, nil
	}); err != nil {
		stopWriters()
		return res, err
	}
	if err := sleep(ctx, time.Duration(rng.Int64N(int64(700*time.Millisecond)))); err != nil {
		stopWriters()
		return res, err
	}

	win, err := c.fault(ctx, sc, &cut)
	if err != nil {
		stopWriters()
		return res, err
	}
	var master string
	waitCtx, cancel := context.WithTimeout(ctx, healTimeout)
	err = cluster.WaitFor(waitCtx, 50*time.Millisecond, func() (bool, error) {
		var err error
		master, err = c.converged(waitCtx)
		return err == nil, err
	})
	cancel()
	res.Converged = time.Since(win.healed)
	stopWriters()
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		res.Violations = append(res.Violations, fmt.Sprintf("not converged %v after the heal: %v", healTimeout, err))
	}
	res.FinalMaster, res.FinalHost = master, c.hostOf(master)
	if res.FinalHost >= 0 {
		var written int64
		for _, w := range writers {
			written += int64(len(w.acks) + len(w.refusals))
		}
		final, err := readFinal(ctx, c.instance(res.FinalHost), written)
		if err != nil {
			return res, err
		}
		c.tally(&res, writers, final, win)
	}
	res.Leaders = leadersPerEpoch(c.Events.All())
	res.Violations = append(res.Violations, c.check(sc, res, win)...)
	c.opts.Logf("scenario %s seed %d: acked %v lost %v (old master %d, new %d), last old ack %v, first fence %v, converged in %v, leaders %v, violations %d",
		sc.Fault, sc.Seed, res.Acked, res.Lost, res.LostOld, res.LostNew, res.LastOldAck, res.FirstFence,
		res.Converged.Round(time.Millisecond), res.Leaders, len(res.Violations))
	return res, nil
}

// window is when a fault surely held: from the moment applying it returned
// until healing it began; healed is when healing returned.
type window struct {
	from, healing, healed time.Time
}

// fault applies the scenario's fault, waits its duration and heals it.
func (c *Cluster) fault(ctx context.Context, sc Scenario, cut *atomic.Bool) (window, error) {
	var w window
	master := c.Topo.Master
	var apply, heal func() error
	switch sc.Fault {
	case FaultCut:
		apply = func() error { cut.Store(true); return c.Lab.Cut(ctx, 0) }
		heal = func() error { defer cut.Store(false); return c.Lab.Heal(ctx) }
	case FaultLoss:
		apply = func() error { return c.Lab.Loss(ctx, sc.LossPercent, 0) }
		heal = func() error { return c.Lab.Heal(ctx) }
	case FaultSentinelPort:
		apply = func() error { return c.Lab.CutPort(ctx, sentinelPort) }
		heal = func() error { return c.Lab.Heal(ctx) }
	case FaultStop:
		apply = func() error { return syscall.Kill(master.PID(), syscall.SIGSTOP) }
		heal = func() error { return signalCont(master.PID()) }
	case FaultKill:
		apply = master.Kill
		heal = func() error { return master.Restart(ctx) }
	default:
		return w, fmt.Errorf("unknown fault %q", sc.Fault)
	}
	if err := apply(); err != nil {
		return w, fmt.Errorf("apply %s: %w", sc.Fault, err)
	}
	w.from = time.Now()
	c.opts.Logf("%s applied", sc.Fault)
	errSleep := sleep(ctx, sc.Duration)
	w.healing = time.Now()
	if err := heal(); err != nil || errSleep != nil {
		return w, errors.Join(errSleep, err)
	}
	w.healed = time.Now()
	c.opts.Logf("%s healed after %v (healing took %v)", sc.Fault, w.healing.Sub(w.from).Round(time.Millisecond),
		w.healed.Sub(w.healing).Round(time.Millisecond))
	return w, nil
}

func signalCont(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("sigcont %d: %w", pid, err)
	}
	return nil
}

// sleep waits d as part of a schedule (never as an assertion).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tally fills the write figures of res.
func (c *Cluster) tally(res *Result, writers []*writer, final []string, win window) {
	faultAt := win.from
	for i, w := range writers {
		res.Acked[i] = len(w.acks)
		lost := lostWrites(w.acks, final)
		res.Lost[i] = len(lost)
		for _, a := range lost {
			if a.host == 0 && a.at.After(faultAt) {
				res.LostOld++
			} else if a.host != 0 {
				res.LostNew++
			}
		}
		for _, a := range w.acks {
			if a.host == 0 && a.at.After(faultAt) && a.at.Before(win.healing) {
				res.LastOldAck = max(res.LastOldAck, a.at.Sub(faultAt))
			}
		}
		for _, r := range w.refusals {
			if r.host != 0 || !r.reply || r.at.Before(faultAt) {
				continue
			}
			if d := r.at.Sub(faultAt); res.FirstRefusal < 0 || d < res.FirstRefusal {
				res.FirstRefusal = d
			}
			if d := r.at.Sub(faultAt); isFenced(r) && (res.FirstFence < 0 || d < res.FirstFence) {
				res.FirstFence = d
			}
		}
	}
}

// check evaluates the invariants that Result does not already hold.
func (c *Cluster) check(sc Scenario, res Result, win window) []string {
	events := c.Events.All()
	bad := checkOneLeaderPerEpoch(events)
	if sc.Fault == FaultCut {
		bad = append(bad, checkNoMinorityPromotion(events, []int{0}, win.from, win.healing)...)
		if limit := c.opts.DownAfter + time.Second; c.Fencing && res.LastOldAck > limit {
			bad = append(bad, fmt.Sprintf("the cut-off master acknowledged a write %v after the cut, past down-after + 1 s = %v",
				res.LastOldAck.Round(time.Millisecond), limit))
		}
	}
	for i, s := range c.Topo.Sentinels {
		if !s.Alive() {
			bad = append(bad, fmt.Sprintf("sentinel on host %d exited:\n%s", i+1, s.LogTail(20)))
		}
	}
	return slices.Clip(bad)
}
