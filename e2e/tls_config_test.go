package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/testcerts"
	"github.com/seed877ff415/sentinel/sentinel/config"
)

// TestTLSConfigSet changes the certificate of a running TLS-only sentinel
// with SENTINEL CONFIG SET: new handshakes see the new certificate, an
// open connection keeps working, the change is in sentinel.conf, and a
// value that does not load is refused and neither applied nor saved. An
// encrypted PKCS#8 key is taken with its password.
func TestTLSConfigSet(t *testing.T) {
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ca := testcerts.NewCA(t)
	node := ca.Issue(t, "node", time.Now().Add(30*24*time.Hour), "127.0.0.1")
	// Within the 14 days of -tls-cert-expiring.
	renewed := ca.Issue(t, "renewed", time.Now().Add(10*24*time.Hour+time.Hour), "127.0.0.1")
	clientTLS := ca.ClientConfig(t, node)
	port, err := cluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Join([]string{"port 0", "bind 127.0.0.1", "tls-port " + strconv.Itoa(port),
		"tls-cert-file " + node.CertFile, "tls-key-file " + node.KeyFile, "tls-ca-cert-file " + ca.CertFile,
		"sentinel gossip-key " + strings.Repeat("A", 22) + "=="}, "\n") + "\n"
	s, err := cluster.StartSentinelTLS(ctx, sentinelCommand, tmpfsDir(t), port, conf, clientTLS.Clone())
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, s)

	// served is the serial of the certificate a new connection sees.
	served := func() *big.Int {
		t.Helper()
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", s.Addr(), clientTLS.Clone())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber
	}
	configSet := func(args ...any) error {
		return sentinelDo(ctx, s.Client(), append([]any{"config", "set"}, args...)...).Err()
	}
	confHas := func(line string) bool {
		data, err := os.ReadFile(s.ConfPath)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(string(data), "\n"+line+"\n")
	}

	open, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", s.Addr(), clientTLS.Clone())
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if got := tlsPing(t, open); got != "+PONG" {
		t.Fatalf("PING on a fresh connection: %q", got)
	}
	if got, want := served(), serialOf(t, node.CertFile); got.Cmp(want) != 0 {
		t.Fatalf("served serial %v, want node's %v", got, want)
	}

	sub := s.Client().Subscribe(ctx, "-tls-cert-expiring")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := configSet("tls-cert-file", renewed.CertFile, "tls-key-file", renewed.KeyFile); err != nil {
		t.Fatalf("CONFIG SET of the renewed pair: %v", err)
	}
	// The expiry check runs at once for the new files, not at its next hour.
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil {
		t.Fatalf("no -tls-cert-expiring after CONFIG SET of a 10-day certificate: %v", err)
	}
	if want := renewed.CertFile + " 10"; msg.Payload != want {
		t.Errorf("-tls-cert-expiring %q, want %q", msg.Payload, want)
	}
	if got, want := served(), serialOf(t, renewed.CertFile); got.Cmp(want) != 0 {
		t.Errorf("after CONFIG SET a new connection sees serial %v, want the renewed %v", got, want)
	}
	if got := tlsPing(t, open); got != "+PONG" {
		t.Errorf("the connection opened before CONFIG SET: PING got %q", got)
	}
	if !confHas("tls-cert-file "+renewed.CertFile) || !confHas("tls-key-file "+renewed.KeyFile) {
		t.Errorf("sentinel.conf does not hold the renewed pair")
	}

	// node's key does not match renewed's certificate: refused, nothing changes.
	err = configSet("tls-key-file", node.KeyFile)
	if err == nil || !strings.Contains(err.Error(), "Invalid TLS configuration") || !strings.Contains(err.Error(), renewed.CertFile) {
		t.Errorf("CONFIG SET of a key that does not match: %v, want an error naming %s", err, renewed.CertFile)
	}
	if err := configSet("tls-port", strconv.Itoa(port+1)); err == nil || !strings.Contains(err.Error(), "cannot be changed at run time") {
		t.Errorf("CONFIG SET tls-port: %v", err)
	}
	if got, want := served(), serialOf(t, renewed.CertFile); got.Cmp(want) != 0 {
		t.Errorf("after a refused CONFIG SET the serial is %v, want still %v", got, want)
	}
	if !confHas("tls-key-file " + renewed.KeyFile) {
		t.Errorf("a refused CONFIG SET changed sentinel.conf")
	}

	// Back to node, with its key in PKCS#8 encryption.
	enc := testcerts.EncryptPKCS8(t, node.KeyFile, "s3cret")
	if err := configSet("tls-cert-file", node.CertFile, "tls-key-file", enc, "tls-key-file-pass", "guess"); err == nil ||
		!strings.Contains(err.Error(), "wrong password") {
		t.Errorf("CONFIG SET with a wrong key password: %v", err)
	}
	if err := configSet("tls-cert-file", node.CertFile, "tls-key-file", enc, "tls-key-file-pass", "s3cret"); err != nil {
		t.Fatalf("CONFIG SET of a PKCS#8 encrypted key: %v", err)
	}
	if got, want := served(), serialOf(t, node.CertFile); got.Cmp(want) != 0 {
		t.Errorf("after CONFIG SET of the encrypted key the serial is %v, want node's %v", got, want)
	}
	// What was saved loads again: a restart would serve the same.
	c, err := config.Load(s.ConfPath)
	if err != nil {
		t.Fatalf("the rewritten sentinel.conf does not load: %v", err)
	}
	if c.TLS.CertFile != node.CertFile || c.TLS.KeyFile != enc || c.TLS.KeyFilePass != "s3cret" {
		t.Errorf("saved TLS settings %+v", c.TLS)
	}
	if !s.Alive() {
		t.Fatal("the sentinel died")
	}
}

func tlsPing(t *testing.T, c *tls.Conn) string {
	t.Helper()
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

func serialOf(t *testing.T, certFile string) *big.Int {
	t.Helper()
	data, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.SerialNumber
}
