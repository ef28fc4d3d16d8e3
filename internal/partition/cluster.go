package partition

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/netns"
)

const (
	masterName   = "mymaster"
	redisPort    = 6379
	sentinelPort = 26379
	hosts        = 3
	// settleTimeout bounds start-up until every sentinel knows the others.
	settleTimeout = 30 * time.Second
)

// Options describes the sentinels of a Cluster.
type Options struct {
	// SentinelCommand starts one sentinel, "{conf}" replaced by its config
	// path: "/path/sentinel run {conf}" or cluster.DefaultSentinelCommand.
	SentinelCommand string
	// DownAfter defaults to 2 s, the shortest for which fencing is due
	// within down-after + 1 s (docs/fencing.md); FailoverTimeout to 5 s.
	DownAfter, FailoverTimeout time.Duration
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.DownAfter == 0 {
		o.DownAfter = 2 * time.Second
	}
	if o.FailoverTimeout == 0 {
		o.FailoverTimeout = 5 * time.Second
	}
	if o.SentinelCommand == "" {
		o.SentinelCommand = cluster.DefaultSentinelCommand
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Cluster is the three-host topology: Topo.Master on host 1, Topo.Replicas
// on hosts 2 and 3, Topo.Sentinels[i] on host i+1.
type Cluster struct {
	Lab    *netns.Lab
	Topo   *cluster.Topology
	Events *cluster.Events
	// Fencing is whether the sentinels accept `SENTINEL SET <master>
	// fence-writes yes`; the fencing invariant is only checked then.
	Fencing bool

	opts Options
	dir  string
}

// Start builds the lab, starts Redis and the sentinels on it and returns
// once every sentinel knows every replica and peer. On error nothing is
// left running.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	o = o.withDefaults()
	dir, err := os.MkdirTemp("/dev/shm", "sentinel-partition-")
	if err != nil {
		if dir, err = os.MkdirTemp("", "sentinel-partition-"); err != nil {
			return nil, fmt.Errorf("partition dir: %w", err)
		}
	}
	c := &Cluster{opts: o, dir: dir}
	if err := c.start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	lab, err := netns.New(ctx, hosts)
	if err != nil {
		return err
	}
	c.Lab = lab
	c.Topo = &cluster.Topology{Opts: cluster.Options{MasterName: masterName, Replicas: hosts - 1, Sentinels: hosts,
		Quorum: hosts/2 + 1, DownAfter: c.opts.DownAfter, FailoverTimeout: c.opts.FailoverTimeout,
		SentinelCommand: c.opts.SentinelCommand, Dir: c.dir}}
	masterIP := lab.Hosts[0].IP
	for i, h := range lab.Hosts {
		conf := []string{"protected-mode no"}
		if i > 0 {
			conf = append(conf, fmt.Sprintf("replicaof %s %d", masterIP, redisPort))
		}
		r, err := cluster.StartRedisOn(ctx, clusterHost(h), filepath.Join(c.dir, fmt.Sprintf("redis-%d", i+1)), redisPort, conf...)
		if err != nil {
			return fmt.Errorf("host %d: %w", i+1, err)
		}
		if i == 0 {
			c.Topo.Master = r
		} else {
			c.Topo.Replicas = append(c.Topo.Replicas, r)
		}
	}
	for i, h := range lab.Hosts {
		s, err := cluster.StartSentinelOn(ctx, clusterHost(h), c.opts.SentinelCommand,
			filepath.Join(c.dir, fmt.Sprintf("sentinel-%d", i+1)), sentinelPort, c.sentinelConf(h.IP))
		if err != nil {
			return fmt.Errorf("host %d: %w", i+1, err)
		}
		c.Topo.Sentinels = append(c.Topo.Sentinels, s)
	}
	settle, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	if err := c.Topo.WaitDiscovered(settle); err != nil {
		return fmt.Errorf("sentinels never discovered each other: %w", err)
	}
	if c.Fencing = c.enableFencing(ctx); c.Fencing {
		if err := c.waitFenceArmed(settle); err != nil {
			return err
		}
	}
	if c.Events, err = c.Topo.Subscribe(ctx); err != nil {
		return err
	}
	return nil
}

func clusterHost(h netns.Host) cluster.Host { return cluster.Host{NetNS: h.NetNS, IP: h.IP} }

func (c *Cluster) sentinelConf(ip string) string {
	return strings.Join([]string{
		"port " + strconv.Itoa(sentinelPort),
		"bind " + ip,
		"protected-mode no",
		"daemonize no",
		fmt.Sprintf("sentinel monitor %s %s %d %d", masterName, c.Lab.Hosts[0].IP, redisPort, c.Topo.Opts.Quorum),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", masterName, c.opts.DownAfter.Milliseconds()),
		fmt.Sprintf("sentinel failover-timeout %s %d", masterName, c.opts.FailoverTimeout.Milliseconds()),
	}, "\n") + "\n"
}

// enableFencing turns write fencing on where the sentinel supports it (it
// is the default there; redis-sentinel refuses the option).
func (c *Cluster) enableFencing(ctx context.Context) bool {
	for _, s := range c.Topo.Sentinels {
		if err := s.Client().Set(ctx, masterName, "fence-writes", "yes").Err(); err != nil {
			c.opts.Logf("fencing off: sentinel %s: %v", s.Addr(), err)
			return false
		}
	}
	return true
}

// waitFenceArmed waits until the sentinels have set the master's
// min-replicas-to-write to its replica count (docs/fencing.md), so that a
// fault hits a settled cluster as it would in production.
func (c *Cluster) waitFenceArmed(ctx context.Context) error {
	want := strconv.Itoa(len(c.Topo.Replicas))
	err := cluster.WaitFor(ctx, 100*time.Millisecond, func() (bool, error) {
		got, err := c.Topo.Master.Client().ConfigGet(ctx, "min-replicas-to-write").Result()
		if err != nil {
			return false, err
		}
		if got["min-replicas-to-write"] != want {
			return false, fmt.Errorf("min-replicas-to-write is %q, want %s", got["min-replicas-to-write"], want)
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("fencing never armed on the master: %w", err)
	}
	return nil
}

// Close stops every process, then removes the lab and the directory. It is
// safe on a partly started cluster.
func (c *Cluster) Close() {
	if c.Events != nil {
		c.Events.Close()
	}
	if c.Topo != nil {
		// A SIGSTOPped master would hold SIGTERM until SIGKILL.
		if r := c.Topo.Master; r != nil && r.PID() != 0 {
			_ = signalCont(r.PID())
		}
		c.Topo.Stop()
	}
	if c.Lab != nil {
		if err := c.Lab.Close(); err != nil {
			c.opts.Logf("remove lab: %v", err)
		}
	}
	_ = os.RemoveAll(c.dir)
}

// hostOf returns the index of the host whose address addr (host:port) is on.
func (c *Cluster) hostOf(addr string) int {
	ip, _, err := net.SplitHostPort(addr)
	if err != nil {
		return -1
	}
	for i, h := range c.Lab.Hosts {
		if h.IP == ip {
			return i
		}
	}
	return -1
}

// instance is the Redis on host i; nil before it started.
func (c *Cluster) instance(i int) *cluster.Redis {
	if i == 0 {
		return c.Topo.Master
	}
	if i-1 < len(c.Topo.Replicas) {
		return c.Topo.Replicas[i-1]
	}
	return nil
}

// converged reports nil once exactly one instance is master, every other
// one replicates from it with its link up, and every sentinel names it.
func (c *Cluster) converged(ctx context.Context) (string, error) {
	var master string
	for i := range hosts {
		r := c.instance(i)
		info, err := r.Client().Info(ctx, "replication").Result()
		if err != nil {
			return "", fmt.Errorf("host %d: info: %w", i+1, err)
		}
		if strings.Contains(info, "role:master") {
			if master != "" {
				return "", fmt.Errorf("two masters: %s and %s", master, r.Addr())
			}
			master = r.Addr()
		}
	}
	if master == "" {
		return "", errors.New("no master")
	}
	host, port, _ := net.SplitHostPort(master)
	for i := range hosts {
		r := c.instance(i)
		if r.Addr() == master {
			continue
		}
		info, err := r.Client().Info(ctx, "replication").Result()
		if err != nil {
			return "", fmt.Errorf("host %d: info: %w", i+1, err)
		}
		if !strings.Contains(info, "master_host:"+host+"\r\n") || !strings.Contains(info, "master_port:"+port+"\r\n") ||
			!strings.Contains(info, "master_link_status:up") {
			return "", fmt.Errorf("replica %s does not follow %s with its link up", r.Addr(), master)
		}
	}
	agreed, err := c.Topo.MasterAddr(ctx)
	if err != nil {
		return "", err
	}
	if agreed != master {
		return "", fmt.Errorf("sentinels name %s, the master is %s", agreed, master)
	}
	return master, nil
}

// LogTails returns every started process's last n lines, for failure
// reports.
func (c *Cluster) LogTails(n int) string {
	var b strings.Builder
	if c.Topo == nil {
		return ""
	}
	for i := range hosts {
		if r := c.instance(i); r != nil {
			fmt.Fprintf(&b, "--- redis host %d:\n%s\n", i+1, r.LogTail(n))
		}
	}
	for i, s := range c.Topo.Sentinels {
		fmt.Fprintf(&b, "--- sentinel host %d:\n%s\n", i+1, s.LogTail(n))
	}
	return b.String()
}
