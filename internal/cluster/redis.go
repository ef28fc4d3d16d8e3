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

// Redis is one redis-server process. Its exported fields are set by
// StartRedis and never change; PID, Alive, Kill, Restart, Stop and
// LogTail come from the embedded node.
type Redis struct {
	Port     int
	Dir      string
	ConfPath string
	// LogPath holds Redis' logfile and whatever it printed before opening it.
	LogPath string

	node[*redis.Client]
}

// StartRedis writes <dir>/redis.conf and starts redis-server on 127.0.0.1:port
// with it, returning once the server answers PING. extraConf lines are
// appended verbatim (e.g. "replicaof 127.0.0.1 6379", "replica-priority 10").
func StartRedis(ctx context.Context, dir string, port int, extraConf ...string) (*Redis, error) {
	return StartRedisOn(ctx, Loopback, dir, port, extraConf...)
}

// StartRedisOn is StartRedis on host: it binds host.IP inside host.NetNS.
func StartRedisOn(ctx context.Context, host Host, dir string, port int, extraConf ...string) (*Redis, error) {
	return startRedis(ctx, host, dir, port, nil, extraConf)
}

// StartRedisTLS is StartRedis serving TLS only, on port (port 0, tls-port
// port); extraConf names the certificates, client is what Client dials with.
func StartRedisTLS(ctx context.Context, dir string, port int, client *tls.Config, extraConf ...string) (*Redis, error) {
	return startRedis(ctx, Loopback, dir, port, client,
		append([]string{"port 0", "tls-port " + strconv.Itoa(port)}, extraConf...))
}

func startRedis(ctx context.Context, host Host, dir string, port int, client *tls.Config, extraConf []string) (*Redis, error) {
	dir, err := makeDir("redis", port, dir)
	if err != nil {
		return nil, err
	}
	r := &Redis{
		Port:     port,
		Dir:      dir,
		ConfPath: filepath.Join(dir, "redis.conf"),
		LogPath:  filepath.Join(dir, "redis.log"),
	}
	r.node = node[*redis.Client]{
		kind:      "redis",
		host:      host,
		port:      port,
		dir:       dir,
		logPath:   r.LogPath,
		argv:      host.command([]string{"redis-server", r.ConfPath}),
		newClient: redis.NewClient,
		tls:       client,
	}
	if err := os.WriteFile(r.ConfPath, []byte(r.conf(extraConf)), 0o644); err != nil {
		return nil, fmt.Errorf("redis %d: write conf: %w", port, err)
	}
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Redis) conf(extra []string) string {
	lines := []string{
		"port " + strconv.Itoa(r.Port),
		"bind " + r.host.IP,
		"dir " + strconv.Quote(r.Dir),
		`save ""`,
		"appendonly no",
		"logfile " + strconv.Quote(r.LogPath),
		"daemonize no",
		"repl-diskless-sync no",
		// A master with lagging replicas would otherwise hold SIGTERM for 10 s.
		"shutdown-timeout 0",
	}
	lines = append(lines, extra...)
	return strings.Join(lines, "\n") + "\n"
}

// Addr is the server's host:port.
func (r *Redis) Addr() string { return r.addr() }

// Client returns a cached go-redis client for this server. It does not retry
// (a retry would hide the failures tests look for) and times out quickly. It
// survives Kill and Restart; Stop closes it and a later call makes a new one.
func (r *Redis) Client() *redis.Client { return r.cachedClient() }
