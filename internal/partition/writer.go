package partition

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

const (
	// listKey holds every value the writers append.
	listKey = "partition:writes"
	// writeEvery paces each writer, about 100 writes a second.
	writeEvery = 10 * time.Millisecond
	// resolveEvery is how often a writer asks its sentinel for the master.
	resolveEvery = 100 * time.Millisecond
	// writeTimeout bounds one write; a partitioned master looks like this.
	writeTimeout = 300 * time.Millisecond
)

// ack is one write a master acknowledged.
type ack struct {
	value string
	at    time.Time
	host  int // index of the host whose master acknowledged it
}

// refusal is one write that failed: a master's error reply (reply true)
// or a timeout or broken connection.
type refusal struct {
	at    time.Time
	host  int
	err   string
	reply bool
}

// writer appends unique values on the master its local sentinel names, as
// a client on that host would. Its fields are written by its goroutine
// until stop returns, and read only after.
type writer struct {
	name      string
	sentinel  *cluster.Sentinel
	reachable func(host int) bool
	c         *Cluster

	acks     []ack
	refusals []refusal
	// acked counts acks for readers while the writer runs.
	acked   atomic.Int64
	clients map[string]*redis.Client

	cancel context.CancelFunc
	done   chan struct{}
}

// startWriter starts writing from host i; reachable says which hosts the
// writer's side can reach now.
func (c *Cluster) startWriter(ctx context.Context, i int, reachable func(host int) bool) *writer {
	ctx, cancel := context.WithCancel(ctx)
	w := &writer{name: fmt.Sprintf("h%d", i+1), sentinel: c.Topo.Sentinels[i], reachable: reachable, c: c,
		clients: map[string]*redis.Client{}, cancel: cancel, done: make(chan struct{})}
	go w.run(ctx)
	return w
}

func (w *writer) run(ctx context.Context) {
	defer close(w.done)
	defer func() {
		for _, cl := range w.clients {
			_ = cl.Close()
		}
	}()
	var master string
	var resolved time.Time
	ticker := time.NewTicker(writeEvery)
	defer ticker.Stop()
	for seq := 0; ; {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if master == "" || time.Since(resolved) >= resolveEvery {
			if addr, err := w.resolve(ctx); err == nil {
				master, resolved = addr, time.Now()
			}
		}
		host := w.c.hostOf(master)
		if host < 0 || !w.reachable(host) {
			continue
		}
		seq++
		value := fmt.Sprintf("%s:%d", w.name, seq)
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := w.client(master).RPush(wctx, listKey, value).Err()
		cancel()
		now := time.Now()
		switch {
		case err == nil:
			w.acks = append(w.acks, ack{value: value, at: now, host: host})
			w.acked.Add(1)
		case ctx.Err() != nil:
			return
		default:
			var reply redis.Error
			w.refusals = append(w.refusals, refusal{at: now, host: host, err: err.Error(), reply: errors.As(err, &reply)})
			// Ask again: the master may have changed.
			resolved = time.Time{}
		}
	}
}

func (w *writer) resolve(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	hp, err := w.sentinel.Client().GetMasterAddrByName(ctx, masterName).Result()
	if err != nil {
		return "", err
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("get-master-addr-by-name: reply %q", hp)
	}
	return hp[0] + ":" + hp[1], nil
}

func (w *writer) client(addr string) *redis.Client {
	cl, ok := w.clients[addr]
	if !ok {
		cl = redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1,
			DialTimeout: writeTimeout, ReadTimeout: writeTimeout, WriteTimeout: writeTimeout,
			MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
		w.clients[addr] = cl
	}
	return cl
}

// stop ends the writer and waits for it; its records are readable after.
func (w *writer) stop() {
	w.cancel()
	<-w.done
}

// lostWrites returns the acknowledged values the final list lacks.
func lostWrites(acks []ack, final []string) []ack {
	have := make(map[string]bool, len(final))
	for _, v := range final {
		have[v] = true
	}
	var lost []ack
	for _, a := range acks {
		if !have[a.value] {
			lost = append(lost, a)
		}
	}
	return lost
}

// isFenced reports whether a refusal is a master protecting itself (Redis
// answers -NOREPLICAS when min-replicas-to-write is not met).
func isFenced(r refusal) bool { return strings.HasPrefix(r.err, "NOREPLICAS") }

// readFinal reads the list from the master, guarding its size.
func readFinal(ctx context.Context, r *cluster.Redis, limit int64) ([]string, error) {
	n, err := r.Client().LLen(ctx, listKey).Result()
	if err != nil {
		return nil, fmt.Errorf("llen on %s: %w", r.Addr(), err)
	}
	if n > limit {
		return nil, errors.New("the list holds more values than were ever written")
	}
	return r.Client().LRange(ctx, listKey, 0, -1).Result()
}
