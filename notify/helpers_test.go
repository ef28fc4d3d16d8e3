package notify

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/testutil"
)

// noGoroutinesLeft registers a check, run after the test's other cleanups,
// that the goroutine count returns to what it was when called.
func noGoroutinesLeft(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		testutil.Eventually(t, 5*time.Second, "goroutines to return to baseline", func() bool {
			return runtime.NumGoroutine() <= base
		})
	})
}

// writeScript writes an executable /bin/sh script into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// recorder collects events delivered from the runner's goroutine.
type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.evs...)
}

func (r *recorder) find(typ string) (Event, bool) {
	for _, e := range r.all() {
		if e.Type == typ {
			return e, true
		}
	}
	return Event{}, false
}

// startRunner runs a ScriptRunner until the test ends and returns a channel
// closed when Run has returned.
func startRunner(t *testing.T, o ScriptOptions) (*ScriptRunner, *recorder, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	rec := &recorder{}
	o.OnEvent = rec.add
	r := NewScriptRunner(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r, rec, cancel, done
}
