package gossip

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/seed877ff415/sentinel/internal/rawio"
)

// streamMagic is written by our transport before any memberlist data. RESP
// clients start with '*' and inline commands with printable ASCII, so a byte
// above 0x7f never begins a Redis conversation.
const streamMagic byte = 0xfd

// peekTimeout bounds how long a silent connection keeps its peek goroutine
// busy; after it the connection goes to Redis, which speaks only when asked.
const peekTimeout = time.Second

// Mux splits one TCP listener between Redis-protocol clients and memberlist
// streams by the first byte each connection sends.
type Mux struct {
	ln    net.Listener
	redis *redisListener
	done  chan struct{}
	wg    sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	pending map[net.Conn]struct{} // conns still being peeked, cut short by Close
	sink    *streamSink           // where gossip streams go; nil drops them
}

// streamSink is the gossip transport's inbox for incoming streams.
type streamSink struct {
	ch   chan<- net.Conn
	done <-chan struct{}
}

// NewMux starts accepting on ln. The Mux owns ln from now on: Close closes it.
func NewMux(ln net.Listener) *Mux {
	m := &Mux{
		ln:      ln,
		done:    make(chan struct{}),
		pending: make(map[net.Conn]struct{}),
	}
	m.redis = &redisListener{mux: m, ch: make(chan net.Conn), closed: make(chan struct{})}
	m.wg.Add(1)
	go m.acceptLoop()
	return m
}

// Redis returns the listener of Redis-protocol connections. Closing it only
// stops the Redis side: later Redis connections are dropped, gossip goes on.
func (m *Mux) Redis() net.Listener { return m.redis }

// Addr is the address of the shared listener.
func (m *Mux) Addr() net.Addr { return m.ln.Addr() }

// Close closes the listener, drops connections not yet handed over and waits
// for the Mux's goroutines. Handed-over connections belong to their receiver.
func (m *Mux) Close() error {
	m.closeOnce.Do(func() {
		close(m.done)
		if err := m.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			m.closeErr = fmt.Errorf("close mux listener: %w", err)
		}
		m.mu.Lock()
		for c := range m.pending {
			// Wakes the blocked peek now instead of at its deadline.
			_ = c.SetReadDeadline(time.Now())
		}
		m.mu.Unlock()
		m.wg.Wait()
	})
	return m.closeErr
}

// attach routes gossip streams to ch until done is closed. One receiver at a
// time: a second Group on the same Mux is a configuration error.
func (m *Mux) attach(ch chan<- net.Conn, done <-chan struct{}) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sink != nil {
		select {
		case <-m.sink.done:
		default:
			return errors.New("mux already serves a gossip group")
		}
	}
	m.sink = &streamSink{ch: ch, done: done}
	return nil
}

func (m *Mux) closing() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

func (m *Mux) acceptLoop() {
	defer m.wg.Done()
	var backoff time.Duration
	for {
		c, err := m.ln.Accept()
		if err != nil {
			if m.closing() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient (e.g. out of file descriptors): back off like net/http.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
				continue
			case <-m.done:
				return
			}
		}
		backoff = 0
		// Set before c is visible to Close, which moves it to "now".
		_ = c.SetReadDeadline(time.Now().Add(peekTimeout))
		m.mu.Lock()
		if m.closing() {
			m.mu.Unlock()
			_ = c.Close()
			return
		}
		m.pending[c] = struct{}{}
		m.mu.Unlock()
		m.wg.Add(1)
		go m.route(c)
	}
}

// route peeks the first byte and hands c to the gossip sink or to Redis.
func (m *Mux) route(c net.Conn) {
	defer m.wg.Done()
	var first [1]byte
	n, err := c.Read(first[:])
	m.mu.Lock()
	delete(m.pending, c)
	sink := m.sink
	m.mu.Unlock()
	_ = c.SetReadDeadline(time.Time{})

	var ne net.Error
	switch {
	case m.closing():
		_ = c.Close()
	case n == 1 && first[0] == streamMagic:
		m.toGossip(c, sink)
	case n == 1:
		m.toRedis(&peekedConn{Conn: rawio.Wrap(c), first: first[0], hasFirst: true})
	case errors.As(err, &ne) && ne.Timeout():
		m.toRedis(rawio.Wrap(c))
	default:
		_ = c.Close()
	}
}

func (m *Mux) toGossip(c net.Conn, sink *streamSink) {
	if sink == nil {
		_ = c.Close()
		return
	}
	select {
	case sink.ch <- c:
	case <-sink.done:
		_ = c.Close()
	case <-m.done:
		_ = c.Close()
	}
}

func (m *Mux) toRedis(c net.Conn) {
	select {
	case m.redis.ch <- c:
	case <-m.redis.closed:
		_ = c.Close()
	case <-m.done:
		_ = c.Close()
	}
}

// redisListener hands out the non-gossip connections of a Mux.
type redisListener struct {
	mux    *Mux
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *redisListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
	case <-l.mux.done:
	}
	return nil, fmt.Errorf("accept redis conn: %w", net.ErrClosed)
}

func (l *redisListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *redisListener) Addr() net.Addr { return l.mux.ln.Addr() }

// peekedConn replays the byte the Mux consumed to tell the protocols apart.
// Like any net.Conn it expects one reader at a time.
type peekedConn struct {
	net.Conn
	first    byte
	hasFirst bool
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if c.hasFirst && len(p) > 0 {
		p[0] = c.first
		c.hasFirst = false
		return 1, nil
	}
	return c.Conn.Read(p)
}

// NetConn returns the underlying connection, as tls.Conn does (the Redis
// server reports its descriptor in CLIENT LIST).
func (c *peekedConn) NetConn() net.Conn { return c.Conn }
