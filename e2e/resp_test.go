package e2e

import (
	"bufio"
	"io"
	"net"
	"time"

	"github.com/seed877ff415/sentinel/internal/testutil"
)

// respValue is one reply as the wire carries it.
type respValue = testutil.RESP

// respConn is a raw RESP2/RESP3 client: it sends bytes exactly as given and
// reads replies without interpreting them, so that two servers' replies can
// be compared type by type.
type respConn struct {
	nc net.Conn
	br *bufio.Reader
}

func dialRESP(addr string) (*respConn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &respConn{nc: nc, br: bufio.NewReader(nc)}, nil
}

func (c *respConn) close() { _ = c.nc.Close() }

var encodeRESP = testutil.EncodeCommand

// roundTrip writes raw and reads n replies.
func (c *respConn) roundTrip(raw string, n int) ([]respValue, error) {
	_ = c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.nc, raw); err != nil {
		return nil, err
	}
	out := make([]respValue, 0, n)
	for range n {
		v, err := testutil.ReadRESP(c.br)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
