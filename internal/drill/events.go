package drill

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// resubscribeDelay spaces reconnection attempts to a sentinel that is down.
const resubscribeDelay = 100 * time.Millisecond

// observation is what the run loop learns from a watcher: a phase (with the
// new master's address when the event carries it), a note, or a failure
// that ends the run.
type observation struct {
	phase  Phase
	at     time.Time
	addr   string
	detail string
	note   bool
	err    error
}

// watcher reads PSUBSCRIBE * on every sentinel of a group and sends the
// events that matter to a run loop.
type watcher struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
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
		w.wg.Go(func() { read(ctx, addrs[i], ps, name, out) })
	}
	w.wg.Go(func() {
		<-ctx.Done()
		// Closing the connections is what unblocks the readers.
		closeAll()
	})
	return w, nil
}

func read(ctx context.Context, addr string, ps *redis.PubSub, name string, out chan<- observation) {
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
		c, ok := classify(m.Channel, m.Payload, name)
		if !ok {
			continue
		}
		o := observation{phase: c.phase, at: time.Now(), addr: c.addr, note: c.note,
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

// stop ends the readers and waits for them.
func (w *watcher) stop() {
	w.cancel()
	w.wg.Wait()
}
