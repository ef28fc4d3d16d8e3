package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// DefaultSentinelCommand runs Debian's Redis Sentinel, for comparison runs.
const DefaultSentinelCommand = "redis-sentinel {conf}"

// Sentinel is one sentinel process. Its exported fields are set by
// StartSentinel and never change; PID, Alive, Kill, Restart, Stop and
// LogTail come from the embedded node.
type Sentinel struct {
	Port     int
	Dir      string
	ConfPath string
	// LogPath receives the process's stdout and stderr.
	LogPath string
	// Command is the template the process was started from.
	Command string

	node[*redis.SentinelClient]
}

// StartSentinel writes conf to <dir>/sentinel.conf and starts command there,
// with "{conf}" in command replaced by that path (for example
// "/path/to/sentinel run {conf}" or "redis-sentinel {conf}"). conf must set
// `port` to port. It returns once the sentinel answers PING.
func StartSentinel(ctx context.Context, command string, dir string, port int, conf string) (*Sentinel, error) {
	return StartSentinelOn(ctx, Loopback, command, dir, port, conf)
}

// StartSentinelOn is StartSentinel inside host.NetNS, dialled at host.IP;
// conf must bind that address.
func StartSentinelOn(ctx context.Context, host Host, command string, dir string, port int, conf string) (*Sentinel, error) {
	return startSentinel(ctx, host, command, dir, port, conf, nil)
}

// StartSentinelTLS is StartSentinel for a sentinel whose conf sets
// `tls-port` to port; client is what Client dials with.
func StartSentinelTLS(ctx context.Context, command string, dir string, port int, conf string, client *tls.Config) (*Sentinel, error) {
	return startSentinel(ctx, Loopback, command, dir, port, conf, client)
}

func startSentinel(ctx context.Context, host Host, command string, dir string, port int, conf string, client *tls.Config) (*Sentinel, error) {
	directive := "port"
	if client != nil {
		directive = "tls-port"
	}
	if !confSetsPort(conf, directive, port) {
		return nil, fmt.Errorf("sentinel %d: conf has no \"%s %d\" line", port, directive, port)
	}
	if !strings.Contains(command, "{conf}") {
		return nil, fmt.Errorf("sentinel %d: command %q has no {conf} placeholder", port, command)
	}
	dir, err := makeDir("sentinel", port, dir)
	if err != nil {
		return nil, err
	}
	s := &Sentinel{
		Port:     port,
		Dir:      dir,
		ConfPath: filepath.Join(dir, "sentinel.conf"),
		LogPath:  filepath.Join(dir, "sentinel.log"),
		Command:  command,
	}
	var argv []string
	for _, field := range strings.Fields(command) {
		argv = append(argv, strings.ReplaceAll(field, "{conf}", s.ConfPath))
	}
	s.node = node[*redis.SentinelClient]{
		kind:      "sentinel",
		host:      host,
		port:      port,
		dir:       dir,
		logPath:   s.LogPath,
		argv:      host.command(argv),
		newClient: redis.NewSentinelClient,
		tls:       client,
	}
	if err := os.WriteFile(s.ConfPath, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("sentinel %d: write conf: %w", port, err)
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func confSetsPort(conf, directive string, port int) bool {
	for line := range strings.Lines(conf) {
		f := strings.Fields(line)
		if len(f) == 2 && strings.EqualFold(f[0], directive) && f[1] == strconv.Itoa(port) {
			return true
		}
	}
	return false
}

// SentinelConf renders a minimal sentinel config monitoring a master on
// 127.0.0.1:masterPort; extra lines are appended verbatim.
func SentinelConf(port int, masterName string, masterPort, quorum int, downAfterMs, failoverTimeoutMs int, extra ...string) string {
	lines := []string{
		"port " + strconv.Itoa(port),
		"bind 127.0.0.1",
		"daemonize no",
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d %d", masterName, masterPort, quorum),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", masterName, downAfterMs),
		fmt.Sprintf("sentinel failover-timeout %s %d", masterName, failoverTimeoutMs),
	}
	lines = append(lines, extra...)
	return strings.Join(lines, "\n") + "\n"
}

// Addr is the sentinel's host:port.
func (s *Sentinel) Addr() string { return s.addr() }

// Client returns a cached go-redis sentinel client (no retries, short
// timeouts). It survives Kill and Restart; Stop closes it and a later call
// makes a new one.
func (s *Sentinel) Client() *redis.SentinelClient { return s.cachedClient() }
