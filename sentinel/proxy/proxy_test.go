package proxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/seed877ff415/sentinel/internal/testutil"
)

// backend is a line server that answers "<name> <line>" to every line.
type backend struct {
	name string
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	seen []string
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: name, ln: ln}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					b.mu.Lock()
					b.seen = append(b.seen, sc.Text())
					b.mu.Unlock()
					if _, err := io.WriteString(c, b.name+" "+sc.Text()+"\n"); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(b.close)
	return b
}

func (b *backend) addr() string { return b.ln.Addr().String() }

func (b *backend) close() { b.ln.Close(); b.wg.Wait() }

func (b *backend) got(line string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.seen {
		if s == line {
			return true
		}
	}
	return false
}

type rig struct {
	t     *testing.T
	m     *Manager
	specs []Spec
}

func newRig(t *testing.T, specs ...Spec) *rig {
	m := NewManager(Options{Log: zerolog.Nop(), Drain: 200 * time.Millisecond})
	t.Cleanup(m.Close)
	return &rig{t: t, m: m, specs: specs}
}

func (r *rig) route(rt Route) {
	if rt.Wait == 0 {
		rt.Wait = 5 * time.Second
	}
	r.m.Update(r.specs, map[string]Route{"m": rt})
}

// addr waits until the listener of role is bound and returns its address.
func (r *rig) addr(role string) string {
	var a string
	testutil.Eventually(r.t, 5*time.Second, role+" listener bound", func() bool {
		for _, s := range r.m.Status() {
			if s.Role == role && s.BoundAddr != "" {
				a = s.BoundAddr
				return true
			}
		}
		return false
	})
	return a
}

type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

// ask sends a line and returns the answer, or "" with the error text when
// the connection ended.
func (c *client) ask(line string) (string, error) {
	c.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.c, line+"\n"); err != nil {
		return "", err
	}
	s, err := c.r.ReadString('\n')
	return strings.TrimSuffix(s, "\n"), err
}

func (c *client) mustAsk(line, want string) {
	c.t.Helper()
	got, err := c.ask(line)
	if err != nil || got != want {
		c.t.Fatalf("ask %q: got %q, %v; want %q", line, got, err, want)
	}
}

func TestProxyForwardsToTheMasterAndFollowsASwitch(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	r := newRig(t, Spec{Master: "m", Role: "master", Addr: "127.0.0.1:0"})
	r.route(Route{Accept: true, Master: a.addr()})
	old := dial(t, r.addr("master"))
	old.mustAsk("set x 1", "a set x 1")

	r.route(Route{Accept: true, Master: b.addr()})
	// The old connection is closed by the proxy: its next write cannot
	// reach the old master.
	if got, err := old.ask("set x 2"); err == nil {
		t.Fatalf("a connection to the old master survived the switch: %q", got)
	}
	if a.got("set x 2") {
		t.Fatal("a write reached the old master after the switch")
	}
	dial(t, r.addr("master")).mustAsk("set x 3", "b set x 3")
}

func TestProxyHoldsNewConnectionsUntilAMasterAppears(t *testing.T) {
	b := newBackend(t, "b")
	r := newRig(t, Spec{Master: "m", Role: "master", Addr: "127.0.0.1:0"})
	r.route(Route{Accept: true}) // no master: mid-failover
	c := dial(t, r.addr("master"))
	answer := make(chan string, 1)
	go func() { s, _ := c.ask("ping"); answer <- s }()
	testutil.Eventually(t, 5*time.Second, "one waiting connection", func() bool { return r.m.Status()[0].Waiting == 1 })
	select {
	case s := <-answer:
		t.Fatalf("answered %q with no master", s)
	default:
	}
	r.route(Route{Accept: true, Master: b.addr()})
	if s := <-answer; s != "b ping" {
		t.Fatalf("waiting connection got %q", s)
	}
}

func TestProxyRetriesAMasterThatRefusesUntilTheRouteChanges(t *testing.T) {
	dead := newBackend(t, "dead")
	deadAddr := dead.addr()
	dead.close() // killed, not yet SDOWN: the route still names it
	b := newBackend(t, "b")
	r := newRig(t, Spec{Master: "m", Role: "master", Addr: "127.0.0.1:0"})
	r.route(Route{Accept: true, Master: deadAddr})
	c := dial(t, r.addr("master"))
	answer := make(chan string, 1)
	go func() { s, _ := c.ask("ping"); answer <- s }()
	testutil.Eventually(t, 5*time.Second, "the connection waits", func() bool { return r.m.Status()[0].Waiting == 1 })
	r.route(Route{Accept: true, Master: b.addr()})
	if s := <-answer; s != "b ping" {
		t.Fatalf("got %q", s)
	}
}

func TestProxyGivesUpAfterTheWaitWithARedisError(t *testing.T) {
	r := newRig(t, Spec{Master: "m", Role: "master", Addr: "127.0.0.1:0"})
	r.route(Route{Accept: true, Wait: 50 * time.Millisecond})
	got, _ := dial(t, r.addr("master")).r.ReadString('\n')
	if got != "-ERR no master for 'm' within 50 ms\r\n" {
		t.Fatalf("got %q", got)
	}
}

func TestProxyRefusesConnectionsWhenNotAccepting(t *testing.T) {
	a := newBackend(t, "a")
	r := newRig(t, Spec{Master: "m", Role: "master", Addr: "127.0.0.1:0"})
	r.route(Route{Accept: true, Master: a.addr()})
	kept := dial(t, r.addr("master"))
	kept.mustAsk("1", "a 1")
	r.route(Route{Accept: false, Master: a.addr()}) // TILT
	if _, err := dial(t, r.addr("master")).ask("2"); err == nil {
		t.Fatal("a new connection was served in TILT")
	}
	kept.mustAsk("3", "a 3") // TILT keeps existing connections
	r.route(Route{Fenced: true})
	if _, err := kept.ask("4"); err == nil {
		t.Fatal("the minority side kept a connection open")
	}
}

func TestProxyReplicasBalanceAndDropAnUnhealthyOne(t *testing.T) {
	m, r1, r2 := newBackend(t, "m"), newBackend(t, "r1"), newBackend(t, "r2")
	r := newRig(t, Spec{Master: "m", Role: "replicas", Addr: "127.0.0.1:0"})
	r.route(Route{Accept: true, Master: m.addr(), Replicas: []string{r1.addr(), r2.addr()}})
	names := map[string]*client{}
	for i := 0; i < 4; i++ {
		c := dial(t, r.addr("replicas"))
		got, err := c.ask("get")
		if err != nil {
			t.Fatal(err)
		}
		names[strings.Fields(got)[0]] = c
	}
	if names["r1"] == nil || names["r2"] == nil || names["m"] != nil {
		t.Fatalf("reads went to %v, want both replicas", names)
	}
	r.route(Route{Accept: true, Master: m.addr(), Replicas: []string{r2.addr()}})
	if _, err := names["r1"].ask("get"); err == nil {
		t.Error("the connection to the dropped replica stayed open")
	}
	names["r2"].mustAsk("get", "r2 get")
	r.route(Route{Accept: true, Master: m.addr()})
	dial(t, r.addr("replicas")).mustAsk("get", "m get") // none left: the master serves reads
}

func TestProxyMaxClients(t *testing.T) {
	a := newBackend(t, "a")
	r := newRig(t, Spec{Master: "m", Role: "master", Addr: "127.0.0.1:0", MaxClients: 1})
	r.route(Route{Accept: true, Master: a.addr()})
	first := dial(t, r.addr("master"))
	first.mustAsk("1", "a 1")
	got, _ := dial(t, r.addr("master")).r.ReadString('\n')
	if got != maxClientsReply {
		t.Fatalf("second client got %q", got)
	}
	first.mustAsk("2", "a 2")
}

func TestProxyListenersFollowTheSpecs(t *testing.T) {
	a := newBackend(t, "a")
	r := newRig(t, Spec{Master: "m", Role: "master", Addr: "127.0.0.1:0"})
	r.route(Route{Accept: true, Master: a.addr()})
	c := dial(t, r.addr("master"))
	c.mustAsk("1", "a 1")
	r.specs = nil
	r.route(Route{Accept: true, Master: a.addr()})
	if _, err := c.ask("2"); err == nil {
		t.Fatal("removing the listener must close its connections")
	}
	if st := r.m.Status(); len(st) != 0 {
		t.Fatalf("status after removal: %+v", st)
	}
}

func TestProxyDrainsOnClose(t *testing.T) {
	a := newBackend(t, "a")
	m := NewManager(Options{Log: zerolog.Nop(), Drain: 10 * time.Second})
	specs := []Spec{{Master: "m", Role: "master", Addr: "127.0.0.1:0"}}
	m.Update(specs, map[string]Route{"m": {Accept: true, Master: a.addr(), Wait: time.Second}})
	var addr string
	testutil.Eventually(t, 5*time.Second, "bound", func() bool { addr = m.Status()[0].BoundAddr; return addr != "" })
	c := dial(t, addr)
	c.mustAsk("1", "a 1")
	closed := make(chan struct{})
	go func() { m.Close(); close(closed) }()
	testutil.Eventually(t, 5*time.Second, "listener closed", func() bool {
		probe, err := net.Dial("tcp", addr)
		if err == nil {
			probe.Close()
		}
		return err != nil
	})
	c.mustAsk("2", "a 2") // still served while draining
	c.c.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return once the last connection ended")
	}
}

func TestProxyMetricsCountConnectionsBytesAndSwitches(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	met := NewMetrics()
	m := NewManager(Options{Log: zerolog.Nop(), Metrics: met, Drain: 100 * time.Millisecond})
	t.Cleanup(m.Close)
	r := &rig{t: t, m: m, specs: []Spec{{Master: "m", Role: "master", Addr: "127.0.0.1:0", MaxClients: 1}}}
	r.route(Route{Accept: true, Master: a.addr()})
	c := dial(t, r.addr("master"))
	c.mustAsk("hello", "a hello")
	got, _ := dial(t, r.addr("master")).r.ReadString('\n')
	if got != maxClientsReply {
		t.Fatalf("second client got %q", got)
	}
	r.route(Route{Accept: true, Master: b.addr()})
	testutil.Eventually(t, 5*time.Second, "the old connection is closed", func() bool {
		return promtest.ToFloat64(met.open.WithLabelValues("m", "master")) == 0
	})
	for name, want := range map[string]float64{
		"forwarded":          promtest.ToFloat64(met.conns.WithLabelValues("m", "master", "forwarded")),
		"refused_maxclients": promtest.ToFloat64(met.conns.WithLabelValues("m", "master", "refused_maxclients")),
		"switches":           promtest.ToFloat64(met.switches.WithLabelValues("m")),
		"route_closed":       promtest.ToFloat64(met.routeClosed.WithLabelValues("m", "master")),
	} {
		if want != 1 {
			t.Errorf("%s = %v, want 1", name, want)
		}
	}
	if in, out := promtest.ToFloat64(met.bytes.WithLabelValues("m", "master", "in")),
		promtest.ToFloat64(met.bytes.WithLabelValues("m", "master", "out")); in != 6 || out != 8 {
		t.Errorf("bytes in %v out %v, want 6 and 8", in, out)
	}
	if n := promtest.CollectAndCount(met.wait); n != 1 {
		t.Errorf("connect wait histograms: %d", n)
	}
}

// TestProxyMovesBulkBytesExactly pipelines many buffers' worth through an
// echo backend: full reads, short reads and a backend slower to drain
// than the client is to send must all arrive byte for byte, in order.
func TestProxyMovesBulkBytesExactly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	r := newRig(t, Spec{Master: "m", Role: "master"})
	r.route(Route{Accept: true, Master: ln.Addr().String()})
	c := dial(t, r.addr("master"))
	c.c.SetDeadline(time.Now().Add(20 * time.Second))
	want := make([]byte, 4<<20+123)
	for i := range want {
		want[i] = byte(i*7 + i>>11)
	}
	sent := make(chan error, 1)
	go func() {
		// Odd write sizes so reads end both on and off the buffer size.
		var err error
		for rest := want; len(rest) > 0 && err == nil; {
			n := min(len(rest), bufSize+len(rest)%977)
			_, err = c.c.Write(rest[:n])
			rest = rest[n:]
		}
		sent <- err
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c.c, got); err != nil {
		t.Fatalf("read back: %v", err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("send: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the bytes read back differ from the bytes sent")
	}
	testutil.Eventually(t, 5*time.Second, "byte counters", func() bool {
		st := r.m.Status()[0]
		return st.BytesIn == uint64(len(want)) && st.BytesOut == uint64(len(want))
	})
}

// TestProxyASlowReaderStallsNoOtherConnection: all connections share one
// loop, so a client that stops reading while its backend floods it must
// only hold its own bytes back; when it hangs up, its flow ends.
func TestProxyASlowReaderStallsNoOtherConnection(t *testing.T) {
	a := newBackend(t, "a")
	flood, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	flooding := make(chan struct{})
	go func() {
		c, err := flood.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		close(flooding)
		junk := make([]byte, 64<<10)
		for {
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(junk); err != nil {
				return
			}
		}
	}()
	r := newRig(t, Spec{Master: "m", Role: "master", Addr: "127.0.0.1:0"},
		Spec{Master: "m", Role: "replicas", Addr: "127.0.0.1:0"})
	r.route(Route{Accept: true, Master: flood.Addr().String(), Replicas: []string{a.addr()}})
	slow := dial(t, r.addr("master"))
	<-flooding
	testutil.Eventually(t, 5*time.Second, "the flood fills the sockets", func() bool {
		return r.m.Status()[0].BytesOut > 4*bufSize
	})
	fast := dial(t, r.addr("replicas"))
	for i := range 100 {
		line := strconv.Itoa(i)
		fast.mustAsk(line, "a "+line)
	}
	slow.c.Close()
	testutil.Eventually(t, 5*time.Second, "the slow reader's flow ends", func() bool {
		for _, st := range r.m.Status() {
			if st.Role == "master" {
				return st.Clients == 0
			}
		}
		return false
	})
}

func TestProxyStartsItsLoopAgainAfterItCouldNot(t *testing.T) {
	a := newBackend(t, "a")
	r := newRig(t, Spec{Master: "m", Role: "master", Addr: "127.0.0.1:0"})
	var fails atomic.Int32
	fails.Store(1)
	r.m.newLoop = func(ctx context.Context) (*loop, error) {
		if fails.Add(-1) >= 0 {
			return nil, unix.EMFILE
		}
		return newLoop(ctx)
	}
	r.route(Route{Accept: true, Master: a.addr()})
	if got, err := dial(t, r.addr("master")).ask("set x 1"); err == nil {
		t.Fatalf("forwarded without a loop: %q", got)
	}
	dial(t, r.addr("master")).mustAsk("set x 2", "a set x 2")
}

func TestProxyReplacesALoopThatStopped(t *testing.T) {
	a := newBackend(t, "a")
	r := newRig(t, Spec{Master: "m", Role: "master", Addr: "127.0.0.1:0"})
	r.route(Route{Accept: true, Master: a.addr()})
	first := dial(t, r.addr("master"))
	first.mustAsk("set x 1", "a set x 1")
	r.m.loopMu.Lock()
	stopping := slices.Clone(r.m.loops)
	r.m.loopMu.Unlock()
	for _, lp := range stopping {
		lp.ep.Close() // a bad epoll descriptor is the one error that ends a loop
		lp.wake()
	}
	testutil.Eventually(t, 5*time.Second, "the loops stopped", func() bool {
		return !slices.ContainsFunc(stopping, func(lp *loop) bool { return !lp.isStopped() })
	})
	if got, err := first.ask("set x 2"); err == nil {
		t.Fatalf("a connection of a stopped loop still forwards: %q", got)
	}
	dial(t, r.addr("master")).mustAsk("set x 3", "a set x 3")
}
