package drill

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

const (
	// pollEvery is the cadence of the data-node and sentinel probes.
	pollEvery = 50 * time.Millisecond
	// probeTimeout bounds one probe; well under the phases measured.
	probeTimeout = 300 * time.Millisecond
)

// clientOptions are the options of every probe client: no retries (they
// would hide the failures we time) and short timeouts.
func clientOptions(addr, password string) *redis.Options {
	return &redis.Options{
		Addr:          addr,
		Password:      password,
		MaxRetries:    -1,
		DialTimeout:   probeTimeout,
		ReadTimeout:   probeTimeout,
		WriteTimeout:  probeTimeout,
		DialerRetries: 1,
		PoolSize:      2,
		// Redis 7.0 has no CLIENT MAINT_NOTIFICATIONS; skip the probe.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
}

// replication is what INFO replication says about a data node.
type replication struct {
	role   string // "master" or "slave"
	master string // host:port it replicates from (replicas)
	linkUp bool
}

// parseReplication reads the fields the drill needs from INFO output.
func parseReplication(info string) replication {
	var r replication
	var host, port string
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		switch k {
		case "role":
			r.role = v
		case "master_host":
			host = v
		case "master_port":
			port = v
		case "master_link_status":
			r.linkUp = v == "up"
		}
	}
	if host != "" {
		r.master = net.JoinHostPort(host, port)
	}
	return r
}

// nodes holds one probe client per data node and sentinel. The maps are
// written by newNodes only; go-redis clients are safe for concurrent use.
type nodes struct {
	data      map[string]*redis.Client
	sentinels map[string]*redis.SentinelClient
}

// newNodes dials every node over TLS with tlsConf when it is not nil.
func newNodes(dataAddrs, sentinelAddrs []string, password, sentinelPassword string, tlsConf *tls.Config) *nodes {
	n := &nodes{data: map[string]*redis.Client{}, sentinels: map[string]*redis.SentinelClient{}}
	for _, a := range dataAddrs {
		n.data[a] = redis.NewClient(withTLS(clientOptions(a, password), tlsConf))
	}
	for _, a := range sentinelAddrs {
		n.sentinels[a] = redis.NewSentinelClient(withTLS(clientOptions(a, sentinelPassword), tlsConf))
	}
	return n
}

// withTLS makes opt dial TLS with its own copy of c; nil leaves it
// plaintext.
func withTLS(opt *redis.Options, c *tls.Config) *redis.Options {
	opt.TLSConfig = c.Clone()
	return opt
}

func (n *nodes) close() {
	// Close fails only on a closed client; nothing to report.
	for _, c := range n.data {
		_ = c.Close()
	}
	for _, c := range n.sentinels {
		_ = c.Close()
	}
}

func (n *nodes) replication(ctx context.Context, addr string) (replication, error) {
	c, ok := n.data[addr]
	if !ok {
		return replication{}, fmt.Errorf("no client for %s", addr)
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return replication{}, fmt.Errorf("info replication %s: %w", addr, err)
	}
	return parseReplication(info), nil
}

// following reports whether every addr replicates from master with its
// link up; the error names the first that does not.
func (n *nodes) following(ctx context.Context, addrs []string, master string) (bool, error) {
	for _, a := range addrs {
		r, err := n.replication(ctx, a)
		if err != nil {
			return false, err
		}
		if r.role != "slave" || r.master != master || !r.linkUp {
			return false, fmt.Errorf("%s: role %s of %q, link up %t", a, r.role, r.master, r.linkUp)
		}
	}
	return true, nil
}

// endState checks the group after a drill: exactly one of dataAddrs is a
// master, all the others follow it with link up, and every sentinel names
// it in GET-MASTER-ADDR-BY-NAME. It returns that master.
func (n *nodes) endState(ctx context.Context, name string, dataAddrs []string) (string, error) {
	var masters, others []string
	for _, a := range dataAddrs {
		r, err := n.replication(ctx, a)
		if err != nil {
			return "", err
		}
		if r.role == "master" {
			masters = append(masters, a)
		} else {
			others = append(others, a)
		}
	}
	if len(masters) != 1 {
		return "", fmt.Errorf("%d masters (%s), want 1", len(masters), strings.Join(masters, ", "))
	}
	master := masters[0]
	if _, err := n.following(ctx, others, master); err != nil {
		return "", err
	}
	for a, s := range n.sentinels {
		got, err := sentinelMasterAddr(ctx, s, name)
		if err != nil {
			return "", fmt.Errorf("sentinel %s: %w", a, err)
		}
		if got != master {
			return "", fmt.Errorf("sentinel %s names %s, the master is %s", a, got, master)
		}
	}
	return master, nil
}

func sentinelMasterAddr(ctx context.Context, s *redis.SentinelClient, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	hp, err := s.GetMasterAddrByName(ctx, name).Result()
	if err != nil {
		return "", fmt.Errorf("get-master-addr-by-name %s: %w", name, err)
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("get-master-addr-by-name %s: reply %q", name, hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}
