package testutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// RESP is one reply as the wire carries it: its type byte, the text of a
// simple value or bulk ("<nil>" for a null), the elements of an aggregate
// (a map's keys and values alternate) and the exact bytes read.
type RESP struct {
	Type  byte
	Text  string
	Elems []RESP
	Raw   string
}

// EncodeCommand encodes a request as a RESP multibulk.
func EncodeCommand(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// ReadRESP reads one RESP2 or RESP3 value without interpreting it.
func ReadRESP(br *bufio.Reader) (RESP, error) { return readRESP(br, 0) }

func readRESP(br *bufio.Reader, depth int) (RESP, error) {
	if depth > 32 {
		return RESP{}, errors.New("reply nested too deep")
	}
	line, err := br.ReadString('\n')
	v := RESP{Raw: line}
	if err != nil {
		return v, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return v, fmt.Errorf("bad reply line %q", line)
	}
	v.Type, v.Text = line[0], line[1:len(line)-2]
	switch v.Type {
	case '+', '-', ':', ',', '#', '_', '(':
		return v, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(v.Text)
		if err != nil || n < -1 || n > 64<<20 {
			return v, fmt.Errorf("bad length in %q", line)
		}
		if n == -1 {
			v.Text = "<nil>"
			return v, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return v, err
		}
		v.Text, v.Raw = string(buf[:n]), v.Raw+string(buf)
		return v, nil
	case '*', '%', '~', '>', '|':
		n, err := strconv.Atoi(v.Text)
		if err != nil || n < -1 || n > 1<<20 {
			return v, fmt.Errorf("bad count in %q", line)
		}
		if n == -1 {
			v.Text = "<nil>"
			return v, nil
		}
		if v.Type == '%' || v.Type == '|' {
			n *= 2
		}
		v.Elems = []RESP{}
		for range n {
			e, err := readRESP(br, depth+1)
			v.Raw += e.Raw
			if err != nil {
				return v, err
			}
			v.Elems = append(v.Elems, e)
		}
		return v, nil
	}
	return v, fmt.Errorf("unknown reply type in %q", line)
}

// String renders a value compactly for failure messages.
func (v RESP) String() string {
	if v.Elems == nil {
		text := v.Text
		if len(text) > 80 {
			text = text[:80] + "..."
		}
		return fmt.Sprintf("%c%q", v.Type, text)
	}
	parts := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		parts[i] = e.String()
	}
	return fmt.Sprintf("%c[%s]", v.Type, strings.Join(parts, " "))
}
