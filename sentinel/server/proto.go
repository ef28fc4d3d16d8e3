package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/tidwall/redcon"
)

// Request limits. Redis allows 512 MB bulks; a sentinel never needs more than
// a few hundred bytes, so anything beyond 1 MiB is an attack or a bug.
const (
	maxRequestBytes = 1 << 20
	maxRequestArgs  = 1 << 20
	maxLineBytes    = 64 << 10 // inline request or header line, as Redis
	maxUnauthArgs   = 10       // Redis' limits before authentication
	maxUnauthBulk   = 16 << 10
	readBufferSize  = 16 << 10 // per connection, as Redis' initial query buffer
)

// protocolError is a malformed request: the client gets "-ERR Protocol
// error: ..." and the connection is closed, as Redis does.
type protocolError string

func (e protocolError) Error() string { return "Protocol error: " + string(e) }

// requestReader frames requests itself rather than using redcon's Reader,
// which grows its buffer without bound and trusts the multibulk count.
type requestReader struct {
	br    *bufio.Reader
	bytes int64 // bytes consumed, for INFO stats
}

func newRequestReader(r io.Reader) *requestReader {
	return &requestReader{br: bufio.NewReaderSize(r, readBufferSize)}
}

// next reads one request. It returns nil args for an empty request, which
// the caller skips. authed selects Redis' tighter pre-authentication limits.
func (r *requestReader) next(authed bool) ([]string, error) {
	first, err := r.br.Peek(1)
	if err != nil {
		return nil, err
	}
	if first[0] != '*' {
		return r.inline()
	}
	hdr, err := r.line("too big mbulk count string")
	if err != nil {
		return nil, err
	}
	count, ok := parseCRLFInt(hdr[1:])
	if !ok || count > maxRequestArgs {
		return nil, protocolError("invalid multibulk length")
	}
	if count <= 0 {
		return nil, nil
	}
	if !authed && count > maxUnauthArgs {
		return nil, protocolError("unauthenticated multibulk length")
	}
	total := int64(len(hdr))
	args := make([]string, 0, min(count, 64))
	for range count {
		bh, err := r.line("too big bulk count string")
		if err != nil {
			return nil, err
		}
		if bh[0] != '$' {
			return nil, protocolError("expected '$', got '" + string(bh[0]) + "'")
		}
		n, ok := parseCRLFInt(bh[1:])
		total += int64(len(bh))
		if !ok || n < 0 || total+int64(n)+2 > maxRequestBytes {
			return nil, protocolError("invalid bulk length")
		}
		if !authed && n > maxUnauthBulk {
			return nil, protocolError("unauthenticated bulk length")
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return nil, err
		}
		r.bytes += int64(n) + 2
		total += int64(n) + 2
		args = append(args, string(buf[:n]))
	}
	return args, nil
}

// inline parses a space-separated line (LF or CRLF terminated), as sent by
// HAProxy checks, nc scripts and sentinel-proxy. Quoting rules are redcon's.
func (r *requestReader) inline() ([]string, error) {
	line, err := r.line("too big inline request")
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, nil
	}
	cmd, err := redcon.Parse(line)
	if err != nil {
		if msg, ok := asProtocolError(err); ok {
			return nil, msg
		}
		return nil, protocolError("invalid inline request")
	}
	args := make([]string, len(cmd.Args))
	for i, a := range cmd.Args {
		args[i] = string(a)
	}
	return args, nil
}

// asProtocolError keeps redcon's own protocol error texts (they match
// Redis', e.g. "unbalanced quotes in request").
func asProtocolError(err error) (protocolError, bool) {
	const prefix = "Protocol error: "
	msg := err.Error()
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return protocolError(msg[len(prefix):]), true
	}
	return "", false
}

// line reads up to and including '\n', refusing lines longer than
// maxLineBytes. The result is valid until the next read.
func (r *requestReader) line(tooBig string) ([]byte, error) {
	var acc []byte
	for {
		frag, err := r.br.ReadSlice('\n')
		if len(acc)+len(frag) > maxLineBytes {
			return nil, protocolError(tooBig)
		}
		switch {
		case err == nil:
			r.bytes += int64(len(acc) + len(frag))
			if acc == nil {
				return frag, nil
			}
			return append(acc, frag...), nil
		case errors.Is(err, bufio.ErrBufferFull):
			// Refuse as soon as the limit is reached, without waiting for more.
			if acc = append(acc, frag...); len(acc) >= maxLineBytes {
				return nil, protocolError(tooBig)
			}
		default:
			return nil, err
		}
	}
}

// parseCRLFInt parses "<digits>\r\n" (the header line after its type byte).
func parseCRLFInt(b []byte) (int, bool) {
	if len(b) < 3 || b[len(b)-2] != '\r' {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[:len(b)-2]))
	return n, err == nil
}
