package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

var warnEvent = notify.Event{Kind: notify.KindODown, Level: notify.LevelWarning, Master: "mymaster", Text: "#quorum 2/2",
	Instance: &notify.Instance{Kind: view.KindMaster, Name: "mymaster", Host: "127.0.0.1", Port: 6379}}

// hookServer records every request body and answers with respond.
type hookServer struct {
	*httptest.Server
	mu      sync.Mutex
	bodies  []string
	headers []http.Header
}

func newHookServer(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *hookServer {
	t.Helper()
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, string(b))
		h.headers = append(h.headers, r.Header.Clone())
		n := len(h.bodies)
		h.mu.Unlock()
		respond(n, w, r)
	}))
	return h
}

func (h *hookServer) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

// startWebhooks runs Sender against h until the test ends.
func startWebhooks(t *testing.T, o Options, h *hookServer) (*Sender, *testutil.SyncBuffer, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	o.Log = zerolog.New(logs)
	o.Client = h.Client()
	w := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		h.Client().CloseIdleConnections()
		h.Close()
	})
	return w, logs, cancel, done
}

func fastWebhookOptions() Options {
	o := DefaultOptions()
	o.Backoff = 5 * time.Millisecond
	o.SentinelID = "0123456789abcdef0123456789abcdef01234567"
	return o
}

func TestWebhookPostsEventAsJSON(t *testing.T) {
	testutil.NoGoroutinesLeft(t)
	h := newHookServer(t, func(int, http.ResponseWriter, *http.Request) {})
	w, _, _, _ := startWebhooks(t, fastWebhookOptions(), h)

	before := time.Now()
	if !w.Post(h.URL, warnEvent) {
		t.Fatal("Post refused a warning event")
	}
	testutil.Eventually(t, 5*time.Second, "the delivery", func() bool { return len(h.got()) == 1 })
	var got map[string]string
	if err := json.Unmarshal([]byte(h.got()[0]), &got); err != nil {
		t.Fatalf("body is not a JSON object of strings: %v", err)
	}
	at, err := time.Parse(time.RFC3339Nano, got["time"])
	if err != nil || at.Before(before.Add(-time.Second)) || at.After(time.Now()) {
		t.Fatalf("time %q is not an RFC3339Nano timestamp of the Post (%v)", got["time"], err)
	}
	delete(got, "time")
	want := map[string]string{
		"type":     "+odown",
		"message":  "master mymaster 127.0.0.1 6379 #quorum 2/2",
		"master":   "mymaster",
		"sentinel": "0123456789abcdef0123456789abcdef01234567",
	}
	if len(got) != len(want) {
		t.Fatalf("body fields %v, want %v plus time", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	h.mu.Lock()
	ct := h.headers[0].Get("Content-Type")
	h.mu.Unlock()
	if ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestWebhookIgnoresEventsBelowWarning(t *testing.T) {
	w := New(fastWebhookOptions())
	if w.Post("http://127.0.0.1:1/", notify.Event{Kind: notify.KindSlave, Level: notify.LevelNotice, Instance: warnEvent.Instance}) {
		t.Fatal("Post accepted a notice-level event")
	}
	if w.Post("", warnEvent) {
		t.Fatal("Post accepted an empty url")
	}
}

func TestWebhookRetriesServerErrorsWithBackoff(t *testing.T) {
	testutil.NoGoroutinesLeft(t)
	h := newHookServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	w, logs, _, _ := startWebhooks(t, fastWebhookOptions(), h)

	w.Post(h.URL, warnEvent)
	testutil.Eventually(t, 5*time.Second, "third attempt", func() bool { return len(h.got()) == 3 })
	bodies := h.got()
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Fatalf("retries changed the body: %q", bodies)
	}
	if n := strings.Count(logs.String(), "webhook attempt failed"); n != 2 {
		t.Fatalf("logged %d failed attempts, want 2:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), "webhook delivery failed") {
		t.Fatalf("delivery reported failed although the third attempt succeeded:\n%s", logs)
	}
}

func TestWebhookGivesUpAfterRetriesAndOnClientErrors(t *testing.T) {
	for _, c := range []struct {
		name     string
		status   int
		attempts int
	}{
		{"500 is retried", http.StatusInternalServerError, 3},
		{"400 is not", http.StatusBadRequest, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHookServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(c.status) })
			o := fastWebhookOptions()
			o.Retries = 2
			w, logs, _, _ := startWebhooks(t, o, h)

			w.Post(h.URL, warnEvent)
			testutil.Eventually(t, 5*time.Second, "delivery to fail", func() bool {
				return strings.Contains(logs.String(), "webhook delivery failed")
			})
			if n := len(h.got()); n != c.attempts {
				t.Fatalf("%d attempts, want %d", n, c.attempts)
			}
		})
	}
}

// TestWebhookZeroOptionsRetryAsDocumented: the daemon sets no Retries, and
// sentinel.conf.example promises 3.
func TestWebhookZeroOptionsRetryAsDocumented(t *testing.T) {
	for _, c := range []struct {
		retries, attempts int
	}{{0, 4}, {-1, 1}} {
		h := newHookServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		o := Options{Retries: c.retries, Backoff: time.Millisecond}
		w, logs, _, _ := startWebhooks(t, o, h)
		w.Post(h.URL, warnEvent)
		testutil.Eventually(t, 5*time.Second, "delivery to fail", func() bool {
			return strings.Contains(logs.String(), "webhook delivery failed")
		})
		if n := len(h.got()); n != c.attempts {
			t.Fatalf("Retries %d: %d attempts, want %d", c.retries, n, c.attempts)
		}
	}
}

func TestWebhookAttemptTimesOut(t *testing.T) {
	testutil.NoGoroutinesLeft(t)
	h := newHookServer(t, func(_ int, _ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	o := fastWebhookOptions()
	o.Timeout = 50 * time.Millisecond
	o.Retries = 1
	w, logs, _, _ := startWebhooks(t, o, h)

	w.Post(h.URL, warnEvent)
	testutil.Eventually(t, 5*time.Second, "delivery to fail", func() bool {
		return strings.Contains(logs.String(), "webhook delivery failed")
	})
	if n := len(h.got()); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
	if !strings.Contains(logs.String(), "deadline exceeded") {
		t.Fatalf("failure does not mention the timeout:\n%s", logs)
	}
}

func TestWebhookPostNeverBlocksAndDropsOldest(t *testing.T) {
	testutil.NoGoroutinesLeft(t)
	release := make(chan struct{})
	h := newHookServer(t, func(n int, _ http.ResponseWriter, r *http.Request) {
		if n == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	o := fastWebhookOptions()
	o.Timeout = time.Minute
	o.Queue = 4
	w, logs, cancel, done := startWebhooks(t, o, h)

	post := func(i int) bool {
		e := warnEvent
		e.Instance, e.Text = nil, fmt.Sprintf("n%02d", i)
		return w.Post(h.URL, e)
	}
	post(0)
	testutil.Eventually(t, 5*time.Second, "first delivery to hang", func() bool { return len(h.got()) == 1 })

	posted := make(chan struct{})
	go func() {
		defer close(posted)
		for i := 1; i < 50; i++ {
			if !post(i) {
				t.Errorf("Post %d refused while running", i)
			}
		}
	}()
	select {
	case <-posted:
	case <-time.After(5 * time.Second):
		t.Fatal("Post blocked behind a hanging server")
	}
	if n := strings.Count(logs.String(), "oldest delivery dropped"); n != 49-o.Queue {
		t.Fatalf("logged %d drops, want %d", n, 49-o.Queue)
	}

	close(release)
	testutil.Eventually(t, 5*time.Second, "queued deliveries", func() bool { return len(h.got()) == 1+o.Queue })
	var msgs []string
	for _, b := range h.got() {
		var body webhookBody
		if err := json.Unmarshal([]byte(b), &body); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, body.Message)
	}
	if want := "n00 n46 n47 n48 n49"; strings.Join(msgs, " ") != want {
		t.Fatalf("delivered %v, want the first and the newest %d: %s", msgs, o.Queue, want)
	}

	cancel()
	<-done
	if post(99) {
		t.Fatal("Post accepted an event after Run returned")
	}
}

func TestWebhookRunEndAbortsHangingRequest(t *testing.T) {
	testutil.NoGoroutinesLeft(t)
	h := newHookServer(t, func(_ int, _ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	o := fastWebhookOptions()
	o.Timeout = time.Minute
	w, _, cancel, done := startWebhooks(t, o, h)

	w.Post(h.URL, warnEvent)
	testutil.Eventually(t, 5*time.Second, "request in flight", func() bool { return len(h.got()) == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return while a request hung")
	}
}
