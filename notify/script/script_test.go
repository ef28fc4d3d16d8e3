package script

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/notify"
)

// fastOptions are the spec's limits with tiny durations.
func fastOptions() Options {
	o := DefaultOptions()
	o.RetryDelay = 20 * time.Millisecond
	o.MaxRuntime = 300 * time.Millisecond
	return o
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func queueEmpty(r *Runner) func() bool {
	return func() bool {
		running, queued := r.Counts()
		return running == 0 && queued == 0
	}
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestScriptGetsArgvAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("NOTIFY_TEST_MARK", "inherited")
	out := filepath.Join(dir, "args")
	script := writeScript(t, dir, "notify.sh",
		`printf '%s\n' "$0" "$@" "$NOTIFY_TEST_MARK" > "`+out+`.tmp" && mv "`+out+`.tmp" "`+out+`"`)
	r, rec, _, _ := startRunner(t, fastOptions())

	if !r.Queue(script, "+sdown", "master mymaster 127.0.0.1 6379") {
		t.Fatal("Queue refused on an empty queue")
	}
	testutil.Eventually(t, 5*time.Second, "script to finish", func() bool { return len(readLines(t, out)) > 0 })
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := script + "\n+sdown\nmaster mymaster 127.0.0.1 6379\ninherited\n"
	if string(b) != want {
		t.Fatalf("script saw %q, want %q", b, want)
	}
	testutil.Eventually(t, 5*time.Second, "queue to drain", queueEmpty(r))
	if evs := rec.all(); len(evs) != 0 {
		t.Fatalf("exit 0 produced events %v", evs)
	}
}

func TestScriptExitOneRetriesWithDoublingDelayUpToMaxRuns(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	script := writeScript(t, dir, "fail.sh", `date +%s%N >> "`+runs+`"; exit 1`)
	o := fastOptions()
	o.MaxRuns = 4
	r, rec, _, _ := startRunner(t, o)

	r.Queue(script)
	testutil.Eventually(t, 5*time.Second, "retries to be exhausted", func() bool {
		_, ok := rec.find("-script-error")
		return ok
	})
	testutil.Eventually(t, 5*time.Second, "queue to drain", queueEmpty(r))
	lines := readLines(t, runs)
	if len(lines) != o.MaxRuns {
		t.Fatalf("script ran %d times, want MaxRuns=%d", len(lines), o.MaxRuns)
	}
	for i := 1; i < len(lines); i++ {
		prev, _ := strconv.ParseInt(lines[i-1], 10, 64)
		cur, _ := strconv.ParseInt(lines[i], 10, 64)
		gap := time.Duration(cur - prev)
		if want := o.RetryDelay << (i - 1); gap < want {
			t.Errorf("run %d started %v after run %d, want at least %v", i+1, gap, i, want)
		}
	}
	// Redis reports the final failure once retries are used up.
	e, _ := rec.find("-script-error")
	if e.Payload() != script+" 0 1" {
		t.Fatalf("-script-error message %q, want %q", e.Payload(), script+" 0 1")
	}
}

func TestScriptKilledBySignalIsRetried(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	script := writeScript(t, dir, "killed.sh", `echo run >> "`+runs+`"; kill -TERM $$`)
	o := fastOptions()
	o.MaxRuns = 2
	r, rec, _, _ := startRunner(t, o)

	r.Queue(script)
	testutil.Eventually(t, 5*time.Second, "retries to be exhausted", func() bool {
		_, ok := rec.find("-script-error")
		return ok
	})
	testutil.Eventually(t, 5*time.Second, "queue to drain", queueEmpty(r))
	if n := len(readLines(t, runs)); n != 2 {
		t.Fatalf("script ran %d times, want 2", n)
	}
	if e, _ := rec.find("-script-error"); e.Payload() != script+" 15 0" {
		t.Fatalf("-script-error message %q, want signal 15", e.Payload())
	}
}

func TestScriptExitTwoOrMoreIsAnErrorAndNotRetried(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	script := writeScript(t, dir, "bad.sh", `echo run >> "`+runs+`"; exit 3`)
	r, rec, _, _ := startRunner(t, fastOptions())

	r.Queue(script)
	testutil.Eventually(t, 5*time.Second, "-script-error", func() bool {
		_, ok := rec.find("-script-error")
		return ok
	})
	testutil.Eventually(t, 5*time.Second, "queue to drain", queueEmpty(r))
	want := notify.Event{Kind: notify.KindScriptError, Level: notify.LevelWarning, Text: script + " 0 3"}
	if evs := rec.all(); len(evs) != 1 || evs[0] != want {
		t.Fatalf("events %+v, want exactly %+v", evs, want)
	}
	if n := len(readLines(t, runs)); n != 1 {
		t.Fatalf("script ran %d times, want 1", n)
	}
}

func TestScriptThatCannotStartReports99(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "plain.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.sh")
	r, rec, _, _ := startRunner(t, fastOptions())

	r.Queue(notExec)
	r.Queue(missing)
	testutil.Eventually(t, 5*time.Second, "two -script-error events", func() bool { return len(rec.all()) == 2 })
	testutil.Eventually(t, 5*time.Second, "queue to drain", queueEmpty(r))
	evs := rec.all()
	if evs[0].Payload() != notExec+" 99 0" || evs[1].Payload() != missing+" 99 0" {
		t.Fatalf("events %+v, want '<path> 99 0' for both", evs)
	}
}

func TestScriptOverMaxRuntimeIsKilledAndNotRetried(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := writeScript(t, dir, "slow.sh", `echo $$ >> "`+pidFile+`"; exec sleep 30`)
	r, rec, _, _ := startRunner(t, fastOptions())

	start := time.Now()
	r.Queue(script)
	testutil.Eventually(t, 5*time.Second, "-script-timeout", func() bool {
		_, ok := rec.find("-script-timeout")
		return ok
	})
	if elapsed := time.Since(start); elapsed < fastOptions().MaxRuntime {
		t.Fatalf("killed after %v, before MaxRuntime", elapsed)
	}
	testutil.Eventually(t, 5*time.Second, "queue to drain", queueEmpty(r))
	pids := readLines(t, pidFile)
	if len(pids) != 1 {
		t.Fatalf("script ran %d times, want 1 (no retry after a timeout)", len(pids))
	}
	e, _ := rec.find("-script-timeout")
	want := notify.Event{Kind: notify.KindScriptTimeout, Level: notify.LevelWarning, Text: script + " " + pids[0]}
	if e != want {
		t.Fatalf("event %+v, want %+v", e, want)
	}
	if _, ok := rec.find("-script-error"); ok {
		t.Fatal("timeout also reported -script-error")
	}
	pid, _ := strconv.Atoi(pids[0])
	if !processGone(pid) {
		t.Fatalf("pid %d still exists after the kill", pid)
	}
}

func TestAtMostMaxRunningAndMaxQueued(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "sleep.sh", `exec sleep 30`)
	o := DefaultOptions()
	logs := &testutil.SyncBuffer{}
	o.Log = zerolog.New(logs)
	r, _, cancel, done := startRunner(t, o)

	for i := range o.MaxQueued {
		if !r.Queue(script, strconv.Itoa(i)) {
			t.Fatalf("Queue refused entry %d of %d", i+1, o.MaxQueued)
		}
	}
	if r.Queue(script, "overflow") {
		t.Fatal("Queue accepted an entry beyond MaxQueued")
	}
	if !strings.Contains(logs.String(), "script queue full") {
		t.Fatalf("no warning logged for the dropped script: %s", logs)
	}
	testutil.Eventually(t, 5*time.Second, "MaxRunning scripts to start", func() bool {
		running, queued := r.Counts()
		return running == o.MaxRunning && queued == o.MaxQueued && len(r.Pending()) == o.MaxQueued
	})

	pending := r.Pending()
	if len(pending) != o.MaxQueued {
		t.Fatalf("Pending has %d entries, want %d", len(pending), o.MaxQueued)
	}
	var pids []int
	for i, p := range pending {
		if p.Argv[1] != strconv.Itoa(i) {
			t.Fatalf("Pending[%d] is %v, want arrival order", i, p.Argv)
		}
		if p.Running != (i < o.MaxRunning) {
			t.Fatalf("Pending[%d].Running = %v; only the first %d should run", i, p.Running, o.MaxRunning)
		}
		if p.Running {
			pids = append(pids, p.PID)
		}
	}

	cancel()
	testutil.Eventually(t, 5*time.Second, "Run to return", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	for _, pid := range pids {
		if !processGone(pid) {
			t.Fatalf("child %d survived Run's end", pid)
		}
	}
}

func TestPendingShowsRunningAndScheduledEntries(t *testing.T) {
	dir := t.TempDir()
	slow := writeScript(t, dir, "slow.sh", `exec sleep 30`)
	failing := writeScript(t, dir, "fail.sh", `exit 1`)
	o := fastOptions()
	o.MaxRuntime = time.Minute
	o.RetryDelay = time.Minute
	r, _, _, _ := startRunner(t, o)

	r.Queue(slow, "a")
	r.Queue(failing, "b")
	testutil.Eventually(t, 5*time.Second, "the failing script to be rescheduled", func() bool {
		p := r.Pending()
		return len(p) == 2 && p[0].Running && !p[1].Running && p[1].RetryNum == 1
	})
	p := r.Pending()
	run, sched := p[0], p[1]
	if run.PID <= 0 || run.RetryNum != 1 || run.RunTime <= 0 || run.RunDelay != 0 {
		t.Fatalf("running entry %+v: want pid, retry 1, run-time", run)
	}
	if sched.PID != 0 || sched.RunTime != 0 || sched.RunDelay <= 0 || sched.RunDelay > o.RetryDelay {
		t.Fatalf("scheduled entry %+v: want no pid and 0 < run-delay <= %v", sched, o.RetryDelay)
	}
	if want := []string{failing, "b"}; strings.Join(sched.Argv, " ") != strings.Join(want, " ") {
		t.Fatalf("argv %v, want %v", sched.Argv, want)
	}
	if running, queued := r.Counts(); running != 1 || queued != 2 {
		t.Fatalf("Counts = %d, %d; want 1 running, 2 queued", running, queued)
	}
}

// fdLine matches one `ls -l /proc/self/fd` entry: "... <fd> -> <target>".
var fdLine = regexp.MustCompile(`(\d+) -> (.*)$`)

func TestScriptInheritsNoDescriptorBeyondStdio(t *testing.T) {
	dir := t.TempDir()
	// A Go file (close-on-exec already) and a raw one without O_CLOEXEC, as
	// cgo or a careless library could open.
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := syscall.Open(os.Args[0], syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(raw)

	out := filepath.Join(dir, "fds")
	script := writeScript(t, dir, "fds.sh", `ls -l /proc/self/fd > "`+out+`.tmp"; mv "`+out+`.tmp" "`+out+`"`)
	r, _, _, _ := startRunner(t, fastOptions())
	r.Queue(script)
	testutil.Eventually(t, 5*time.Second, "fd listing", func() bool {
		_, err := os.Stat(out)
		return err == nil
	})
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	ownDir := regexp.MustCompile(`^/proc/\d+/fd$`) // ls's own handle on the listing
	var seen []string
	for _, line := range strings.Split(string(b), "\n") {
		m := fdLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		seen = append(seen, m[1])
		if fd, _ := strconv.Atoi(m[1]); fd > 2 && !ownDir.MatchString(m[2]) {
			t.Errorf("descriptor %s -> %s leaked into the script", m[1], m[2])
		}
	}
	if len(seen) < 3 {
		t.Fatalf("listing has no stdio entries:\n%s", b)
	}
}

func TestRunEndKillsChildrenAndLeavesNoGoroutine(t *testing.T) {
	testutil.NoGoroutinesLeft(t)
	dir := t.TempDir()
	script := writeScript(t, dir, "slow.sh", `exec sleep 30`)
	r := New(fastOptions())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	defer func() { cancel(); <-done }()

	for range 3 {
		r.Queue(script)
	}
	testutil.Eventually(t, 5*time.Second, "three children", func() bool {
		running, _ := r.Counts()
		return running == 3
	})
	var pids []int
	for _, p := range r.Pending() {
		pids = append(pids, p.PID)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	for _, pid := range pids {
		if !processGone(pid) {
			t.Fatalf("child %d survived Run's end", pid)
		}
	}
	if r.Queue(script) {
		t.Fatal("Queue accepted a script after Run returned")
	}
	if running, queued := r.Counts(); running != 0 || queued != 0 {
		t.Fatalf("Counts after stop = %d, %d", running, queued)
	}
}

// TestSetLimitsReachesARunningRunner: SENTINEL DEBUG script-max-runtime
// applies to the runner already running, so a script started before the
// change is killed at the new limit.
func TestSetLimitsReachesARunningRunner(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "slow.sh", `exec sleep 30`)
	o := fastOptions()
	o.MaxRuntime = time.Minute
	r, rec, _, _ := startRunner(t, o)
	r.Queue(script)
	testutil.Eventually(t, 5*time.Second, "script running", func() bool {
		running, _ := r.Counts()
		return running == 1
	})
	r.SetLimits(50*time.Millisecond, o.RetryDelay)
	testutil.Eventually(t, 5*time.Second, "-script-timeout at the new limit", func() bool {
		_, ok := rec.find("-script-timeout")
		return ok
	})
}
