package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/notify"
)

// Options configures Sender; zero fields take the defaults of
// DefaultOptions, so a zero Options retries as documented. A negative
// Retries means none.
type Options struct {
	Timeout    time.Duration // per attempt
	Retries    int           // attempts after a failed first one
	Backoff    time.Duration // wait before the first retry, doubling after each
	Queue      int           // deliveries waiting; the oldest is dropped beyond
	SentinelID string        // the "sentinel" field: this sentinel's myid
	Client     *http.Client
	Log        zerolog.Logger
}

// DefaultOptions: 2 s per attempt, 3 retries from 250 ms, 256 queued.
func DefaultOptions() Options {
	return Options{
		Timeout: 2 * time.Second,
		Retries: 3,
		Backoff: 250 * time.Millisecond,
		Queue:   256,
		Client:  http.DefaultClient,
		Log:     zerolog.Nop(),
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = d.Retries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = d.Backoff
	}
	if o.Queue <= 0 {
		o.Queue = d.Queue
	}
	if o.Client == nil {
		o.Client = d.Client
	}
	return o
}

// webhookBody is the JSON posted for one event.
type webhookBody struct {
	Type     string `json:"type"`
	Message  string `json:"message"`
	Master   string `json:"master"`
	Sentinel string `json:"sentinel"`
	Time     string `json:"time"`
}

type delivery struct {
	url   string
	event string
	body  []byte
}

// Sender posts warning-level events to the URLs configured with
// `SENTINEL NOTIFICATION-WEBHOOK`, one delivery at a time in Post order.
type Sender struct {
	o       Options
	q       chan delivery
	stopped chan struct{}
}

// New returns an idle Sender; deliveries start with Run.
func New(o Options) *Sender {
	o = o.withDefaults()
	return &Sender{o: o, q: make(chan delivery, o.Queue), stopped: make(chan struct{})}
}

// Post queues e for url and never blocks. It returns false, posting nothing,
// for events below warning level, an empty url or a stopped Sender. When
// the queue is full the oldest delivery is dropped to make room.
func (w *Sender) Post(url string, e notify.Event) bool {
	if url == "" || e.Level != notify.LevelWarning {
		return false
	}
	select {
	case <-w.stopped:
		return false
	default:
	}
	// A struct of strings always encodes.
	body, _ := json.Marshal(webhookBody{
		Type:     e.Channel(),
		Message:  e.Payload(),
		Master:   e.Master,
		Sentinel: w.o.SentinelID,
		Time:     time.Now().UTC().Format(time.RFC3339Nano),
	})
	d := delivery{url: url, event: e.Channel(), body: body}
	for {
		select {
		case w.q <- d:
			return true
		default:
		}
		// Full: make room. Run may take the oldest first, then the send wins.
		select {
		case old := <-w.q:
			w.o.Log.Warn().Str("url", old.url).Str("event", old.event).Msg("webhook queue full, oldest delivery dropped")
		default:
		}
	}
}

// Run delivers queued events until ctx ends, which aborts the request in
// flight and drops what is still queued.
func (w *Sender) Run(ctx context.Context) {
	defer close(w.stopped)
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-w.q:
			w.deliver(ctx, d)
		}
	}
}

// deliver posts d, retrying failures that may be transient.
func (w *Sender) deliver(ctx context.Context, d delivery) {
	backoff := w.o.Backoff
	for attempt := 0; ; attempt++ {
		retry, err := w.post(ctx, d)
		if err == nil || ctx.Err() != nil {
			return // delivered, or shutting down
		}
		log := w.o.Log.Warn().Err(err).Str("url", d.url).Str("event", d.event).Int("attempt", attempt+1)
		if !retry || attempt >= w.o.Retries {
			log.Msg("webhook delivery failed")
			return
		}
		log.Dur("retry_in", backoff).Msg("webhook attempt failed")
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff *= 2
	}
}

// post makes one attempt; retry says whether a failure may be transient
// (network error, timeout, 429, 5xx).
func (w *Sender) post(ctx context.Context, d delivery) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.o.Client.Do(req)
	if err != nil {
		return true, fmt.Errorf("post webhook: %w", err)
	}
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("webhook answered %s", resp.Status)
	default:
		return false, fmt.Errorf("webhook answered %s", resp.Status)
	}
}
