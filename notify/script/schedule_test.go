package script

import (
	"testing"
	"time"
)

func TestJudgeFollowsSpecSection6(t *testing.T) {
	const maxRuns = 10
	cases := []struct {
		name     string
		st       exitStatus
		runs     int
		timedOut bool
		want     verdict
	}{
		{"exit 0 is done", exitStatus{}, 1, false, verdictDone},
		{"exit 1 is retried", exitStatus{code: 1}, 1, false, verdictRetry},
		{"signal is retried", exitStatus{signal: 15}, 3, false, verdictRetry},
		{"exit 1 on the last run is an error", exitStatus{code: 1}, maxRuns, false, verdictError},
		{"signal on the last run is an error", exitStatus{signal: 9}, maxRuns, false, verdictError},
		{"exit 2 is an error at once", exitStatus{code: 2}, 1, false, verdictError},
		{"exit 255 is an error at once", exitStatus{code: 255}, 1, false, verdictError},
		{"a timed-out run is dropped, not retried", exitStatus{signal: 9}, 1, true, verdictTimedOut},
	}
	for _, c := range cases {
		if got := judge(c.st, c.runs, maxRuns, c.timedOut); got != c.want {
			t.Errorf("%s: judge = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestRetryDelayDoublesPerRun(t *testing.T) {
	base := 30 * time.Second
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute}
	for i, w := range want {
		if got := retryDelay(base, i+1); got != w {
			t.Errorf("retryDelay after run %d = %v, want %v", i+1, got, w)
		}
	}
}

func TestScheduleStartsDueJobsInOrderUpToMaxRunning(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var s schedule
	for _, name := range []string{"a", "b", "c", "d"} {
		s.add([]string{name}, t0)
	}
	s.jobs[1].due = t0.Add(time.Second) // b waits for a retry

	got := s.startable(t0, 2)
	if len(got) != 2 || got[0].argv[0] != "a" || got[1].argv[0] != "c" {
		t.Fatalf("startable = %v, want a and c", argv0s(got))
	}
	got[0].started = t0
	if got := s.startable(t0, 2); len(got) != 1 || got[0].argv[0] != "c" {
		t.Fatalf("with one running, startable = %v, want c only", argv0s(got))
	}
	if got := s.startable(t0.Add(time.Second), 2); len(got) != 1 || got[0].argv[0] != "b" {
		t.Fatalf("once b is due, startable = %v, want b first", argv0s(got))
	}
}

func TestScheduleWakesForNextDueOrDeadline(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const maxRuntime = time.Minute
	var s schedule
	if _, ok := s.wake(1, maxRuntime); ok {
		t.Fatal("an empty schedule has a wake-up")
	}
	s.add([]string{"run"}, t0)
	s.jobs[0].started = t0
	s.add([]string{"retry"}, t0.Add(10*time.Second))

	// At the limit of one child, only the runtime deadline matters.
	if at, ok := s.wake(1, maxRuntime); !ok || !at.Equal(t0.Add(maxRuntime)) {
		t.Fatalf("wake = %v %v, want the runtime deadline", at, ok)
	}
	if at, ok := s.wake(2, maxRuntime); !ok || !at.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("wake = %v %v, want the retry due time", at, ok)
	}
	s.jobs[0].timedOut = true
	if at, ok := s.wake(1, maxRuntime); ok {
		t.Fatalf("a killed run still wakes at %v", at)
	}
	if got := s.overdue(t0.Add(maxRuntime), maxRuntime); len(got) != 0 {
		t.Fatal("a killed run is overdue again")
	}
}

func argv0s(js []*job) []string {
	var out []string
	for _, j := range js {
		out = append(out, j.argv[0])
	}
	return out
}
