package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
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
// three TLS-only sentinels, and checks that redis-cli --tls and go-redis
// find the master, follow a failover, and that nothing answers plaintext.
func TestTLSOnlyFailover(t *testing.T) {
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := tmpfsDir(t)
	ca := testcerts.NewCA(t)
	node := ca.Issue(t, "node", time.Now().Add(24*time.Hour), "127.0.0.1", "localhost")
	clientTLS := ca.ClientConfig(t, node)
	certs := []string{"tls-cert-file " + node.CertFile, "tls-key-file " + node.KeyFile,
		"tls-ca-cert-file " + ca.CertFile, "tls-replication yes"}

	ports := make([]int, 6)
	var err error
	for i := range ports {
		if ports[i], err = cluster.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	var redises []*cluster.Redis
	for i, port := range ports[:3] {
		extra := slices.Clone(certs)
		if i > 0 {
			extra = append(extra, fmt.Sprintf("replicaof 127.0.0.1 %d", ports[0]))
		}
		r, err := cluster.StartRedisTLS(ctx, filepath.Join(dir, fmt.Sprint("redis-", port)), port, clientTLS.Clone(), extra...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Stop() })
		redises = append(redises, r)
	}
	var sentinels []*cluster.Sentinel
	for _, port := range ports[3:] {
		conf := cluster.SentinelConf(0, masterName, ports[0], 2, int(downAfter.Milliseconds()), 5000,
			append([]string{"tls-port " + strconv.Itoa(port), "sentinel gossip-key " + strings.Repeat("A", 22) + "=="},
				certs...)...)
		s, err := cluster.StartSentinelTLS(ctx, sentinelCommand, filepath.Join(dir, fmt.Sprint("sentinel-", port)), port, conf, clientTLS.Clone())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("sentinel %d log:\n%s", port, s.LogTail(40))
			}
			_ = s.Stop()
		})
		sentinels = append(sentinels, s)
	}

	cli := func(port int, args ...string) string {
		argv := append([]string{"--tls", "--cacert", ca.CertFile, "--cert", node.CertFile, "--key", node.KeyFile,
			"-h", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)
		out, _ := exec.CommandContext(ctx, "redis-cli", argv...).CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	masterAt := func(port int) string {
		return fmt.Sprintf("127.0.0.1\n%d", port)
	}
	for _, s := range sentinels {
		testutil.Eventually(t, 20*time.Second, fmt.Sprintf("sentinel %d knows 2 replicas and 2 peers over TLS", s.Port), func() bool {
			reps, err1 := s.Client().Replicas(ctx, masterName).Result()
			peers, err2 := s.Client().Sentinels(ctx, masterName).Result()
			return err1 == nil && err2 == nil && len(reps) == 2 && len(peers) == 2
		})
		if got := cli(s.Port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName); got != masterAt(ports[0]) {
			t.Fatalf("redis-cli --tls on sentinel %d: %q, want %q", s.Port, got, masterAt(ports[0]))
		}
	}
	// Hellos announce the TLS port: it is the only one there is.
	peers, err := sentinels[0].Client().Sentinels(ctx, masterName).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if port, _ := strconv.Atoi(fmt.Sprint(p["port"])); !slices.Contains(ports[3:], port) {
			t.Errorf("peer announced port %v, want one of the TLS ports %v", p["port"], ports[3:])
		}
	}
	noPlaintext(t, sentinels)

	addrs := make([]string, len(sentinels))
	for i, s := range sentinels {
		addrs[i] = s.Addr()
	}
	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: masterName, SentinelAddrs: addrs,
		TLSConfig: clientTLS.Clone(), DialTimeout: time.Second, MaxRetries: -1})
	defer fc.Close()
	if err := fc.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatalf("go-redis with TLSConfig through the sentinels: %v", err)
	}

	if err := redises[0].Kill(); err != nil {
		t.Fatal(err)
	}
	var promoted int
	testutil.Eventually(t, electionWait, "the sentinels promote a replica", func() bool {
		got := cli(sentinels[0].Port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)
		for _, p := range ports[1:3] {
			if got == masterAt(p) {
				promoted = p
				return true
			}
		}
		return false
	})
	testutil.Eventually(t, 15*time.Second, "go-redis follows the failover over TLS", func() bool {
		return fc.Set(ctx, "k", "after", 0).Err() == nil
	})
	var newMaster *cluster.Redis
	for _, r := range redises {
		if r.Port == promoted {
			newMaster = r
		}
	}
	// The promotion kills client connections, pooled ones included: retry.
	testutil.Eventually(t, 5*time.Second, "the promoted replica holds the write made after the failover", func() bool {
		v, err := newMaster.Client().Get(ctx, "k").Result()
		return err == nil && v == "after"
	})
}

var ssPort = regexp.MustCompile(`:(\d+)\s`)

// noPlaintext checks every TCP port each sentinel listens on: a plaintext
// PING gets no RESP reply.
func noPlaintext(t *testing.T, sentinels []*cluster.Sentinel) {
	t.Helper()
	for _, s := range sentinels {
		out, err := exec.Command("ss", "-Htlnp").Output()
		if err != nil {
			t.Errorf("ss (iproute2) lists the sentinel's ports: %v", err)
			return
		}
		var ports []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, fmt.Sprintf("pid=%d,", s.PID())) {
				if m := ssPort.FindStringSubmatch(line); m != nil {
					ports = append(ports, m[1])
				}
			}
		}
		if len(ports) == 0 {
			t.Fatalf("sentinel %d (pid %d): no listening port found by ss", s.Port, s.PID())
		}
		for _, p := range ports {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+p, time.Second)
			if err != nil {
				continue
			}
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			_, _ = c.Write([]byte("PING\r\n*1\r\n$4\r\nPING\r\n"))
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			_ = c.Close()
			if n > 0 && strings.ContainsAny(string(buf[:1]), "+-$*:") {
				t.Errorf("sentinel %d answered plaintext on port %s: %q", s.Port, p, buf[:n])
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
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sentinel log:\n%s", s.LogTail(40))
		}
		_ = s.Stop()
	})

	// served returns the expiry of the certificate a new connection sees,
	// and the connection.
	served := func() (time.Time, *tls.Conn) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", s.Addr(), clientTLS.Clone())
		if err != nil {
			t.Fatal(err)
		}
		return c.ConnectionState().PeerCertificates[0].NotAfter, c
	}
	ping := func(c *tls.Conn) string {
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err.Error()
		}
		buf := make([]byte, 16)
		n, err := c.Read(buf)
		if err != nil {
			return err.Error()
		}
		return strings.TrimSpace(string(buf[:n]))
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
	if reply := ping(open); reply != "+PONG" {
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
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ports[1]), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	_, _ = c.Write([]byte("PING\r\n"))
	buf := make([]byte, 16)
	if n, _ := c.Read(buf); n > 0 && strings.ContainsAny(string(buf[:1]), "+-$*:") {
		t.Errorf("the TLS port answered plaintext: %q", buf[:n])
	}
}
