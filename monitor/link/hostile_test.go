package link

import (
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/monitor"
)

// fakeRedis is a net.Listener answering each command with raw bytes, so a
// test can replay what a hostile instance would send.
type fakeRedis struct {
	ln     net.Listener
	answer func(cmd []string) string
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func startFake(t *testing.T, answer func(cmd []string) string) *fakeRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRedis{ln: ln, answer: answer}
	f.wg.Go(f.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			_ = c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeRedis) addr() string { return f.ln.Addr().String() }

func (f *fakeRedis) accept() {
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, nc)
		f.mu.Unlock()
		f.wg.Go(func() { f.serve(nc) })
	}
}

func (f *fakeRedis) serve(nc net.Conn) {
	defer nc.Close()
	rd := newReader(nc, DefaultLimits)
	for {
		v, err := rd.read()
		if err != nil {
			return
		}
		var cmd []string
		if args, ok := v.([]any); ok {
			for _, a := range args {
				s, _ := a.(string)
				cmd = append(cmd, strings.ToUpper(s))
			}
		}
		// Through a plain Reader: io.WriteString would copy a 24 MB reply
		// and count against the link's memory.
		if _, err := io.Copy(nc, struct{ io.Reader }{strings.NewReader(f.answer(cmd))}); err != nil {
			return
		}
	}
}

// redisLike answers the handshake, PING and SUBSCRIBE as Redis does, and
// INFO and SUBSCRIBE's confirmation with what info and subscribed return.
func redisLike(info, subscribed func() string) func([]string) string {
	return func(cmd []string) string {
		if len(cmd) == 0 {
			return "-ERR empty\r\n"
		}
		switch cmd[0] {
		case "PING":
			return "+PONG\r\n"
		case "INFO":
			return info()
		case "SUBSCRIBE":
			return subscribed()
		default:
			return "+OK\r\n"
		}
	}
}

const (
	goodInfo   = "$34\r\nrun_id:x\r\nrole:master\r\nloading:0\r\n\r\n"
	subscribed = "*3\r\n$9\r\nsubscribe\r\n$18\r\n__sentinel__:hello\r\n:1\r\n"
)

// TestHostileInfoClosesTheLinkOnce replays every hostile reply as an INFO
// reply: the link closes without allocating what was announced, says why
// once, and serves the instance again once it behaves.
func TestHostileInfoClosesTheLinkOnce(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			var bad atomic.Bool
			bad.Store(true)
			fake := startFake(t, redisLike(func() string {
				if bad.Load() {
					return h.raw
				}
				return goodInfo
			}, func() string { return subscribed }))
			m, rec := newManager(t, zerolog.Nop(), 64)
			m.Reconcile([]monitor.LinkSpec{{Key: "m", Addr: fake.addr(), ClientName: "sentinel-x"}})
			rec.connected(t, "m")

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			m.Send("m", monitor.InfoRequest{})
			down := rec.await(t, wait, "link closed", nil, is("m", monitor.ObsDisconnected))
			runtime.ReadMemStats(&after)
			if !errors.Is(down.Err, monitor.ErrReplyLimit) || !strings.Contains(down.Err.Error(), h.want) || !down.OverLimit {
				t.Fatalf("disconnected with %v (OverLimit %v), want a first limit error containing %q", down.Err, down.OverLimit, h.want)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
				t.Fatalf("the refused reply cost %d bytes", n)
			}

			// It comes back, and repeats itself: no second warning.
			rec.await(t, wait, "reconnection", nil, is("m", monitor.ObsConnected))
			m.Send("m", monitor.InfoRequest{})
			if again := rec.await(t, wait, "link closed again", nil, is("m", monitor.ObsDisconnected)); again.OverLimit {
				t.Fatalf("second refusal reported as news: %v", again.Err)
			}

			bad.Store(false)
			rec.await(t, wait, "a good INFO", func() { m.Send("m", monitor.InfoRequest{}) }, is("m", monitor.ObsInfo))
			bad.Store(true)
			m.Send("m", monitor.InfoRequest{})
			if down := rec.await(t, wait, "link closed", nil, is("m", monitor.ObsDisconnected)); !down.OverLimit {
				t.Fatal("a limit error after a good INFO is news again")
			}
		})
	}
}

// TestHostileSubscribeReplyClosesOnlyThePubSubConnection: a SUBSCRIBE reply
// nested 6M arrays deep overflowed the stack of the recursive reader.
func TestHostileSubscribeReplyClosesOnlyThePubSubConnection(t *testing.T) {
	deep := strings.Repeat("*1\r\n", 6_000_000)
	fake := startFake(t, redisLike(func() string { return goodInfo }, func() string { return deep }))
	logs := &testutil.SyncBuffer{}
	m, rec := newManager(t, zerolog.New(logs), 64)
	m.Reconcile([]monitor.LinkSpec{{Key: "m", Addr: fake.addr(), Subscribe: true}})
	rec.connected(t, "m")
	testutil.Eventually(t, wait, "pub/sub refusal logged", func() bool {
		return strings.Contains(logs.String(), "array nesting of 5 levels is over the limit of 4")
	})
	if !strings.Contains(logs.String(), `"level":"warn"`) {
		t.Fatalf("limit error not a warning:\n%s", logs)
	}
	m.Send("m", monitor.Ping{})
	if o := rec.await(t, wait, "ping reply", nil, is("m", monitor.ObsPingReply)); !o.OK {
		t.Fatalf("command connection after the pub/sub refusal: %+v", o)
	}
}

// TestSlowReplyTimesOut: an instance that announces a reply and trickles
// it is cut off by the link's timeout, not waited for.
func TestSlowReplyTimesOut(t *testing.T) {
	fake := startFake(t, redisLike(func() string {
		time.Sleep(300 * time.Millisecond)
		return goodInfo
	}, func() string { return subscribed }))
	m, rec := newManager(t, zerolog.Nop(), 64)
	m.Reconcile([]monitor.LinkSpec{{Key: "m", Addr: fake.addr(), Timeout: 100 * time.Millisecond}})
	rec.connected(t, "m")
	m.Send("m", monitor.InfoRequest{})
	down := rec.await(t, wait, "timeout", nil, is("m", monitor.ObsDisconnected))
	var ne net.Error
	if !errors.As(down.Err, &ne) || !ne.Timeout() {
		t.Fatalf("disconnected with %v, want a timeout", down.Err)
	}
}
