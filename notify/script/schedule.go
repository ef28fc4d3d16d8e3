package script

import (
	"slices"
	"time"
)

// job is one queued script and its retry state (Redis's sentinelScriptJob).
type job struct {
	argv     []string
	runs     int       // runs started so far; PENDING-SCRIPTS retry-num
	due      time.Time // earliest start of the next run
	started  time.Time // zero unless running
	pid      int
	timedOut bool // SIGKILLed for running too long, already reported
}

func (j *job) running() bool { return !j.started.IsZero() }

// exitStatus is how a run ended: the terminating signal, or 0 and the exit code.
type exitStatus struct{ signal, code int }

type verdict int

const (
	verdictDone     verdict = iota
	verdictRetry            // run again after retryDelay
	verdictError            // report -script-error and drop
	verdictTimedOut         // -script-timeout was reported at kill time; drop
)

// judge classifies a finished run (docs/behaviour.md §6): exit 0 is done; exit 1 or a
// signal is retried while runs < maxRuns; anything else is an error. A run
// killed for its runtime is never retried.
func judge(st exitStatus, runs, maxRuns int, timedOut bool) verdict {
	switch {
	case timedOut:
		return verdictTimedOut
	case st.signal == 0 && st.code == 0:
		return verdictDone
	case (st.signal != 0 || st.code == 1) && runs < maxRuns:
		return verdictRetry
	default:
		return verdictError
	}
}

// retryDelay is base×2^(runs-1): the wait after the runs-th failed run.
func retryDelay(base time.Duration, runs int) time.Duration {
	d := base
	for i := 1; i < runs; i++ {
		d *= 2
	}
	return d
}

// schedule is the runner's queue in arrival order. It is a pure structure:
// time comes in as arguments, processes are the caller's business.
type schedule struct {
	jobs []*job
}

func (s *schedule) add(argv []string, now time.Time) {
	s.jobs = append(s.jobs, &job{argv: argv, due: now})
}

func (s *schedule) remove(j *job) {
	s.jobs = slices.DeleteFunc(s.jobs, func(x *job) bool { return x == j })
}

func (s *schedule) running() int {
	n := 0
	for _, j := range s.jobs {
		if j.running() {
			n++
		}
	}
	return n
}

// startable lists waiting jobs that are due, oldest first, without exceeding
// maxRunning children.
func (s *schedule) startable(now time.Time, maxRunning int) []*job {
	free := maxRunning - s.running()
	var out []*job
	for _, j := range s.jobs {
		if free <= len(out) {
			break
		}
		if !j.running() && !j.due.After(now) {
			out = append(out, j)
		}
	}
	return out
}

// overdue lists running jobs past maxRuntime that were not killed yet.
func (s *schedule) overdue(now time.Time, maxRuntime time.Duration) []*job {
	var out []*job
	for _, j := range s.jobs {
		if j.running() && !j.timedOut && now.Sub(j.started) >= maxRuntime {
			out = append(out, j)
		}
	}
	return out
}

// wake is the next instant at which startable or overdue may change without
// a new job or an exit arriving; ok is false when there is none.
func (s *schedule) wake(maxRunning int, maxRuntime time.Duration) (at time.Time, ok bool) {
	canStart := s.running() < maxRunning
	for _, j := range s.jobs {
		var t time.Time
		switch {
		case j.running() && !j.timedOut:
			t = j.started.Add(maxRuntime)
		case !j.running() && canStart:
			t = j.due
		default:
			continue
		}
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok
}

// pendingEntry is an immutable copy of a job for Pending.
type pendingEntry struct {
	argv         []string
	running      bool
	pid          int
	started, due time.Time
	runs         int
}

func (s *schedule) snapshot() []pendingEntry {
	out := make([]pendingEntry, len(s.jobs))
	for i, j := range s.jobs {
		out[i] = pendingEntry{argv: j.argv, running: j.running(), pid: j.pid, started: j.started, due: j.due, runs: j.runs}
	}
	return out
}
