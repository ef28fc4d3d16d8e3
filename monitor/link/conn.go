package link

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
)

const defaultTimeout = 500 * time.Millisecond

// keepAlive lets an idle pub/sub connection notice a vanished peer within
// seconds; the command connection learns it from its next PING.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: time.Second, Count: 3}

// conn is one connection of a link: commands go out through rename-command,
// replies come back through a bounded reader.
type conn struct {
	nc      net.Conn
	rd      *reader
	spec    monitor.LinkSpec
	localIP string
	// remoteIP is where spec.Addr led: a hostname is resolved by each dial.
	remoteIP string
	wbuf     []byte
	stop     func() bool
}

// dial connects to spec.Addr, over TLS when tlsFor is set (the
// certificate must name the host dialled). Cancelling ctx closes the
// connection, which unblocks any read.
func dial(ctx context.Context, spec monitor.LinkSpec, lim Limits, tlsFor func(host string) *tls.Config) (*conn, error) {
	d := net.Dialer{Timeout: spec.Timeout, KeepAliveConfig: keepAlive}
	nc, err := d.DialContext(ctx, "tcp", spec.Addr)
	if err != nil {
		return nil, err
	}
	localIP, _, err := net.SplitHostPort(nc.LocalAddr().String())
	remoteIP, _, rerr := net.SplitHostPort(nc.RemoteAddr().String())
	if err = errors.Join(err, rerr); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("connection addresses: %w", err)
	}
	if tlsFor != nil {
		host, _, _ := net.SplitHostPort(spec.Addr)
		tc := tls.Client(nc, tlsFor(host))
		hctx, cancel := context.WithTimeout(ctx, spec.Timeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("tls: %w", err)
		}
		nc = tc
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	return &conn{nc: nc, rd: newReader(nc, lim), spec: spec, localIP: localIP, remoteIP: remoteIP, stop: stop}, nil
}

// close releases the connection; errors are moot at this point.
func (c *conn) close() {
	c.stop()
	_ = c.nc.Close()
}

// queue buffers one command, its name passed through rename-command.
func (c *conn) queue(name string, args ...string) {
	c.wbuf = appendCommand(c.wbuf, append([]string{renamed(c.spec, name)}, args...)...)
}

// flush sends the queued commands and gives them and their replies the
// link's timeout.
func (c *conn) flush() error {
	if err := c.nc.SetDeadline(time.Now().Add(c.spec.Timeout)); err != nil {
		return err
	}
	_, err := c.nc.Write(c.wbuf)
	c.wbuf = c.wbuf[:0]
	return err
}

// do runs one command. The error is only for a connection that can no
// longer be used; an error reply is returned as an Error value.
func (c *conn) do(name string, args ...string) (any, error) {
	c.queue(name, args...)
	if err := c.flush(); err != nil {
		return nil, err
	}
	return c.rd.read()
}

// handshake authenticates and names a fresh connection, like Redis Sentinel:
// AUTH [user] pass, then CLIENT SETNAME <name><suffix> (PING without a name).
//
// As in Redis Sentinel, a refused AUTH does not fail the connection: an
// instance whose password or user was removed still serves it as the
// default user. Only an instance that refuses the connection itself (NOAUTH
// on the next command) fails it, with an error wrapping monitor.ErrAuth.
// refused is AUTH's error reply, for the caller to log.
func handshake(c *conn, suffix string) (refused Error, err error) {
	spec := c.spec
	if spec.Password != "" {
		args := []string{spec.Password}
		if spec.Username != "" {
			args = []string{spec.Username, spec.Password}
		}
		reply, err := c.do("auth", args...)
		if err != nil {
			return "", fmt.Errorf("auth: %w", err)
		}
		refused, _ = reply.(Error)
	}
	check, args := "ping", []string(nil)
	if spec.ClientName != "" {
		check, args = "client", []string{"SETNAME", spec.ClientName + suffix}
	}
	reply, err := c.do(check, args...)
	if err != nil {
		return refused, fmt.Errorf("%s: %w", check, err)
	}
	// Any other error reply (a disabled CLIENT command, LOADING) leaves the
	// connection usable: a name is cosmetic, PING's reply is the core's.
	if e, ok := reply.(Error); ok && e.hasPrefix("NOAUTH") {
		return refused, authError(refused, e)
	}
	return refused, nil
}

// authError says that the instance refuses this link's credentials.
func authError(refused, noauth Error) error {
	if refused != "" {
		return fmt.Errorf("%w: AUTH: %w; then %w", monitor.ErrAuth, refused, noauth)
	}
	return fmt.Errorf("%w: %w", monitor.ErrAuth, noauth)
}

// renamed maps a lower-case command name through rename-command.
func renamed(spec monitor.LinkSpec, name string) string {
	if n, ok := spec.Rename[name]; ok {
		return n
	}
	return name
}
