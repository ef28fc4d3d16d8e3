package drill

import (
	"context"
	"crypto/tls"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// writeEvery is the write cadence of the sandbox client.
	writeEvery = 10 * time.Millisecond
	// writeTimeout keeps one write well under the phases measured.
	writeTimeout = 200 * time.Millisecond
)

// writer writes through a go-redis client, as an application would, and
// reports the first write that succeeds after the trigger. Its counters are
// owned by its goroutine and handed back by stop.
type writer struct {
	arm    chan time.Time
	ready  chan struct{} // closed after the first successful write
	cancel context.CancelFunc
	done   chan WriteStats
	via    string // "the FailoverClient" or "the proxy <addr>"
}

// FailoverClient is the drills' go-redis client that finds the master
// through the sentinels; one write gives up after 200 ms.
func FailoverClient(name string, sentinels []string) *redis.Client {
	return FailoverClientTLS(name, sentinels, nil)
}

// FailoverClientTLS is FailoverClient dialling the sentinels and the master
// over TLS with c (nil: plaintext).
func FailoverClientTLS(name string, sentinels []string, c *tls.Config) *redis.Client {
	return redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    name,
		SentinelAddrs: sentinels,
		TLSConfig:     c,
		MaxRetries:    -1,
		DialTimeout:   writeTimeout,
		ReadTimeout:   writeTimeout,
		WriteTimeout:  writeTimeout,
		DialerRetries: 1,
		PoolSize:      2,
	})
}

// PlainClient is the drills' go-redis client that knows one address, a
// proxy, as a client without Sentinel support does.
func PlainClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:         addr,
		MaxRetries:   -1,
		DialTimeout:  writeTimeout,
		ReadTimeout:  writeTimeout,
		WriteTimeout: writeTimeout,
		PoolSize:     2,
	})
}

// startWriter writes through client, which it closes when stopped.
func startWriter(ctx context.Context, client *redis.Client, via string, out chan<- observation) *writer {
	ctx, cancel := context.WithCancel(ctx)
	w := &writer{arm: make(chan time.Time, 1), ready: make(chan struct{}), cancel: cancel, done: make(chan WriteStats, 1), via: via}
	go func() {
		// Close fails only on a closed client.
		defer client.Close()
		w.done <- w.loop(ctx, client, out)
	}()
	return w
}

func (w *writer) loop(ctx context.Context, client *redis.Client, out chan<- observation) WriteStats {
	var (
		st      WriteStats
		armedAt time.Time
		ready   bool // w.ready closed
		first   bool // first success after arming reported
	)
	ticker := time.NewTicker(writeEvery)
	defer ticker.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return st
		case armedAt = <-w.arm:
		case <-ticker.C:
		}
		start := time.Now()
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := client.Set(wctx, "drill:key", strconv.Itoa(n), 0).Err()
		cancel()
		if err == nil && !ready {
			ready = true
			close(w.ready)
		}
		// Writes sent before the trigger do not count.
		if armedAt.IsZero() || start.Before(armedAt) || ctx.Err() != nil {
			continue
		}
		if err != nil {
			st.Failed++
			continue
		}
		st.OK++
		if !first {
			first = true
			select {
			case out <- observation{phase: PhaseWrite, at: time.Now(), detail: "SET through " + w.via + " succeeded"}:
			case <-ctx.Done():
			}
		}
	}
}

// trigger marks the kill: writes started from at on are counted.
func (w *writer) trigger(at time.Time) { w.arm <- at }

// stop ends the writer and returns its counters.
func (w *writer) stop() WriteStats {
	w.cancel()
	return <-w.done
}
