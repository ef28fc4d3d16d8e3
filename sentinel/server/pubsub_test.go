package server

import (
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/testutil"
)

func TestPubSubRESP2(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	c.send(encodeCommand("SUBSCRIBE", "+switch-master", "+sdown"))
	if got := c.read(); got != "*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n" {
		t.Fatalf("subscribe 1: %q", got)
	}
	if got := c.read(); got != "*3\r\n$9\r\nsubscribe\r\n$6\r\n+sdown\r\n:2\r\n" {
		t.Fatalf("subscribe 2: %q", got)
	}
	if got := c.do("PSUBSCRIBE", "[-+]odown"); got != "*3\r\n$10\r\npsubscribe\r\n$9\r\n[-+]odown\r\n:3\r\n" {
		t.Fatalf("psubscribe: %q", got)
	}
	if got := c.do("SENTINEL", "MASTERS"); got != "-ERR Can't execute 'sentinel|masters': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n" {
		t.Fatalf("subscribed context: %q", got)
	}
	if got := c.do("PING"); got != "*2\r\n$4\r\npong\r\n$0\r\n\r\n" {
		t.Fatalf("subscribed PING: %q", got)
	}

	if n := ts.Publish("+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380"); n != 1 {
		t.Fatalf("Publish delivered %d", n)
	}
	if got := c.read(); got != "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$38\r\nmymaster 127.0.0.1 6379 127.0.0.1 6380\r\n" {
		t.Fatalf("message: %q", got)
	}
	if n := ts.Publish("-odown", "master mymaster 127.0.0.1 6379"); n != 1 {
		t.Fatalf("pattern Publish delivered %d", n)
	}
	if got := c.read(); got != "*4\r\n$8\r\npmessage\r\n$9\r\n[-+]odown\r\n$6\r\n-odown\r\n$30\r\nmaster mymaster 127.0.0.1 6379\r\n" {
		t.Fatalf("pmessage: %q", got)
	}
	if n := ts.Publish("+odownx", "x"); n != 0 {
		t.Fatalf("non-matching Publish delivered %d", n)
	}

	c.send(encodeCommand("UNSUBSCRIBE"))
	if got := c.read(); got != "*3\r\n$11\r\nunsubscribe\r\n$14\r\n+switch-master\r\n:2\r\n" {
		t.Fatalf("unsubscribe 1: %q", got)
	}
	if got := c.read(); got != "*3\r\n$11\r\nunsubscribe\r\n$6\r\n+sdown\r\n:1\r\n" {
		t.Fatalf("unsubscribe 2: %q", got)
	}
	if got := c.do("PUNSUBSCRIBE", "[-+]odown"); got != "*3\r\n$12\r\npunsubscribe\r\n$9\r\n[-+]odown\r\n:0\r\n" {
		t.Fatalf("punsubscribe: %q", got)
	}
	if got := c.do("UNSUBSCRIBE"); got != "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n" {
		t.Fatalf("unsubscribe none: %q", got)
	}
	if got := c.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after leaving pub/sub: %q", got)
	}
}

func TestPubSubRESP3(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	c.do("HELLO", "3")
	if got := c.do("PSUBSCRIBE", "*"); got != ">3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n" {
		t.Fatalf("psubscribe: %q", got)
	}
	if got := c.do("SUBSCRIBE", "+sdown"); got != ">3\r\n$9\r\nsubscribe\r\n$6\r\n+sdown\r\n:2\r\n" {
		t.Fatalf("subscribe: %q", got)
	}
	// RESP3 clients may run any command while subscribed.
	if got := c.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
	if got := c.do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nope"); got != "_\r\n" {
		t.Fatalf("command while subscribed: %q", got)
	}
	if n := ts.Publish("+sdown", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"); n != 2 {
		t.Fatalf("Publish delivered %d, want 2 (channel and pattern)", n)
	}
	got := c.read() + c.read()
	msg := ">3\r\n$7\r\nmessage\r\n$6\r\n+sdown\r\n$61\r\nslave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379\r\n"
	pmsg := ">4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$6\r\n+sdown\r\n$61\r\nslave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379\r\n"
	if got != msg+pmsg {
		t.Fatalf("pushes:\n got %q\nwant %q", got, msg+pmsg)
	}
	if got := c.do("UNSUBSCRIBE", "+sdown"); got != ">3\r\n$11\r\nunsubscribe\r\n$6\r\n+sdown\r\n:1\r\n" {
		t.Fatalf("unsubscribe: %q", got)
	}
}

// A subscriber that never reads must not stall Publish or other clients; it
// is dropped once its buffer passes pushLimit.
func TestSlowSubscriberDoesNotBlockPublish(t *testing.T) {
	ts := startServer(t, nil)
	slow := ts.dial(t)
	slow.do("SUBSCRIBE", "+sdown")
	fast := ts.dial(t)
	fast.do("SUBSCRIBE", "+sdown")
	drained := make(chan int)
	go func() { // the fast subscriber keeps reading
		n := 0
		for {
			if _, err := readValue(fast.br); err != nil {
				drained <- n
				return
			}
			n++
		}
	}()

	payload := strings.Repeat("p", 64<<10)
	start := time.Now()
	var slowGone bool
	for i := 0; i < 4*pushLimit/len(payload); i++ {
		ts.Publish("+sdown", payload)
		if ts.Clients() == 1 {
			slowGone = true
			break
		}
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("Publish stalled: %v", elapsed)
	}
	testutil.Eventually(t, 10*time.Second, "slow subscriber to be dropped", func() bool { slowGone = slowGone || ts.Clients() == 1; return slowGone })
	if !slow.closed() {
		t.Fatal("slow subscriber still connected")
	}
	if got := ts.dial(t).do("PING"); got != "+PONG\r\n" {
		t.Fatalf("other clients must be served: %q", got)
	}
	_ = fast.nc.Close()
	if n := <-drained; n == 0 {
		t.Fatal("fast subscriber received nothing")
	}
}
