package server

import (
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/testutil"
)

func TestMaxClientsRefusesTheClientOverTheLimit(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.MaxClients = 2 })
	a, b := ts.dial(t), ts.dial(t)
	if a.do("PING") != "+PONG\r\n" || b.do("PING") != "+PONG\r\n" {
		t.Fatal("the first two clients are served")
	}
	over := ts.dial(t)
	if got := over.read(); got != "-ERR max number of clients reached\r\n" || !over.closed() {
		t.Fatalf("third client: %q", got)
	}
	if got := a.do("INFO", "stats"); !strings.Contains(got, "\r\nrejected_connections:1\r\n") {
		t.Fatalf("INFO stats: %q", got)
	}
	if ts.Stats().RejectedConnections != 1 {
		t.Fatalf("stats: %+v", ts.Stats())
	}
	// A slot freed by a leaving client is usable again.
	b.send(encodeCommand("QUIT"))
	if !b.closed() {
		t.Fatal("QUIT closes")
	}
	testutil.Eventually(t, 5*time.Second, "the leaving client is gone", func() bool { return ts.Clients() == 1 })
	if got := ts.dial(t).do("PING"); got != "+PONG\r\n" {
		t.Fatalf("after a client left: %q", got)
	}
}

func TestFailedAuthLogIsRateLimited(t *testing.T) {
	a := newAuthFailures()
	t0 := time.Unix(1000, 0)
	if ok, n := a.note(t0); !ok || n != 1 {
		t.Fatalf("first failure is logged: %v %d", ok, n)
	}
	for i := range 999 {
		if ok, _ := a.note(t0.Add(time.Duration(i) * time.Millisecond)); ok {
			t.Fatalf("failure %d within the window logged", i+2)
		}
	}
	if ok, n := a.note(t0.Add(authLogEvery)); !ok || n != 1000 {
		t.Fatalf("next window: %v %d, want the 999 unlogged plus this one", ok, n)
	}
	if a.total.Load() != 1001 {
		t.Fatalf("total %d", a.total.Load())
	}
}

// 200 wrong passwords make one warning line, and the counter has them all.
func TestFailedAuthFloodLogsOnce(t *testing.T) {
	var buf testutil.SyncBuffer
	ts := startServer(t, func(o *Options) {
		o.RequirePass = "pw"
		o.Log = zerolog.New(&buf)
	})
	c := ts.dial(t)
	for range 200 {
		c.send(encodeCommand("AUTH", "guess"))
	}
	for range 200 {
		if got := c.read(); !strings.HasPrefix(got, "-WRONGPASS") {
			t.Fatalf("reply: %q", got)
		}
	}
	if got := ts.Stats().AuthFailures; got != 200 {
		t.Fatalf("AuthFailures %d", got)
	}
	if n := strings.Count(buf.String(), "authentication failed"); n != 1 {
		t.Fatalf("%d log lines:\n%s", n, buf.String())
	}
}
