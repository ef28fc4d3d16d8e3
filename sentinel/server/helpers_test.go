package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

const (
	masterRunID = "1111111111111111111111111111111111111111"
	peerRunID   = "2222222222222222222222222222222222222222"
	peer2RunID  = "3333333333333333333333333333333333333333"
	myID        = "0123456789abcdef0123456789abcdef01234567"
)

// fakeBackend serves a hand-built snapshot and records state changes.
type fakeBackend struct {
	mu       sync.Mutex
	snap     *view.Snapshot
	calls    []string
	err      error // returned by state-changing calls when set
	hellos   []string
	scripts  []Script
	downLead string
}

func (f *fakeBackend) record(format string, a ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
	return f.err
}

func (f *fakeBackend) Snapshot() *view.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}
func (f *fakeBackend) Monitor(name, host string, port, quorum int) error {
	return f.record("monitor %s %s %d %d", name, host, port, quorum)
}
func (f *fakeBackend) Remove(name string) error { return f.record("remove %s", name) }
func (f *fakeBackend) Set(name string, args []string) error {
	return f.record("set %s %s", name, strings.Join(args, " "))
}
func (f *fakeBackend) Reset(pattern string) int {
	_ = f.record("reset %s", pattern)
	return 1
}
func (f *fakeBackend) Failover(name string) error { return f.record("failover %s", name) }
func (f *fakeBackend) FlushConfig() error         { return f.record("flushconfig") }
func (f *fakeBackend) ConfigSet(pairs []string) error {
	return f.record("config-set %s", strings.Join(pairs, " "))
}
func (f *fakeBackend) IsMasterDownByAddr(q peer.VoteRequest) peer.VoteReply {
	_ = f.record("is-down %s %d %d %q", q.MasterIP, q.MasterPort, q.Epoch, q.Candidate)
	return peer.VoteReply{Down: true, Leader: f.downLead, LeaderEpoch: q.Epoch}
}
func (f *fakeBackend) SimulateFailure(flags []string) error {
	return f.record("simulate %s", strings.Join(flags, " "))
}
func (f *fakeBackend) Debug(pairs []string) error {
	return f.record("debug %s", strings.Join(pairs, " "))
}
func (f *fakeBackend) Hello(payload string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hellos = append(f.hellos, payload)
}
func (f *fakeBackend) PendingScripts() []Script {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.scripts
}

func (f *fakeBackend) lastCall() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return ""
	}
	return f.calls[len(f.calls)-1]
}

// fixture is one healthy master with two replicas (one unannounced) and two
// other sentinels. All times are zero so that every age renders as 0.
func fixture() *view.Snapshot {
	master := view.Master{
		Instance: view.Instance{
			Kind: view.KindMaster, Name: "mymaster", IP: "127.0.0.1", Port: 6379, RunID: masterRunID,
			Flags: view.FlagMaster, LinkRefcount: 1, DownAfter: 30 * time.Second, RoleReported: "master",
			ConfigEpoch: 3, Quorum: 2, FailoverTimeout: 180 * time.Second, ParallelSyncs: 1,
		},
		Status:   "ok",
		AddrHost: "127.0.0.1",
		AddrPort: 6379,
		Replicas: []view.Instance{
			{Kind: view.KindReplica, Name: "127.0.0.1:6380", IP: "127.0.0.1", Port: 6380, RunID: "r1",
				Flags: view.FlagSlave, LinkRefcount: 1, DownAfter: 30 * time.Second, RoleReported: "slave",
				MasterLinkStatus: "ok", MasterHost: "127.0.0.1", MasterPort: 6379, SlavePriority: 100,
				SlaveReplOffset: 1234, ReplicaAnnounced: true},
			{Kind: view.KindReplica, Name: "127.0.0.1:6381", IP: "127.0.0.1", Port: 6381,
				Flags: view.FlagSlave, LinkRefcount: 1, DownAfter: 30 * time.Second, RoleReported: "slave",
				MasterLinkStatus: "ok", MasterHost: "127.0.0.1", MasterPort: 6379, SlavePriority: 100},
		},
		Sentinels: []view.Instance{
			{Kind: view.KindSentinel, Name: peerRunID, IP: "127.0.0.1", Port: 26380, RunID: peerRunID,
				Flags: view.FlagSentinel, LinkRefcount: 1, DownAfter: 30 * time.Second, VotedLeader: "?"},
			{Kind: view.KindSentinel, Name: peer2RunID, IP: "127.0.0.1", Port: 26381, RunID: peer2RunID,
				Flags: view.FlagSentinel, LinkRefcount: 1, DownAfter: 30 * time.Second, VotedLeader: "?"},
		},
	}
	return &view.Snapshot{
		MyID:     myID,
		Port:     26379,
		Masters:  []view.Master{master},
		Timers:   view.DefaultTimers(),
		Settings: view.Settings{Global: view.Global{AnnounceIP: "10.0.0.1"}},
	}
}

type testServer struct {
	*Server
	addr    string
	backend *fakeBackend
}

// startServer serves on 127.0.0.1:0 until the test ends.
func startServer(t testing.TB, tweak func(*Options)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fb := &fakeBackend{snap: fixture()}
	o := Options{Listener: ln, Backend: fb, Version: "7.0.15", ConfigFile: "/etc/sentinel.conf", Log: zerolog.Nop()}
	if tweak != nil {
		tweak(&o)
	}
	s := New(o)
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{Server: s, addr: ln.Addr().String(), backend: fb}
}

// testConn is a raw client that returns replies as raw RESP text.
type testConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func (ts *testServer) dial(t testing.TB) *testConn {
	t.Helper()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &testConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *testConn) send(raw string) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// do sends a multibulk command and returns the raw reply.
func (c *testConn) do(args ...string) string {
	c.t.Helper()
	c.send(encodeCommand(args...))
	return c.read()
}

var encodeCommand = testutil.EncodeCommand

func (c *testConn) read() string {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	raw, err := readValue(c.br)
	if err != nil {
		c.t.Fatalf("read reply: %v (got %q)", err, raw)
	}
	return raw
}

// closed waits for the server to close the connection, discarding anything
// still in flight.
func (c *testConn) closed() bool {
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, c.br)
	return err == nil || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// readValue reads one RESP2/RESP3 value and returns its exact bytes.
func readValue(br *bufio.Reader) (string, error) {
	v, err := testutil.ReadRESP(br)
	return v.Raw, err
}

// flat splits a raw aggregate reply into its scalar elements (bulk bodies,
// simple strings, integers), depth-first, dropping aggregate headers.
func flat(raw string) []string {
	var out []string
	br := bufio.NewReader(strings.NewReader(raw))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return out
		}
		body := line[1 : len(line)-2]
		switch line[0] {
		case '$', '=':
			n, _ := strconv.Atoi(body)
			if n < 0 {
				out = append(out, "<nil>")
				continue
			}
			buf := make([]byte, n+2)
			_, _ = io.ReadFull(br, buf)
			out = append(out, string(buf[:n]))
		case '*', '%', '>':
			if body == "-1" {
				out = append(out, "<nil>")
			}
		case '_':
			out = append(out, "<nil>")
		default:
			out = append(out, body)
		}
	}
}

// bulks encodes the RESP2 reply a test expects: an array of bulk strings,
// which is how a request is encoded too.
func bulks(items ...string) string { return testutil.EncodeCommand(items...) }
