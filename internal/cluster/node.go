package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// pinger is what node needs from a go-redis client type; Process is used
// because the two clients' Ping methods return different types.
type pinger interface {
	comparable
	Process(ctx context.Context, cmd redis.Cmder) error
	Close() error
}

// node is the process and client handling shared by Redis and Sentinel; its
// methods are promoted to both.
type node[C pinger] struct {
	kind      string // "redis" or "sentinel", for error messages
	host      Host
	port      int
	dir       string
	logPath   string
	argv      []string
	newClient func(*redis.Options) C
	tls       *tls.Config // the client's, for a TLS-only node; nil: plaintext

	mu     sync.Mutex
	proc   *process // nil until started and after Stop
	client C        // zero until first needed and after Stop
}

func (n *node[C]) addr() string { return net.JoinHostPort(n.host.IP, strconv.Itoa(n.port)) }

func (n *node[C]) errorf(format string, args ...any) error {
	return fmt.Errorf("%s %d: %w", n.kind, n.port, fmt.Errorf(format, args...))
}

// cachedClient returns the client, creating it if needed.
func (n *node[C]) cachedClient() C {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.clientLocked()
}

func (n *node[C]) clientLocked() C {
	var zero C
	if n.client == zero {
		n.client = n.newClient(&redis.Options{
			Addr:         n.addr(),
			MaxRetries:   -1,
			DialTimeout:  500 * time.Millisecond,
			ReadTimeout:  time.Second,
			WriteTimeout: time.Second,
			PoolSize:     4,
			TLSConfig:    n.tls,
			// Redis 7.0 has no CLIENT MAINT_NOTIFICATIONS; skip the probe.
			MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		})
	}
	return n.client
}

func (n *node[C]) closeClientLocked() {
	var zero C
	if n.client != zero {
		// Close only fails if already closed; nothing to report.
		_ = n.client.Close()
		n.client = zero
	}
}

// startLocked launches argv (whose config file may have been rewritten by
// the process itself or by sentinels) and waits until it answers PING.
func (n *node[C]) startLocked(ctx context.Context) error {
	// Otherwise the PING below could be answered by whoever holds the port.
	if err := n.host.portFree(n.port); err != nil {
		return n.errorf("%w", err)
	}
	p, err := startProcess(n.argv, n.dir, n.logPath)
	if err != nil {
		return n.errorf("%w", err)
	}
	client := n.clientLocked()
	ping := func(ctx context.Context) error {
		// A plain dial first: go-redis logs every refused dial of its pool.
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", n.addr())
		if err != nil {
			return err
		}
		_ = c.Close()
		return client.Process(ctx, redis.NewCmd(ctx, "ping"))
	}
	if err := awaitReady(ctx, p, n.logPath, ping); err != nil {
		return errors.Join(n.errorf("%w", err), p.kill())
	}
	n.proc = p
	return nil
}

// start is the first start; on failure nothing is left running or open.
func (n *node[C]) start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.startLocked(ctx); err != nil {
		n.closeClientLocked()
		return err
	}
	return nil
}

// PID is the process id while the process runs, else 0.
func (n *node[C]) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil || n.proc.exited() {
		return 0
	}
	return n.proc.pid()
}

// Alive reports whether the process is running.
func (n *node[C]) Alive() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc != nil && !n.proc.exited()
}

// Kill SIGKILLs the process group (a crash) and returns once the process has
// been reaped. The client stays usable for a later Restart.
func (n *node[C]) Kill() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return nil
	}
	if err := n.proc.kill(); err != nil {
		return n.errorf("kill: %w", err)
	}
	return nil
}

// Restart starts the process again on the same port from the same config
// file, stopping it first if it still runs, and waits until it answers PING.
func (n *node[C]) Restart(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil {
		if err := n.proc.stop(stopGrace); err != nil {
			return n.errorf("restart: %w", err)
		}
		n.proc = nil
	}
	return n.startLocked(ctx)
}

// Stop sends SIGTERM, SIGKILLs the group after 2 s, waits until the process
// is reaped and closes the client. Calling it again is a no-op.
func (n *node[C]) Stop() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var err error
	if n.proc != nil {
		if err = n.proc.stop(stopGrace); err != nil {
			err = n.errorf("stop: %w", err)
		}
		n.proc = nil
	}
	n.closeClientLocked()
	return err
}

// LogTail returns the last n lines of the process's log, for failure
// messages.
func (n *node[C]) LogTail(nLines int) string { return logTail(n.logPath, nLines) }

// makeDir makes a process's directory and returns its absolute path.
func makeDir(kind string, port int, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(abs, 0o755)
	}
	if err != nil {
		return "", fmt.Errorf("%s %d: %w", kind, port, err)
	}
	return abs, nil
}
