package monitor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// The pub/sub connection speaks RESP2 by hand: go-redis gives every pub/sub
// socket 64 KiB of fixed buffers (two sockets per instance add up with many
// master groups) and writes SUBSCRIBE itself, past rename-command.

// respError is an error reply; it satisfies redis.Error so that the shared
// handshake tells it apart from a broken connection.
type respError string

func (e respError) Error() string { return string(e) }
func (respError) RedisError()     {}

// maxReply bounds a bulk reply or array read from an instance.
const maxReply = 1 << 20

var errProtocol = errors.New("protocol error in reply")

type respConn struct {
	nc      net.Conn
	rd      *bufio.Reader
	timeout time.Duration
}

func newRespConn(nc net.Conn, timeout time.Duration) *respConn {
	return &respConn{nc: nc, rd: bufio.NewReaderSize(nc, linkBufferSize), timeout: timeout}
}

// do sends one command and reads its reply, within the link's timeout.
func (c *respConn) do(_ context.Context, args ...any) error {
	if err := c.nc.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	if err := c.write(args...); err != nil {
		return err
	}
	_, err := c.read()
	return err
}

func (c *respConn) write(args ...any) error {
	b := append([]byte{'*'}, strconv.Itoa(len(args))...)
	b = append(b, '\r', '\n')
	for _, a := range args {
		s := fmt.Sprint(a)
		b = append(b, '$')
		b = append(b, strconv.Itoa(len(s))...)
		b = append(b, '\r', '\n')
		b = append(b, s...)
		b = append(b, '\r', '\n')
	}
	_, err := c.nc.Write(b)
	return err
}

// read returns a reply: string for simple and bulk strings (nil for null),
// int64, []any, or a respError as the error.
func (c *respConn) read() (any, error) {
	line, err := c.rd.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, errProtocol
	}
	body := string(line[1 : len(line)-2])
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, respError(body)
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, errProtocol
		}
		return n, nil
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n > maxReply {
			return nil, errProtocol
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.rd, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n > maxReply {
			return nil, errProtocol
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = c.read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, errProtocol
}
