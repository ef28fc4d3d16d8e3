// Package rawio reads and writes non-blocking sockets with system calls the
// Go scheduler is not told about (docs/design.md, "Raw socket calls").
//
// On a non-blocking socket read and write never block, but announced as
// system calls they let sysmon find the caller's P in a system call, hand
// it to another thread and keep polling every 20 µs. Under redis-benchmark
// that was a third of the proxy's context switches, and sysmon alone spent
// 6 % of the Redis-protocol server's CPU. The Go poller still does the waiting: Conn returns
// EAGAIN to it through syscall.RawConn, which also keeps deadlines and
// Close working.
package rawio

import (
	"errors"
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// Conn is a TCP connection whose Read and Write use this package's Read
// and Write.
// Everything else (deadlines, Close, addresses) is the wrapped connection's.
type Conn struct {
	*net.TCPConn
	rc syscall.RawConn
}

// Wrap returns a Conn for a *net.TCPConn, and any other connection (TLS,
// a wrapper) as it is.
func Wrap(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &Conn{TCPConn: tc, rc: rc}
}

// NetConn returns the wrapped connection, as tls.Conn does.
func (c *Conn) NetConn() net.Conn { return c.TCPConn }

func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	if rerr := c.rc.Read(func(fd uintptr) bool {
		for {
			n, err = Read(int(fd), p)
			if !errors.Is(err, unix.EINTR) {
				return !errors.Is(err, unix.EAGAIN)
			}
		}
	}); rerr != nil {
		return 0, c.opError("read", rerr)
	}
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *Conn) Write(p []byte) (int, error) {
	written := 0
	var err error
	if werr := c.rc.Write(func(fd uintptr) bool {
		for written < len(p) {
			var n int
			n, err = Write(int(fd), p[written:])
			written += n
			switch {
			case errors.Is(err, unix.EINTR):
				continue
			case errors.Is(err, unix.EAGAIN):
				return false
			case err != nil:
				return true
			}
		}
		return true
	}); werr != nil {
		return written, c.opError("write", werr)
	}
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		return written, c.opError("write", err)
	}
	return written, nil
}

func (c *Conn) opError(op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
