package script

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/seed877ff415/sentinel/notify"
)

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
	evs []notify.Event
}

func (r *recorder) add(e notify.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

func (r *recorder) all() []notify.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Event(nil), r.evs...)
}

func (r *recorder) find(typ string) (notify.Event, bool) {
	for _, e := range r.all() {
		if e.Channel() == typ {
			return e, true
		}
	}
	return notify.Event{}, false
}

// startRunner runs a Runner until the test ends and returns a channel
// closed when Run has returned.
func startRunner(t *testing.T, o Options) (*Runner, *recorder, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	rec := &recorder{}
	o.OnEvent = rec.add
	r := New(o)
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
