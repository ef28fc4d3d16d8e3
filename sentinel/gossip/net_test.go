package gossip

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/tidwall/redcon"
)

// netNode is a Group sharing its TCP port with a tiny RESP server.
type netNode struct {
	group  *Group
	mux    *Mux
	rec    *recorder
	logs   *testutil.SyncBuffer
	port   int
	served chan struct{} // closed when the RESP server returns
}

func (n *netNode) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port)) }

func (n *netNode) close(t *testing.T) {
	t.Helper()
	if err := n.group.Close(); err != nil {
		t.Errorf("close group: %v", err)
	}
	if err := n.mux.Close(); err != nil {
		t.Errorf("close mux: %v", err)
	}
	<-n.served
}

func startNetNode(t *testing.T, name string, key []byte) *netNode {
	t.Helper()
	// The free TCP port's UDP twin may be taken; try a few.
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n := &netNode{mux: NewMux(ln), rec: &recorder{}, logs: &testutil.SyncBuffer{}, served: make(chan struct{})}
		n.port = ln.Addr().(*net.TCPAddr).Port
		n.group, err = New(Config{
			Name:         name,
			BindAddr:     "127.0.0.1",
			Label:        "sentinel-test",
			Keys:         [][]byte{key},
			Log:          zerolog.New(n.logs).Level(zerolog.DebugLevel),
			OnMessage:    n.rec.onMessage,
			OnMembership: n.rec.onMembership,
		}, n.mux)
		if err != nil {
			_ = n.mux.Close()
			if attempt < 5 {
				continue
			}
			t.Fatalf("start %s: %v", name, err)
		}
		go func() {
			defer close(n.served)
			_ = redcon.Serve(n.mux.Redis(), func(c redcon.Conn, cmd redcon.Command) {
				if strings.EqualFold(string(cmd.Args[0]), "ping") {
					c.WriteString("PONG")
					return
				}
				c.WriteError("ERR unknown command '" + string(cmd.Args[0]) + "'")
			}, nil, nil)
		}()
		return n
	}
}

func TestGroupAndRedisShareOnePortWithEncryption(t *testing.T) {
	baseline := runtime.NumGoroutine()
	key := bytes.Repeat([]byte{7}, 32)
	nodes := make([]*netNode, 3)
	for i := range nodes {
		nodes[i] = startNetNode(t, "sentinel-"+strconv.Itoa(i), key)
	}
	closed := false
	closeAll := func() {
		if !closed {
			closed = true
			for _, n := range nodes {
				n.close(t)
			}
		}
	}
	defer closeAll()

	nodes[1].group.Join(nodes[0].addr())
	nodes[2].group.Join(nodes[0].addr())
	waitFor(t, 10*time.Second, "three encrypted nodes to see each other", func() bool {
		for _, n := range nodes {
			if len(n.group.Members()) != 2 {
				return false
			}
			for _, m := range n.group.Members() {
				if !m.Alive {
					return false
				}
			}
		}
		return true
	})

	op := peer.Opinion{From: "sentinel-0", Master: "mymaster", Down: true}
	nodes[0].group.Broadcast(op)
	waitFor(t, 5*time.Second, "the broadcast opinion", func() bool {
		return nodes[1].rec.got("sentinel-0", op) && nodes[2].rec.got("sentinel-0", op)
	})
	req := peer.VoteRequest{From: "sentinel-2", Master: "mymaster", MasterIP: "127.0.0.1", MasterPort: 6379, Epoch: 5, Candidate: "sentinel-2"}
	if err := nodes[2].group.Send("sentinel-1", req); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the direct vote request", func() bool { return nodes[1].rec.got("sentinel-2", req) })

	// Redis clients reach the RESP server through the very same port.
	for _, n := range nodes {
		rdb := redis.NewClient(&redis.Options{Addr: n.addr(), MaxRetries: -1, DisableIdentity: true, Protocol: 2})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		pong, err := rdb.Ping(ctx).Result()
		cancel()
		_ = rdb.Close()
		if err != nil || pong != "PONG" {
			t.Fatalf("go-redis PING on %s: %q, %v", n.addr(), pong, err)
		}
	}
	if cli, err := exec.LookPath("redis-cli"); err == nil {
		out, err := exec.Command(cli, "-p", strconv.Itoa(nodes[0].port), "ping").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "PONG" {
			t.Fatalf("redis-cli ping: %q, %v", out, err)
		}
	}

	// A node with another key cannot join.
	intruder := startNetNode(t, "intruder", bytes.Repeat([]byte{9}, 32))
	defer intruder.close(t)
	intruder.group.Join(nodes[0].addr())
	waitFor(t, 10*time.Second, "the intruder's join to fail", func() bool {
		return strings.Contains(intruder.logs.String(), "gossip join failed")
	})
	if m := intruder.group.Members(); len(m) != 0 {
		t.Fatalf("intruder sees members %+v", m)
	}
	for _, n := range nodes {
		if n.group.Alive("intruder") {
			t.Fatalf("%s admitted the intruder", n.group.name)
		}
	}
	intruder.close(t)

	closeAll()
	waitFor(t, 3*tcpTimeout+5*time.Second, "goroutines to return to the baseline", func() bool {
		return runtime.NumGoroutine() <= baseline
	})
}

func TestLogBridgeMapsLevels(t *testing.T) {
	var buf testutil.SyncBuffer
	b := logBridge{log: zerolog.New(&buf)}
	for _, line := range []string{
		"[DEBUG] memberlist: Stream connection from=1.2.3.4\n",
		"[WARN] memberlist: Refuting a dead message\n",
		"[ERR] memberlist: Failed to send\n",
		"no level at all\n",
	} {
		if _, err := b.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"level":"debug","message":"Stream connection from=1.2.3.4"}
{"level":"warn","message":"Refuting a dead message"}
{"level":"error","message":"Failed to send"}
{"level":"info","message":"no level at all"}
`
	if got := buf.String(); got != want {
		t.Fatalf("bridged logs:\n%s\nwant:\n%s", got, want)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{BindAddr: "127.0.0.1"},
		{Name: strings.Repeat("x", maxName+1), BindAddr: "127.0.0.1"},
		{Name: "a", BindAddr: "127.0.0.1", Port: 70000},
		{Name: "a", BindAddr: "127.0.0.1", Keys: [][]byte{[]byte("short")}},
		{Name: "a", BindAddr: "localhost"},
	} {
		if g, err := New(cfg, nil); err == nil {
			_ = g.Close()
			t.Fatalf("New(%+v) succeeded", cfg)
		}
	}
}

func TestNewWithoutMuxListensItself(t *testing.T) {
	baseline := runtime.NumGoroutine()
	a, err := New(Config{Name: "a", BindAddr: "127.0.0.1", Log: zerolog.Nop()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{Name: "b", BindAddr: "127.0.0.1", Log: zerolog.Nop()}, nil)
	if err != nil {
		_ = a.Close()
		t.Fatal(err)
	}
	na := a.ml.LocalNode()
	b.Join(na.Address())
	waitFor(t, 10*time.Second, "plaintext join over the own listener", func() bool {
		return a.Alive("b") && b.Alive("a")
	})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a to see b leave, not fail", func() bool { return len(a.Members()) == 0 })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitFor(t, 3*tcpTimeout+5*time.Second, "goroutines to return to the baseline", func() bool {
		return runtime.NumGoroutine() <= baseline
	})
}
