package script

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/notify"
)

// Options configures a Runner; zero fields take the defaults of
// DefaultOptions.
type Options struct {
	MaxRunning int           // children at once
	MaxQueued  int           // running + waiting; Queue refuses beyond it
	MaxRuntime time.Duration // then SIGKILL and -script-timeout
	RetryDelay time.Duration // after the first failed run, doubling on each retry
	MaxRuns    int           // runs per script, the first included
	// OnEvent receives -script-error and -script-timeout for the caller to log
	// and publish. It is called on the runner's goroutine and must not block.
	OnEvent func(notify.Event)
	Log     zerolog.Logger
}

// DefaultOptions are Redis Sentinel's limits (docs/behaviour.md §3.1).
func DefaultOptions() Options {
	return Options{
		MaxRunning: 16,
		MaxQueued:  256,
		MaxRuntime: 60 * time.Second,
		RetryDelay: 30 * time.Second,
		MaxRuns:    10,
		Log:        zerolog.Nop(),
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxRunning <= 0 {
		o.MaxRunning = d.MaxRunning
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = d.MaxQueued
	}
	if o.MaxRuntime <= 0 {
		o.MaxRuntime = d.MaxRuntime
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = d.RetryDelay
	}
	if o.MaxRuns <= 0 {
		o.MaxRuns = d.MaxRuns
	}
	if o.OnEvent == nil {
		o.OnEvent = func(notify.Event) {}
	}
	return o
}

// Pending is one entry of SENTINEL PENDING-SCRIPTS.
type Pending struct {
	Argv     []string
	Running  bool
	PID      int           // 0 unless running
	RunTime  time.Duration // how long it has run, when running
	RunDelay time.Duration // time left before its next run, when scheduled
	RetryNum int           // runs started so far
}

// Runner runs notification and client-reconfig scripts with Redis
// Sentinel's limits, retries and timeouts.
type Runner struct {
	o       Options
	in      chan []string
	exited  chan exited
	queued  atomic.Int64 // accepted and not finished, including those still in `in`
	view    atomic.Pointer[[]pendingEntry]
	limits  chan limits // the latest SetLimits, for the owner
	stopped chan struct{}
}

type limits struct{ maxRuntime, retryDelay time.Duration }

type exited struct {
	job    *job
	status exitStatus
}

// New returns a runner; nothing runs until Run is called.
func New(o Options) *Runner {
	o = o.withDefaults()
	r := &Runner{
		o: o,
		// Sized so sends never block: `in` holds at most the MaxQueued
		// accepted entries, `exited` one result per child.
		in:      make(chan []string, o.MaxQueued),
		exited:  make(chan exited, o.MaxRunning),
		limits:  make(chan limits, 1),
		stopped: make(chan struct{}),
	}
	r.view.Store(&[]pendingEntry{})
	return r
}

// SetLimits changes the run-time limit and the first retry delay (SENTINEL
// DEBUG script-max-runtime / script-retry-delay) from any goroutine, without
// blocking; a later call replaces one the owner has not applied yet.
func (r *Runner) SetLimits(maxRuntime, retryDelay time.Duration) {
	l := limits{maxRuntime, retryDelay}
	for {
		select {
		case r.limits <- l:
			return
		default:
			select {
			case <-r.limits:
			default:
			}
		}
	}
}

// Queue schedules argv[0] to run with argv as its arguments. It never blocks;
// it returns false when the queue is full or the runner has stopped.
func (r *Runner) Queue(argv ...string) bool {
	if len(argv) == 0 {
		return false
	}
	select {
	case <-r.stopped:
		return false
	default:
	}
	for {
		n := r.queued.Load()
		if n >= int64(r.o.MaxQueued) {
			r.o.Log.Warn().Str("script", argv[0]).Int64("queued", n).Msg("script queue full, script dropped")
			return false
		}
		if r.queued.CompareAndSwap(n, n+1) {
			break
		}
	}
	r.in <- slices.Clone(argv)
	return true
}

// Pending lists queued scripts in arrival order (SENTINEL PENDING-SCRIPTS).
func (r *Runner) Pending() []Pending {
	now := time.Now()
	view := *r.view.Load()
	out := make([]Pending, len(view))
	for i, e := range view {
		p := Pending{Argv: slices.Clone(e.argv), Running: e.running, PID: e.pid, RetryNum: e.runs}
		if e.running {
			p.RunTime = now.Sub(e.started)
		} else {
			p.RunDelay = max(0, e.due.Sub(now))
		}
		out[i] = p
	}
	return out
}

// Counts reports INFO's sentinel_running_scripts and
// sentinel_scripts_queue_length (which, as in Redis, includes running ones).
func (r *Runner) Counts() (running, queued int) {
	for _, e := range *r.view.Load() {
		if e.running {
			running++
		}
	}
	return running, int(r.queued.Load())
}

// Run owns the queue and the children until ctx ends; then it kills the
// running scripts, reaps them, drops the rest and returns.
func (r *Runner) Run(ctx context.Context) {
	defer close(r.stopped)
	var s schedule
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		for _, j := range s.overdue(now, r.o.MaxRuntime) {
			r.timeout(j)
		}
		for _, j := range s.startable(now, r.o.MaxRunning) {
			if err := r.start(j, now); err != nil {
				r.o.Log.Warn().Err(err).Strs("argv", j.argv).Msg("script could not start")
				r.event(notify.KindScriptError, fmt.Sprintf("%s 99 0", j.argv[0]))
				r.drop(&s, j)
			}
		}
		r.view.Store(new(s.snapshot()))
		if at, ok := s.wake(r.o.MaxRunning, r.o.MaxRuntime); ok {
			timer.Reset(time.Until(at))
		} else {
			timer.Stop()
		}

		select {
		case <-ctx.Done():
			r.shutdown(&s)
			return
		case argv := <-r.in:
			s.add(argv, time.Now())
		case x := <-r.exited:
			r.finish(&s, x, time.Now())
		case l := <-r.limits:
			r.o.MaxRuntime, r.o.RetryDelay = l.maxRuntime, l.retryDelay
		case <-timer.C:
		}
	}
}

// start forks one run of j.
func (r *Runner) start(j *job, now time.Time) error {
	// Path without lookup: like execve, a relative path is relative to the
	// sentinel's working directory, not $PATH.
	cmd := &exec.Cmd{
		Path:   j.argv[0],
		Args:   j.argv,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		// Own group, so a timeout kills whatever the script spawned too.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	markCloseOnExec()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", j.argv[0], err)
	}
	j.runs++
	j.started = now
	j.pid = cmd.Process.Pid
	r.o.Log.Debug().Str("script", j.argv[0]).Int("pid", j.pid).Int("run", j.runs).Msg("+script-child")
	go func() {
		var st exitStatus
		if err := cmd.Wait(); err != nil && cmd.ProcessState == nil {
			st.code = -1 // wait itself failed; counts as an error exit
		} else {
			st = statusOf(cmd.ProcessState)
		}
		r.exited <- exited{job: j, status: st}
	}()
	return nil
}

func statusOf(ps *os.ProcessState) exitStatus {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return exitStatus{signal: int(ws.Signal())}
	}
	return exitStatus{code: ps.ExitCode()}
}

// finish applies the outcome of a run that ended.
func (r *Runner) finish(s *schedule, x exited, now time.Time) {
	j := x.job
	r.o.Log.Debug().Str("script", j.argv[0]).Int("pid", j.pid).
		Int("signal", x.status.signal).Int("code", x.status.code).Msg("-script-child")
	switch judge(x.status, j.runs, r.o.MaxRuns, j.timedOut) {
	case verdictRetry:
		j.started, j.pid = time.Time{}, 0
		j.due = now.Add(retryDelay(r.o.RetryDelay, j.runs))
		return
	case verdictError:
		r.event(notify.KindScriptError, fmt.Sprintf("%s %d %d", j.argv[0], x.status.signal, x.status.code))
	case verdictDone, verdictTimedOut:
	}
	r.drop(s, j)
}

// timeout kills a run that outlived MaxRuntime; its exit arrives later.
func (r *Runner) timeout(j *job) {
	j.timedOut = true
	r.event(notify.KindScriptTimeout, j.argv[0]+" "+strconv.Itoa(j.pid))
	r.killGroup(j)
}

func (r *Runner) killGroup(j *job) {
	// The exit of j has not been received, so its pid (the group id) is
	// still ours.
	// ESRCH: the group is already gone and its exit is on the way.
	if err := syscall.Kill(-j.pid, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		r.o.Log.Warn().Err(err).Int("pid", j.pid).Msg("kill script")
	}
}

func (r *Runner) drop(s *schedule, j *job) {
	s.remove(j)
	r.queued.Add(-1)
}

// shutdown kills every child and waits for all of them, so neither a process
// nor a waiter goroutine outlives Run.
func (r *Runner) shutdown(s *schedule) {
	n := 0
	for _, j := range s.jobs {
		if j.running() {
			r.killGroup(j)
			n++
		}
	}
	for range n {
		<-r.exited
	}
	r.queued.Store(0)
	r.view.Store(&[]pendingEntry{})
}

// event hands a -script-* event to the owner of event logging and pub/sub.
func (r *Runner) event(kind notify.Kind, msg string) {
	r.o.OnEvent(notify.Event{Kind: kind, Level: notify.LevelWarning, Text: msg})
}
