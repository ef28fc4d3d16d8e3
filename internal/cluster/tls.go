package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// certValidity is how long a TLS topology's certificate lasts: longer than
// any drill or bench run, and clear of the sentinel's 14-day expiry warning.
const certValidity = 30 * 24 * time.Hour

// TopologyTLS is what a TLS topology was made with: one CA and one
// certificate for 127.0.0.1 that every process serves and presents.
type TopologyTLS struct {
	CA   *CA
	Node CertPair
	// GossipKey is the base64 gossip secret of our sentinels: a TLS-only
	// sentinel refuses to start without one (docs/tls.md, Gossip).
	GossipKey string
	client    *tls.Config
}

func newTopologyTLS(dir string) (*TopologyTLS, error) {
	ca, err := NewCA(dir)
	if err != nil {
		return nil, fmt.Errorf("tls topology: %w", err)
	}
	node, err := ca.Issue("node", time.Now().Add(certValidity), "127.0.0.1", "localhost")
	if err != nil {
		return nil, fmt.Errorf("tls topology: %w", err)
	}
	client, err := ca.ClientConfig(node)
	if err != nil {
		return nil, fmt.Errorf("tls topology: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("tls topology: gossip key: %w", err)
	}
	return &TopologyTLS{CA: ca, Node: node, GossipKey: base64.StdEncoding.EncodeToString(key), client: client}, nil
}

// ClientConfig is a fresh copy of the config clients dial the topology
// with: it trusts the CA and presents the node certificate (Redis and the
// sentinels require client certificates by default).
func (t *TopologyTLS) ClientConfig() *tls.Config { return t.client.Clone() }

// ConfLines are the redis.conf and sentinel.conf lines naming the files,
// with tls-replication so that links to instances use TLS too.
func (t *TopologyTLS) ConfLines() []string {
	return []string{"tls-cert-file " + t.Node.CertFile, "tls-key-file " + t.Node.KeyFile,
		"tls-ca-cert-file " + t.CA.CertFile, "tls-replication yes"}
}

// ClientTLS is the config to dial the topology with, nil for plaintext.
func (t *Topology) ClientTLS() *tls.Config {
	if t.TLS == nil {
		return nil
	}
	return t.TLS.ClientConfig()
}

// IsRedisSentinel reports whether a sentinel command template runs Redis'
// own Sentinel (redis-sentinel, or redis-server --sentinel), which refuses
// the directives only ours knows.
func IsRedisSentinel(command string) bool {
	f := strings.Fields(command)
	if len(f) == 0 {
		return false
	}
	switch filepath.Base(f[0]) {
	case "redis-sentinel":
		return true
	case "redis-server":
		return strings.Contains(command, "--sentinel")
	}
	return false
}

// plaintextProbe is what PlaintextReply sends: an inline and a RESP PING.
const plaintextProbe = "PING\r\n*1\r\n$4\r\nPING\r\n"

// PlaintextReply sends a plaintext PING to addr and returns the RESP reply
// it got, "" when the port answers nothing a Redis client could read (a TLS
// listener: it waits for a ClientHello, or answers with a TLS alert). A
// refused connection is an error.
func PlaintextReply(ctx context.Context, addr string) (string, error) {
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("plaintext probe: %w", err)
	}
	defer c.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(deadline)
	}
	if _, err := c.Write([]byte(plaintextProbe)); err != nil {
		return "", nil
	}
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	if n > 0 && strings.ContainsAny(string(buf[:1]), "+-$*:") {
		return string(buf[:n]), nil
	}
	return "", nil
}
