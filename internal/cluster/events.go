package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrClosed is returned by Events.Wait once the events are closed and no
// recorded event matched.
var ErrClosed = errors.New("events closed")

// resubscribeDelay spaces reconnection attempts to a sentinel that is down.
const resubscribeDelay = 100 * time.Millisecond

// Event is one message a sentinel published: Channel is the event type
// (e.g. "+switch-master"), Sentinel the index in Topology.Sentinels.
type Event struct {
	At       time.Time
	Sentinel int
	Channel  string
	Payload  string
}

// Events records every message published by the topology's sentinels since
// Subscribe, in arrival order.
type Events struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	log     []Event       // append-only: recorded elements never change
	changed chan struct{} // closed and replaced on every append
	closed  chan struct{} // closed when the readers have stopped
}

// Subscribe sends PSUBSCRIBE * to every sentinel and returns once each has
// confirmed, so no event published after it returns is missed. Recording
// stops on Close or when ctx ends; Close it before Topology.Stop. A sentinel
// that is killed is re-subscribed when it comes back; events published while
// it was away are lost.
func (t *Topology) Subscribe(ctx context.Context) (*Events, error) {
	subs := make([]*redis.PubSub, 0, len(t.Sentinels))
	closeAll := func() {
		for _, ps := range subs {
			// The connection is dropped either way.
			_ = ps.Close()
		}
	}
	for _, s := range t.Sentinels {
		ps := s.Client().PSubscribe(ctx, "*")
		subs = append(subs, ps)
		if _, err := ps.ReceiveTimeout(ctx, startTimeout); err != nil {
			closeAll()
			return nil, fmt.Errorf("psubscribe on sentinel %s: %w", s.Addr(), err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	e := &Events{cancel: cancel, changed: make(chan struct{}), closed: make(chan struct{})}
	for i, ps := range subs {
		e.wg.Go(func() { e.read(ctx, i, ps) })
	}
	go func() {
		<-ctx.Done()
		// Closing the connections is what unblocks the readers.
		closeAll()
		e.wg.Wait()
		close(e.closed)
	}()
	return e, nil
}

// read records sentinel i's messages until ctx ends.
func (e *Events) read(ctx context.Context, i int, ps *redis.PubSub) {
	for ctx.Err() == nil {
		msg, err := ps.Receive(ctx)
		if err != nil {
			// go-redis redials and re-subscribes on the next Receive.
			timer := time.NewTimer(resubscribeDelay)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		if m, ok := msg.(*redis.Message); ok {
			e.add(Event{At: time.Now(), Sentinel: i, Channel: m.Channel, Payload: m.Payload})
		}
	}
}

func (e *Events) add(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, ev)
	close(e.changed)
	e.changed = make(chan struct{})
}

// snapshot returns the events recorded so far and a channel closed when more
// arrive. The slice is safe to read unlocked: recorded elements never change.
func (e *Events) snapshot() ([]Event, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.log, e.changed
}

// Wait returns the first event since Subscribe for which pred is true,
// waiting for it if needed. It fails when ctx ends or, once no match is
// recorded, with ErrClosed after Close.
func (e *Events) Wait(ctx context.Context, pred func(Event) bool) (Event, error) {
	next := 0
	for {
		log, changed := e.snapshot()
		for ; next < len(log); next++ {
			if pred(log[next]) {
				return log[next], nil
			}
		}
		select {
		case <-changed:
		case <-e.closed:
			// An event may have landed between the snapshot and closing.
			if log, _ = e.snapshot(); next == len(log) {
				return Event{}, ErrClosed
			}
		case <-ctx.Done():
			return Event{}, fmt.Errorf("wait for event: %w", ctx.Err())
		}
	}
}

// All returns a copy of the events recorded so far.
func (e *Events) All() []Event {
	log, _ := e.snapshot()
	return append([]Event(nil), log...)
}

// Close stops recording and waits for the reader goroutines to exit. It is
// idempotent; recorded events stay readable.
func (e *Events) Close() {
	e.cancel()
	<-e.closed
}
