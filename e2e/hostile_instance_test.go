package e2e

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/testutil"
)

// hostileRedis is a fake master that answers like Redis until INFO, which it
// answers with the reply under test, then closes; each reconnect gets the
// same. It stops with the test.
type hostileRedis struct {
	ln   net.Listener
	wg   sync.WaitGroup
	info func(w *bufio.Writer)
}

func startHostileRedis(t *testing.T, info func(w *bufio.Writer)) *hostileRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileRedis{ln: ln, info: info}
	h.wg.Go(h.accept)
	t.Cleanup(func() { ln.Close(); h.wg.Wait() })
	return h
}

func (h *hostileRedis) port() int { return h.ln.Addr().(*net.TCPAddr).Port }

func (h *hostileRedis) accept() {
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.wg.Go(func() { h.serve(c) })
	}
}

// serve reads RESP arrays of bulk strings (what a sentinel sends) and
// answers each command by name.
func (h *hostileRedis) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	for {
		args, err := readCommand(r)
		if err != nil {
			return
		}
		switch strings.ToLower(args[0]) {
		case "info":
			h.info(w)
			_ = w.Flush()
			return
		case "ping":
			w.WriteString("+PONG\r\n")
		case "subscribe":
			w.WriteString("*3\r\n$9\r\nsubscribe\r\n$" + strconv.Itoa(len(args[1])) + "\r\n" + args[1] + "\r\n:1\r\n")
		default:
			w.WriteString("+OK\r\n")
		}
		if r.Buffered() == 0 {
			if w.Flush() != nil {
				return
			}
		}
	}
}

func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
	if err != nil || n < 1 || n > 64 {
		return nil, strconv.ErrSyntax
	}
	args := make([]string, n)
	for i := range args {
		if line, err = r.ReadString('\n'); err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
		if err != nil || size < 0 || size > 1<<16 {
			return nil, strconv.ErrSyntax
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args[i] = string(b[:size])
	}
	return args, nil
}

// TestHostileInstanceCannotCrashTheSentinel replays the attacks of a
// monitored instance against the built binary: INFO with a bulk header of
// 2^63-1 (a panic in go-redis' reader) and of 1 TiB (memory), a reply nested
// 6M arrays deep (a stack overflow in a recursive reader) and a master
// listing 20,000 replicas (over the reply size) or 1,500 (over the replica
// cap). Each time the sentinel raises a warning, keeps answering clients,
// and is still alive.
func TestHostileInstanceCannotCrashTheSentinel(t *testing.T) {
	t.Parallel()
	// Replicas on loopback addresses with a closed port: the sentinel's
	// links to those it keeps fail at once and stay on this machine.
	replicas := func(n int) func(w *bufio.Writer) {
		return func(w *bufio.Writer) {
			var b strings.Builder
			b.WriteString("# Replication\r\nrole:master\r\nconnected_slaves:" + strconv.Itoa(n) + "\r\n")
			for i := range n {
				b.WriteString("slave" + strconv.Itoa(i) + ":ip=127.1." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+1) +
					",port=1,state=online,offset=1,lag=0\r\n")
			}
			w.WriteString("$" + strconv.Itoa(b.Len()) + "\r\n" + b.String() + "\r\n")
		}
	}
	for _, tc := range []struct {
		name string
		info func(w *bufio.Writer)
		// event is the warning the sentinel must raise.
		event string
	}{
		{"bulk header 2^63-1", func(w *bufio.Writer) { w.WriteString("$9223372036854775807\r\n") }, "-reply-over-limit"},
		{"bulk header 1 TiB", func(w *bufio.Writer) { w.WriteString("$1099511627776\r\n") }, "-reply-over-limit"},
		{"6M nested arrays", func(w *bufio.Writer) {
			for range 6_000_000 {
				w.WriteString("*1\r\n")
			}
		}, "-reply-over-limit"},
		{"20000 replicas", replicas(20000), "-reply-over-limit"},
		{"1500 replicas", replicas(1500), "-max-replicas-reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := startHostileRedis(t, tc.info)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			s, err := cluster.StartSentinelOnFreePort(ctx, sentinelCommand, tmpfsDir(t), func(port int) string {
				return cluster.SentinelConf(port, masterName, fake.port(), 1, 5000, 10000)
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Stop() })
			// The event may come before a subscriber could attach: read
			// the log, where every event is a line.
			testutil.Eventually(t, 20*time.Second, tc.event+" in the log", func() bool {
				b, err := os.ReadFile(s.LogPath)
				return err == nil && strings.Contains(string(b), tc.event)
			})
			testutil.Eventually(t, 10*time.Second, "the sentinel still answers", func() bool {
				addr, err := s.Client().GetMasterAddrByName(ctx, masterName).Result()
				return err == nil && len(addr) == 2 && addr[1] == strconv.Itoa(fake.port())
			})
			if !s.Alive() {
				t.Fatalf("the sentinel exited:\n%s", s.LogTail(20))
			}
		})
	}
}
