package link

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/monitor"
)

// server is a redis-server or redis-sentinel process owned by one test.
type server struct {
	t        *testing.T
	bin      string
	args     []string
	port     int
	user     string // for admin commands, with password
	password string
	cmd      *exec.Cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRedis runs redis-server on a free port without persistence; replicas
// sync at once instead of after the default 5 s diskless-sync delay.
func startRedis(t *testing.T, args ...string) *server {
	t.Helper()
	port := freePort(t)
	s := &server{t: t, bin: "redis-server", port: port, args: append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--repl-diskless-sync-delay", "0",
	}, args...)}
	s.start()
	return s
}

// startWithConfig runs bin on a config file holding extra lines, so that
// CONFIG REWRITE (and Sentinel's own flushes) have a file to write.
func startWithConfig(t *testing.T, bin string, extra string) *server {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "test.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n%s\n", port, dir, extra)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, bin: bin, port: port, args: []string{conf}}
	s.start()
	return s
}

func (s *server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

func (s *server) configFile() string { return s.args[0] }

// start launches the process and waits until it answers.
func (s *server) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin, s.args...)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.bin, err)
	}
	s.cmd = cmd
	s.t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := net.Dialer{Timeout: 100 * time.Millisecond}
		nc, err := c.Dial("tcp", s.addr())
		if err == nil {
			_ = nc.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s on port %d not ready: %v", s.bin, s.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and reaps the process; a second call does nothing.
func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// do runs one admin command on a fresh connection.
func (s *server) do(args ...any) (any, error) {
	c := redis.NewClient(&redis.Options{Addr: s.addr(), Username: s.user, Password: s.password, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Do(ctx, args...).Result()
}

func (s *server) text(args ...any) string {
	s.t.Helper()
	v, err := s.do(args...)
	if err != nil {
		s.t.Fatalf("%v: %v", args, err)
	}
	return fmt.Sprint(v)
}

// recorder collects observations. Its sink blocks while the test is not
// reading (back-pressure, as the real caller applies) until the test ends.
type recorder struct {
	ch   chan monitor.Observation
	done chan struct{}
}

func newRecorder(buffer int) *recorder {
	return &recorder{ch: make(chan monitor.Observation, buffer), done: make(chan struct{})}
}

func (r *recorder) sink(o monitor.Observation) {
	select {
	case r.ch <- o:
	case <-r.done:
	}
}

// newManager returns a Manager closed at the end of the test.
func newManager(t *testing.T, log zerolog.Logger, buffer int) (*Manager, *recorder) {
	rec := newRecorder(buffer)
	m := NewManager(rec.sink, log)
	t.Cleanup(m.Close)
	// Cleanups run last-in first-out: unblock the sink before Close waits.
	t.Cleanup(func() { close(rec.done) })
	return m, rec
}

// await returns the first observation matching match, skipping others. If
// poke is not nil it is called every 50ms while waiting.
func (r *recorder) await(t *testing.T, within time.Duration, what string, poke func(), match func(monitor.Observation) bool) monitor.Observation {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case o := <-r.ch:
			if match(o) {
				return o
			}
		case <-tick.C:
			if poke != nil {
				poke()
			}
		case <-deadline.C:
			t.Fatalf("no %s within %v", what, within)
		}
	}
}

// connected waits for every key's monitor.ObsConnected, in any order.
func (r *recorder) connected(t *testing.T, keys ...string) {
	t.Helper()
	left := make(map[string]bool)
	for _, k := range keys {
		left[k] = true
	}
	r.await(t, 5*time.Second, fmt.Sprintf("connection of %v", keys), nil, func(o monitor.Observation) bool {
		if o.Kind == monitor.ObsConnected {
			delete(left, o.Key)
		}
		return len(left) == 0
	})
}

func is(key string, kind monitor.ObsKind) func(monitor.Observation) bool {
	return func(o monitor.Observation) bool { return o.Key == key && o.Kind == kind }
}
