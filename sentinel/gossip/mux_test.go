package gossip

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func newTestMux(t *testing.T) *Mux {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMux(ln)
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close mux: %v", err)
		}
	})
	return m
}

func dial(t *testing.T, m *Mux, first string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if first != "" {
		if _, err := io.WriteString(c, first); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// acceptWithin accepts one Redis connection or fails after d.
func acceptWithin(t *testing.T, l net.Listener, d time.Duration) net.Conn {
	t.Helper()
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("accept: %v", r.err)
		}
		t.Cleanup(func() { _ = r.c.Close() })
		return r.c
	case <-time.After(d):
		_ = l.Close() // unblocks the Accept goroutine
		<-ch
		t.Fatalf("no redis connection within %s", d)
		return nil
	}
}

func readN(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, n)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return string(buf)
}

func TestMuxRoutesByFirstByte(t *testing.T) {
	m := newTestMux(t)
	streams := make(chan net.Conn)
	done := make(chan struct{})
	defer close(done)
	if err := m.attach(streams, done); err != nil {
		t.Fatal(err)
	}
	if err := m.attach(make(chan net.Conn), make(chan struct{})); err == nil {
		t.Fatal("a second gossip receiver was attached")
	}

	for _, cmd := range []string{"*1\r\n$4\r\nPING\r\n", "PING\r\n"} {
		client := dial(t, m, cmd)
		srv := acceptWithin(t, m.Redis(), 5*time.Second)
		if got := readN(t, srv, len(cmd)); got != cmd {
			t.Fatalf("redis side read %q, want %q with the peeked byte restored", got, cmd)
		}
		if _, err := io.WriteString(srv, "+PONG\r\n"); err != nil {
			t.Fatal(err)
		}
		if got := readN(t, client, 7); got != "+PONG\r\n" {
			t.Fatalf("client read %q", got)
		}
	}

	dial(t, m, string([]byte{streamMagic})+"memberlist")
	select {
	case c := <-streams:
		defer c.Close()
		if got := readN(t, c, len("memberlist")); got != "memberlist" {
			t.Fatalf("gossip side read %q, want the bytes after the magic byte", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("gossip stream not delivered")
	}
}

func TestMuxSilentClientDoesNotStallAccept(t *testing.T) {
	m := newTestMux(t)
	silent := dial(t, m, "")
	dial(t, m, "PING\r\n")
	first := acceptWithin(t, m.Redis(), peekTimeout/2)
	if first.RemoteAddr().String() == silent.LocalAddr().String() {
		t.Fatal("the silent client was handed over before the talking one")
	}
	// After the peek deadline the silent client is a Redis client too.
	late := acceptWithin(t, m.Redis(), peekTimeout+5*time.Second)
	if late.RemoteAddr().String() != silent.LocalAddr().String() {
		t.Fatalf("got %s, want the silent client %s", late.RemoteAddr(), silent.LocalAddr())
	}
}

func TestMuxDropsUnclaimedConnections(t *testing.T) {
	m := newTestMux(t)
	gossip := dial(t, m, string([]byte{streamMagic}))
	_ = gossip.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := gossip.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("stream with no gossip group: read %v, want EOF", err)
	}

	if err := m.Redis().Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Redis().Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("accept after close: %v, want net.ErrClosed", err)
	}
	redis := dial(t, m, "PING\r\n")
	_ = redis.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := redis.Read(make([]byte, 1)); err == nil {
		t.Fatal("redis client served after the redis side closed")
	}
}

func TestMuxCloseCutsPendingPeeks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMux(ln)
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	waitFor(t, 5*time.Second, "the silent conn to be peeked", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.pending) == 1
	})
	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= peekTimeout {
		t.Fatalf("Close waited %s for a silent client", took)
	}
	if _, err := m.Redis().Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("accept after mux close: %v", err)
	}
}
