package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/testcerts"
	"github.com/seed877ff415/sentinel/internal/testutil"
)

// TestTLSOnlyFailover runs TLS-only Redis (port 0, tls-replication) and
// three TLS-only sentinels, and checks that redis-cli --tls, go-redis with
// TLSConfig and redis-py with ssl=True find the master and follow a
// failover, and that no process answers plaintext.
func TestTLSOnlyFailover(t *testing.T) {
	g := startGroup(t, 2*time.Minute, cluster.Options{Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter,
		FailoverTimeout: 5 * time.Second, TLS: true})
	ctx, files := g.ctx, g.topo.TLS
	cli := func(port int, args ...string) string {
		argv := append([]string{"--tls", "--cacert", files.CA.CertFile, "--cert", files.Node.CertFile, "--key", files.Node.KeyFile,
			"-h", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)
		out, _ := exec.CommandContext(ctx, "redis-cli", argv...).CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	masterAt := func(port int) string {
		return fmt.Sprintf("127.0.0.1\n%d", port)
	}
	old := g.topo.Master
	var sentinelPorts []int
	for _, s := range g.topo.Sentinels {
		sentinelPorts = append(sentinelPorts, s.Port)
		if got := cli(s.Port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName); got != masterAt(old.Port) {
			t.Fatalf("redis-cli --tls on sentinel %d: %q, want %q", s.Port, got, masterAt(old.Port))
		}
	}
	// Hellos announce the TLS port: it is the only one there is.
	peers, err := g.topo.Sentinels[0].Client().Sentinels(ctx, masterName).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if port, _ := strconv.Atoi(fmt.Sprint(p["port"])); !slices.Contains(sentinelPorts, port) {
			t.Errorf("peer announced port %v, want one of the TLS ports %v", p["port"], sentinelPorts)
		}
	}
	noPlaintext(t, g.topo)

	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: masterName, SentinelAddrs: g.sentinelAddrs(),
		TLSConfig: g.topo.ClientTLS(), DialTimeout: time.Second, MaxRetries: -1})
	defer fc.Close()
	if err := fc.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatalf("go-redis with TLSConfig through the sentinels: %v", err)
	}
	py := startPyTLSClient(t, g)
	if got := py.line(t, 15*time.Second); got != "before "+old.Addr() {
		t.Fatalf("redis-py with ssl=True before the kill: %q, want %q", got, "before "+old.Addr())
	}

	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	py.killed(t)
	var promoted int
	testutil.Eventually(t, electionWait, "the sentinels promote a replica", func() bool {
		got := cli(g.topo.Sentinels[0].Port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)
		for _, r := range g.topo.Replicas {
			if got == masterAt(r.Port) {
				promoted = r.Port
				return true
			}
		}
		return false
	})
	testutil.Eventually(t, 15*time.Second, "go-redis follows the failover over TLS", func() bool {
		return fc.Set(ctx, "k", "after", 0).Err() == nil
	})
	newMaster := g.topo.Instance(fmt.Sprintf("127.0.0.1:%d", promoted))
	// The promotion kills client connections, pooled ones included: retry.
	testutil.Eventually(t, 5*time.Second, "the promoted replica holds the write made after the failover", func() bool {
		v, err := newMaster.Client().Get(ctx, "k").Result()
		return err == nil && v == "after"
	})
	if got := py.line(t, electionWait); got != "after "+newMaster.Addr() {
		t.Fatalf("redis-py with ssl=True after the failover: %q, want %q", got, "after "+newMaster.Addr())
	}
	if v, err := newMaster.Client().Get(ctx, "py").Result(); err != nil || v != "after" {
		t.Errorf("redis-py's write after the failover: GET py on the new master = %q, %v", v, err)
	}
}

// pythonTLSFollow is one redis-py client over TLS: it writes through
// master_for, prints "before <master>", waits for a line on stdin (the
// kill), retries the write with the same client until it lands, and prints
// "after <master>".
const pythonTLSFollow = `
import sys, time
from redis.sentinel import Sentinel
ca, cert, key, name = sys.argv[1:5]
tls = dict(ssl=True, ssl_ca_certs=ca, ssl_certfile=cert, ssl_keyfile=key, socket_timeout=1)
s = Sentinel([("127.0.0.1", int(p)) for p in sys.argv[5:]], sentinel_kwargs=tls, **tls)
m = s.master_for(name)
m.set("py", "before")
print("before %s:%d" % s.discover_master(name), flush=True)
sys.stdin.readline()
deadline = time.time() + 40
while True:
    try:
        m.set("py", "after")
        break
    except Exception:
        if time.time() > deadline:
            raise
        time.sleep(0.05)
print("after %s:%d" % s.discover_master(name), flush=True)
`

// pyClient is a running pythonTLSFollow; its lines arrive on lines.
type pyClient struct {
	stdin io.WriteCloser
	lines chan string
}

func startPyTLSClient(t *testing.T, g *group) *pyClient {
	t.Helper()
	py := pythonWithRedis()
	if py == "" {
		t.Skip("no python3 with the redis module (Debian python3-redis)")
	}
	files := g.topo.TLS
	args := []string{"-c", pythonTLSFollow, files.CA.CertFile, files.Node.CertFile, files.Node.KeyFile, masterName}
	for _, s := range g.topo.Sentinels {
		args = append(args, strconv.Itoa(s.Port))
	}
	cmd := exec.CommandContext(g.ctx, py, args...)
	var stderr testutil.SyncBuffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &pyClient{stdin: stdin, lines: make(chan string, 2)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("redis-py stderr:\n%s", stderr.String())
		}
	})
	return c
}

// line waits up to within for the client's next line.
func (c *pyClient) line(t *testing.T, within time.Duration) string {
	t.Helper()
	select {
	case l := <-c.lines:
		return l
	case <-time.After(within):
		t.Fatalf("redis-py printed nothing within %v", within)
		return ""
	}
}

// killed tells the client the master is gone.
func (c *pyClient) killed(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, "killed\n"); err != nil {
		t.Fatalf("redis-py stdin: %v", err)
	}
}

var ssPort = regexp.MustCompile(`:(\d+)\s`)

// noPlaintext checks every TCP port each sentinel and data node of topo
// listens on: a plaintext PING gets no RESP reply.
func noPlaintext(t *testing.T, topo *cluster.Topology) {
	t.Helper()
	out, err := exec.Command("ss", "-Htlnp").Output()
	if err != nil {
		t.Errorf("ss (iproute2) lists the listening ports: %v", err)
		return
	}
	procs := map[string]int{}
	for _, s := range topo.Sentinels {
		procs["sentinel "+s.Addr()] = s.PID()
	}
	for _, r := range append([]*cluster.Redis{topo.Master}, topo.Replicas...) {
		procs["redis "+r.Addr()] = r.PID()
	}
	for name, pid := range procs {
		var ports []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, fmt.Sprintf("pid=%d,", pid)) {
				if m := ssPort.FindStringSubmatch(line); m != nil {
					ports = append(ports, m[1])
				}
			}
		}
		if len(ports) == 0 {
			t.Fatalf("%s (pid %d): no listening port found by ss", name, pid)
		}
		for _, p := range ports {
			reply, err := cluster.PlaintextReply(t.Context(), "127.0.0.1:"+p)
			if err != nil {
				continue // not on loopback, or gone
			}
			if reply != "" {
				t.Errorf("%s answered plaintext on port %s: %q", name, p, reply)
			}
		}
	}
}

// TestTLSReloadOnSIGHUP swaps the certificate files under a running
// sentinel: SIGHUP makes new connections see the new certificate, an open
// one keeps working, and the expiry shows in the metric and, 14 days ahead,
// as a published -tls-cert-expiring event.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ca := testcerts.NewCA(t)
	first := time.Now().Add(20 * 24 * time.Hour).Truncate(time.Second)
	node := ca.Issue(t, "node", first, "127.0.0.1")
	clientTLS := ca.ClientConfig(t, node)
	port, err := cluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	mport, err := cluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	maddr := fmt.Sprintf("127.0.0.1:%d", mport)
	conf := strings.Join([]string{"port 0", "bind 127.0.0.1", "tls-port " + strconv.Itoa(port),
		"tls-cert-file " + node.CertFile, "tls-key-file " + node.KeyFile, "tls-ca-cert-file " + ca.CertFile,
		"sentinel gossip-key " + strings.Repeat("A", 22) + "==", "sentinel metrics-addr " + maddr}, "\n") + "\n"
	s, err := cluster.StartSentinelTLS(ctx, sentinelCommand, tmpfsDir(t), port, conf, clientTLS.Clone())
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, s)

	// served returns the expiry of the certificate a new connection sees,
	// and the connection.
	served := func() (time.Time, *tls.Conn) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", s.Addr(), clientTLS.Clone())
		if err != nil {
			t.Fatal(err)
		}
		return c.ConnectionState().PeerCertificates[0].NotAfter, c
	}
	got, open := served()
	defer open.Close()
	if !got.Equal(first) {
		t.Fatalf("served a certificate expiring %v, want %v", got, first)
	}
	hc := &http.Client{Timeout: time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	metric := fmt.Sprintf("sentinel_tls_cert_expiry_seconds{file=%q}", node.CertFile)
	expiryMetric := func() float64 {
		m, err := scrape(ctx, hc, maddr)
		if err != nil {
			return -1
		}
		return m[metric]
	}
	testutil.Eventually(t, 5*time.Second, metric+" near 20 days", func() bool {
		v := expiryMetric()
		return v > 19*24*3600 && v <= 20*24*3600
	})

	sub := s.Client().Subscribe(ctx, "-tls-cert-expiring")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	second := time.Now().Add(10*24*time.Hour + time.Hour).Truncate(time.Second)
	ca.Issue(t, "node", second, "127.0.0.1")
	if err := syscall.Kill(s.PID(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil {
		t.Fatalf("no -tls-cert-expiring after a reload of a 10-day certificate: %v", err)
	}
	if want := node.CertFile + " 10"; msg.Payload != want {
		t.Errorf("-tls-cert-expiring %q, want %q", msg.Payload, want)
	}
	if got, c := served(); !got.Equal(second) {
		t.Errorf("after SIGHUP a new connection sees a certificate expiring %v, want %v", got, second)
	} else {
		_ = c.Close()
	}
	if reply := tlsPing(t, open); reply != "+PONG" {
		t.Errorf("the connection opened before the reload: PING got %q", reply)
	}
	testutil.Eventually(t, 5*time.Second, metric+" near 10 days", func() bool {
		v := expiryMetric()
		return v > 10*24*3600 && v <= 11*24*3600
	})
	if !s.Alive() {
		t.Fatal("the sentinel died of SIGHUP")
	}
}

// TestTLSBesidePlaintext serves both ports: plaintext on port, TLS on
// tls-port (no CA: nobody's certificate is checked), and the TLS port gives
// no plaintext reply.
func TestTLSBesidePlaintext(t *testing.T) {
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ca := testcerts.NewCA(t)
	node := ca.Issue(t, "node", time.Now().Add(24*time.Hour), "127.0.0.1")
	var ports [2]int
	var err error
	for i := range ports {
		if ports[i], err = cluster.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	conf := cluster.SentinelConf(ports[0], masterName, 1, 1, 1000, 5000, "tls-port "+strconv.Itoa(ports[1]),
		"tls-cert-file "+node.CertFile, "tls-key-file "+node.KeyFile, "tls-auth-clients no")
	s, err := cluster.StartSentinel(ctx, sentinelCommand, tmpfsDir(t), ports[0], conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if err := s.Client().Ping(ctx).Err(); err != nil {
		t.Fatalf("plaintext port: %v", err)
	}
	tc := redis.NewSentinelClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", ports[1]), MaxRetries: -1,
		TLSConfig: ca.ClientConfig(t, testcerts.Pair{})})
	defer tc.Close()
	if err := tc.Ping(ctx).Err(); err != nil {
		t.Fatalf("TLS port without a client certificate (tls-auth-clients no): %v", err)
	}
	reply, err := cluster.PlaintextReply(ctx, fmt.Sprintf("127.0.0.1:%d", ports[1]))
	if err != nil {
		t.Fatal(err)
	}
	if reply != "" {
		t.Errorf("the TLS port answered plaintext: %q", reply)
	}
}
