package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

const defaultTimeout = 500 * time.Millisecond

// keepAlive lets an idle pub/sub connection notice a vanished peer within
// seconds; the command connection learns it from its next PING.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: time.Second, Count: 3}

// errConnLost is what go-redis gets if it tries to replace the one socket it
// was given: reconnecting is the link's job, never the library's.
var errConnLost = errors.New("connection lost")

// socket is one TCP connection with a go-redis client bound to it alone.
type socket struct {
	client  *redis.Client
	nc      net.Conn
	localIP string
	stop    func() bool
}

// dialSocket connects to spec.Addr. Cancelling ctx closes the socket, which
// unblocks any read.
func dialSocket(ctx context.Context, spec LinkSpec) (*socket, error) {
	d := net.Dialer{Timeout: spec.Timeout, KeepAliveConfig: keepAlive}
	nc, err := d.DialContext(ctx, "tcp", spec.Addr)
	if err != nil {
		return nil, err
	}
	localIP, _, err := net.SplitHostPort(nc.LocalAddr().String())
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("local address: %w", err)
	}
	var handed atomic.Bool
	client := redis.NewClient(&redis.Options{
		Addr: spec.Addr,
		Dialer: func(context.Context, string, string) (net.Conn, error) {
			if handed.Swap(true) {
				return nil, errConnLost
			}
			return nc, nil
		},
		Protocol:        2,
		DisableIdentity: true,
		MaxRetries:      -1,
		DialerRetries:   1,
		DialTimeout:     spec.Timeout,
		ReadTimeout:     spec.Timeout,
		WriteTimeout:    spec.Timeout,
		PoolSize:        1,
		MaxActiveConns:  1,
		ConnMaxIdleTime: -1,
		// Pipelines would otherwise get a pool (and sockets) of their own.
		PipelinePoolSize: -1,
		// Replies are small (INFO is a few KiB) and a sentinel keeps two
		// sockets per instance: go-redis' 32-128 KiB default buffers would
		// dominate its memory with many master groups.
		ReadBufferSize:          linkBufferSize,
		WriteBufferSize:         linkBufferSize,
		PipelineReadBufferSize:  linkBufferSize,
		PipelineWriteBufferSize: linkBufferSize,
	})
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	return &socket{client: client, nc: nc, localIP: localIP, stop: stop}, nil
}

const linkBufferSize = 4 << 10

// close releases the client and the socket; errors are moot at this point.
func (s *socket) close() {
	s.stop()
	_ = s.client.Close()
	_ = s.nc.Close()
}

// handshake authenticates and names a fresh connection, like Redis Sentinel:
// AUTH [user] pass, then CLIENT SETNAME <name><suffix>, both renamed.
// do sends one command on the connection being set up and returns only
// its error.
func handshake(ctx context.Context, do func(context.Context, ...any) error, spec LinkSpec, suffix string) error {
	if spec.Password != "" {
		args := []any{spec.rename("auth")}
		if spec.Username != "" {
			args = append(args, spec.Username)
		}
		args = append(args, spec.Password)
		if err := do(ctx, args...); err != nil {
			if isRedisError(err) {
				return fmt.Errorf("%w: %w", ErrAuth, err)
			}
			return fmt.Errorf("auth: %w", err)
		}
	}
	if spec.ClientName == "" {
		return nil
	}
	err := do(ctx, spec.rename("client"), "SETNAME", spec.ClientName+suffix)
	switch {
	case err == nil:
		return nil
	case redis.HasErrorPrefix(err, "NOAUTH"):
		return fmt.Errorf("%w: %w", ErrAuth, err)
	case isRedisError(err):
		// A name is cosmetic: a disabled CLIENT command must not keep the link down.
		return nil
	default:
		return fmt.Errorf("client setname: %w", err)
	}
}

// isRedisError tells a reply from the server apart from a connection failure.
func isRedisError(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

// connError returns err if it means the connection is unusable.
func connError(err error) error {
	if err == nil || isRedisError(err) {
		return nil
	}
	return err
}
