package drill

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

const (
	// resubscribeDelay spaces reconnection attempts to a sentinel that is
	// down.
	resubscribeDelay = 100 * time.Millisecond
	// maxRecorded bounds the events a watcher keeps for a failure's dump
	// (the oldest half goes when it is reached), maxPayload each one's
	// text, dumpLogLines each sentinel's log tail in it.
	maxRecorded  = 4000
	maxPayload   = 512
	dumpLogLines = 40
)

// observation is what the run loop learns from a watcher: a phase (with the
// new master's address when the event carries it), a note, an election
// event for leaderCheck, or a failure that ends the run.
type observation struct {
	phase  Phase
	at     time.Time
	addr   string
	detail string
	note   bool
	err    error
	// sentinel is the address of the sentinel that published the event
	// ("" for what the drill polled itself).
	sentinel    string
	newEpoch    uint64
	tryFailover bool
}

// watcher reads PSUBSCRIBE * on every sentinel of a group and sends the
// events that matter to a run loop. It also records every event, of any
// kind, for dump.
type watcher struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	recorded []recordedEvent
	dropped  int
}

// recordedEvent is one message a sentinel published.
type recordedEvent struct {
	at                         time.Time
	sentinel, channel, payload string
}

// watchEvents subscribes on every sentinel in addrs and returns once each
// one confirmed, so nothing published afterwards is missed. The readers
// stop when ctx ends or on stop. tlsConf, when not nil, dials TLS.
func watchEvents(ctx context.Context, addrs []string, password string, tlsConf *tls.Config, name string, out chan<- observation) (*watcher, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{cancel: cancel}
	var subs []*redis.PubSub
	var clients []*redis.Client
	closeAll := func() {
		// The connections are dropped either way.
		for _, ps := range subs {
			_ = ps.Close()
		}
		for _, c := range clients {
			_ = c.Close()
		}
	}
	for _, a := range addrs {
		opt := withTLS(clientOptions(a, password), tlsConf)
		// A subscribed connection only reads; a short read timeout would
		// drop it between events.
		opt.ReadTimeout = -1
		c := redis.NewClient(opt)
		clients = append(clients, c)
		ps := c.PSubscribe(ctx, "*")
		subs = append(subs, ps)
		if _, err := ps.ReceiveTimeout(ctx, 2*time.Second); err != nil {
			cancel()
			closeAll()
			return nil, fmt.Errorf("psubscribe on sentinel %s: %w", a, err)
		}
	}
	for i, ps := range subs {
		w.wg.Go(func() { w.read(ctx, addrs[i], ps, name, out) })
	}
	w.wg.Go(func() {
		<-ctx.Done()
		// Closing the connections is what unblocks the readers.
		closeAll()
	})
	return w, nil
}

func (w *watcher) read(ctx context.Context, addr string, ps *redis.PubSub, name string, out chan<- observation) {
	for ctx.Err() == nil {
		msg, err := ps.Receive(ctx)
		if err != nil {
			// go-redis redials and re-subscribes on the next Receive.
			t := time.NewTimer(resubscribeDelay)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		m, ok := msg.(*redis.Message)
		if !ok {
			continue
		}
		now := time.Now()
		w.record(recordedEvent{at: now, sentinel: addr, channel: m.Channel, payload: m.Payload})
		c, ok := classify(m.Channel, m.Payload, name)
		if !ok {
			continue
		}
		o := observation{phase: c.phase, at: now, addr: c.addr, note: c.note, sentinel: addr,
			newEpoch: c.newEpoch, tryFailover: c.tryFailover,
			detail: fmt.Sprintf("%s %s (sentinel %s)", m.Channel, m.Payload, addr)}
		if !c.note {
			o.detail = fmt.Sprintf("%s (sentinel %s)", m.Payload, addr)
		}
		select {
		case out <- o:
		case <-ctx.Done():
		}
	}
}

func (w *watcher) record(e recordedEvent) {
	if len(e.payload) > maxPayload {
		e.payload = e.payload[:maxPayload] + "…"
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.recorded) >= maxRecorded {
		half := len(w.recorded) / 2
		w.dropped += half
		w.recorded = slices.Delete(w.recorded, 0, half)
	}
	w.recorded = append(w.recorded, e)
}

// dump renders every recorded event in the order received, stamped in ms
// since start, then the log tail of each of sentinels (none for a live
// drill): what a failed run needs to explain itself.
func (w *watcher) dump(start time.Time, sentinels []*cluster.Sentinel) []string {
	w.mu.Lock()
	events := slices.Clone(w.recorded)
	dropped := w.dropped
	w.mu.Unlock()
	lines := []string{fmt.Sprintf("--- events of every sentinel, ms since the %s", start.Format("15:04:05.000"))}
	if dropped > 0 {
		lines = append(lines, fmt.Sprintf("(%d older events dropped)", dropped))
	}
	for _, e := range events {
		lines = append(lines, fmt.Sprintf("%+9dms  %s  %s %s", e.at.Sub(start).Milliseconds(), e.sentinel, e.channel, e.payload))
	}
	for _, s := range sentinels {
		lines = append(lines, fmt.Sprintf("--- sentinel %s: last %d log lines", s.Addr(), dumpLogLines))
		lines = append(lines, strings.Split(strings.TrimRight(s.LogTail(dumpLogLines), "\n"), "\n")...)
	}
	return lines
}

// explain keeps the dump in res and prints it, after a run that failed
// other than by being cancelled.
func (w *watcher) explain(ctx context.Context, rep *reporter, res *Result, sentinels []*cluster.Sentinel) {
	if ctx.Err() != nil {
		return
	}
	res.Dump = w.dump(res.Start, sentinels)
	rep.printf("%s", strings.Join(res.Dump, "\n"))
}

// stop ends the readers and waits for them.
func (w *watcher) stop() {
	w.cancel()
	w.wg.Wait()
}
