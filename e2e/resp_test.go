package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// respValue is one reply as the wire carries it: its RESP type byte, the
// text of a simple value, and the elements of an aggregate (a map's keys
// and values alternate).
type respValue struct {
	typ   byte
	text  string
	elems []respValue
}

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

func encodeRESP(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// roundTrip writes raw and reads n replies.
func (c *respConn) roundTrip(raw string, n int) ([]respValue, error) {
	_ = c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.nc, raw); err != nil {
		return nil, err
	}
	out := make([]respValue, 0, n)
	for range n {
		v, err := readRESP(c.br, 0)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func readRESP(br *bufio.Reader, depth int) (respValue, error) {
	if depth > 32 {
		return respValue{}, errors.New("reply nested too deep")
	}
	line, err := br.ReadString('\n')
	if err != nil {
		return respValue{}, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return respValue{}, fmt.Errorf("bad reply line %q", line)
	}
	v := respValue{typ: line[0], text: line[1 : len(line)-2]}
	switch v.typ {
	case '+', '-', ':', ',', '#', '_', '(':
		return v, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(v.text)
		if err != nil || n < -1 || n > 64<<20 {
			return v, fmt.Errorf("bad length in %q", line)
		}
		if n == -1 {
			v.text = "<nil>"
			return v, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return v, err
		}
		v.text = string(buf[:n])
		return v, nil
	case '*', '%', '~', '>', '|':
		n, err := strconv.Atoi(v.text)
		if err != nil || n < -1 || n > 1<<20 {
			return v, fmt.Errorf("bad count in %q", line)
		}
		if v.typ == '%' || v.typ == '|' {
			n *= 2
		}
		v.elems = []respValue{}
		for range n {
			e, err := readRESP(br, depth+1)
			if err != nil {
				return v, err
			}
			v.elems = append(v.elems, e)
		}
		if n < 0 {
			v.text, v.elems = "<nil>", nil
		}
		return v, nil
	}
	return v, fmt.Errorf("unknown reply type in %q", line)
}

// String renders a value compactly for failure messages.
func (v respValue) String() string {
	if v.elems == nil {
		return fmt.Sprintf("%c%q", v.typ, clipText(v.text, 80))
	}
	parts := make([]string, len(v.elems))
	for i, e := range v.elems {
		parts[i] = e.String()
	}
	return fmt.Sprintf("%c[%s]", v.typ, strings.Join(parts, " "))
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
