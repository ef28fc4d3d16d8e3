package link

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/seed877ff415/sentinel/monitor"
)

// Links speak RESP2 by hand rather than through go-redis: its reader
// allocates whatever length a peer announces ($9223372036854775807 panics,
// $1099511627776 exhausts memory) and recurses into nested arrays without a
// limit. Every reply read here is bounded by Limits, and every instance is
// hostile until its reply has been read within them.

// Limits bound what one reply may make a link read and allocate. A reply over
// a limit closes the connection with an error wrapping monitor.ErrReplyLimit.
type Limits struct {
	// MaxReply is the number of bytes one reply may take on the wire, all its
	// elements included; INFO is the largest reply a link expects.
	MaxReply int
	// MaxArray is the number of elements of one array (EXEC's has 4).
	MaxArray int
	// MaxDepth is how deep arrays may nest (a pub/sub message is 1 deep).
	MaxDepth int
}

// DefaultLimits fit INFO of a master with monitor.MaxReplicas replicas many
// times over; Redis' own INFO of such a master is under 100 KiB.
var DefaultLimits = Limits{MaxReply: 1 << 20, MaxArray: 64, MaxDepth: 4}

// lineSize is the reader's buffer: it bounds a status, error or header line.
const lineSize = 4 << 10

// Error is an error reply (-ERR …, -NOAUTH …), without its leading '-'.
type Error string

func (e Error) Error() string { return string(e) }

// hasPrefix reports whether the error reply starts with the code prefix.
func (e Error) hasPrefix(prefix string) bool { return strings.HasPrefix(string(e), prefix) }

var errProtocol = errors.New("protocol error in reply")

// limitError says which limit a reply broke; it wraps monitor.ErrReplyLimit.
type limitError struct {
	what      string
	size, max int64
	unit      string
	used      int64 // bytes of the reply read before this part
}

func (e *limitError) Error() string {
	if e.used > 0 {
		return fmt.Sprintf("%s of %d %s after %d bytes is over the reply limit of %d", e.what, e.size, e.unit, e.used, e.max)
	}
	return fmt.Sprintf("%s of %d %s is over the limit of %d", e.what, e.size, e.unit, e.max)
}

func (e *limitError) Unwrap() error { return monitor.ErrReplyLimit }

// reader reads replies within its limits. A reply is a string (simple or
// bulk), nil (null bulk or array), int64, Error, or []any of those.
type reader struct {
	rd     *bufio.Reader
	lim    Limits
	budget int // bytes left to the reply being read
}

func newReader(r io.Reader, lim Limits) *reader {
	return &reader{rd: bufio.NewReaderSize(r, lineSize), lim: lim}
}

// read returns the next reply. An error reply is a value (Error), not an
// error: the error is only for a connection that can no longer be used.
func (r *reader) read() (any, error) {
	r.budget = r.lim.MaxReply
	return r.value(0)
}

func (r *reader) value(depth int) (any, error) {
	line, err := r.line()
	if err != nil {
		return nil, err
	}
	switch line[0] {
	case '+':
		return string(line[1:]), nil
	case '-':
		return Error(line[1:]), nil
	case ':':
		n, err := strconv.ParseInt(string(line[1:]), 10, 64)
		if err != nil {
			return nil, errProtocol
		}
		return n, nil
	case '$':
		n, err := header(line)
		if err != nil || n < 0 {
			return nil, err
		}
		if n > int64(r.budget)-2 {
			return nil, r.over("bulk string", n, "bytes")
		}
		s, err := r.bulk(int(n))
		if err != nil {
			return nil, err
		}
		return s, nil
	case '*':
		n, err := header(line)
		if err != nil || n < 0 {
			return nil, err
		}
		if n > int64(r.lim.MaxArray) {
			return nil, &limitError{what: "array", size: n, max: int64(r.lim.MaxArray), unit: "elements"}
		}
		if depth >= r.lim.MaxDepth {
			return nil, &limitError{what: "array nesting", size: int64(depth) + 1, max: int64(r.lim.MaxDepth), unit: "levels"}
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = r.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, errProtocol
}

// line reads one CRLF-terminated line, charged to the budget, without CRLF.
// The slice is valid until the next read.
func (r *reader) line() ([]byte, error) {
	line, err := r.rd.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%w: line longer than %d bytes", errProtocol, lineSize)
	}
	if err != nil {
		return nil, err
	}
	if err := r.charge(len(line)); err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, errProtocol
	}
	return line[:len(line)-2], nil
}

// header parses the length of a $ or * header: -1 (null) or more.
func header(line []byte) (int64, error) {
	n, err := strconv.ParseInt(string(line[1:]), 10, 64)
	if err != nil || n < -1 {
		return 0, errProtocol
	}
	return n, nil
}

// bulk reads n bytes and the CRLF after them into one allocation of n
// bytes, through the reader's buffer.
func (r *reader) bulk(n int) (string, error) {
	r.budget -= n + 2
	var b strings.Builder
	b.Grow(n)
	for b.Len() < n {
		p, err := r.rd.Peek(min(n-b.Len(), lineSize))
		b.Write(p)
		_, _ = r.rd.Discard(len(p))
		if err != nil {
			return "", err
		}
	}
	if crlf, err := r.rd.Peek(2); err != nil || crlf[0] != '\r' || crlf[1] != '\n' {
		return "", orProtocol(err)
	}
	_, _ = r.rd.Discard(2)
	return b.String(), nil
}

func (r *reader) charge(n int) error {
	if n > r.budget {
		return r.over("reply line", int64(n), "bytes")
	}
	r.budget -= n
	return nil
}

// over reports a part of size n that does not fit in what is left of the
// reply's budget.
func (r *reader) over(what string, n int64, unit string) error {
	return &limitError{what: what, size: n, max: int64(r.lim.MaxReply), unit: unit,
		used: int64(r.lim.MaxReply - r.budget)}
}

func orProtocol(err error) error {
	if err != nil {
		return err
	}
	return errProtocol
}

// appendCommand appends one command as a RESP array of bulk strings.
func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}
