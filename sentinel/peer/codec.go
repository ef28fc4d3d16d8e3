package peer

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Wire format: byte 0 is the format version, byte 1 the message type, then the
// fields in declaration order: strings as uvarint length + bytes, integers as
// minimal uvarints, booleans as one byte 0 or 1. Decoding is strict (minimal
// varints, no trailing bytes) so every accepted input re-encodes to itself.
const (
	// Version is the only wire format version this code speaks (2: Opinion
	// carries an epoch).
	Version byte = 2

	// MaxString bounds every string field.
	MaxString = 512
	// MaxSize bounds a whole encoded message, so that with the gossip
	// envelope it always fits in one ~1400 byte packet.
	MaxSize = 1024
)

const (
	typeOpinion     byte = 1
	typeVoteRequest byte = 2
	typeVoteReply   byte = 3
	typeHello       byte = 4
)

// Decode and Encode errors, wrapped with context; test with errors.Is.
var (
	ErrVersion   = errors.New("peer: unknown message version")
	ErrType      = errors.New("peer: unknown message type")
	ErrMalformed = errors.New("peer: malformed message")
	ErrTooLarge  = errors.New("peer: message too large")
)

// Encode serialises a message.
func Encode(msg Message) ([]byte, error) {
	var e encoder
	switch m := msg.(type) {
	case Opinion:
		e.opinion(m)
	case VoteRequest:
		e.voteRequest(m)
	case VoteReply:
		e.voteReply(m)
	case Hello:
		e.hello(m)
	default:
		return nil, fmt.Errorf("encode %T: %w", msg, ErrType)
	}
	if e.err != nil {
		return nil, fmt.Errorf("encode %T: %w", msg, e.err)
	}
	if len(e.buf) > MaxSize {
		return nil, fmt.Errorf("encode %T: %d bytes: %w", msg, len(e.buf), ErrTooLarge)
	}
	return e.buf, nil
}

// Decode parses one message. Unknown versions and types are errors, never panics, so
// peers running a newer format are ignored rather than misread.
func Decode(b []byte) (Message, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("decode: %d bytes: %w", len(b), ErrTooLarge)
	}
	if len(b) < 2 {
		return nil, fmt.Errorf("decode: %d bytes: %w", len(b), ErrMalformed)
	}
	if b[0] != Version {
		return nil, fmt.Errorf("decode: version %d: %w", b[0], ErrVersion)
	}
	d := decoder{buf: b[2:]}
	var msg Message
	switch b[1] {
	case typeOpinion:
		msg = Opinion{From: d.str(), Master: d.str(), Down: d.bool(), Epoch: d.uvarint()}
	case typeVoteRequest:
		msg = VoteRequest{
			From:       d.str(),
			Master:     d.str(),
			MasterIP:   d.str(),
			MasterPort: d.port(),
			Epoch:      d.uvarint(),
			Candidate:  d.str(),
		}
	case typeVoteReply:
		msg = VoteReply{
			From:        d.str(),
			Master:      d.str(),
			Down:        d.bool(),
			Leader:      d.str(),
			LeaderEpoch: d.uvarint(),
		}
	case typeHello:
		msg = Hello{Payload: d.str()}
	default:
		return nil, fmt.Errorf("decode: type %d: %w", b[1], ErrType)
	}
	if d.err == nil && len(d.buf) != 0 {
		d.err = fmt.Errorf("%d trailing bytes: %w", len(d.buf), ErrMalformed)
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode type %d: %w", b[1], d.err)
	}
	return msg, nil
}

type encoder struct {
	buf []byte
	err error
}

func (e *encoder) opinion(m Opinion) {
	e.buf = append(e.buf, Version, typeOpinion)
	e.str(m.From)
	e.str(m.Master)
	e.bool(m.Down)
	e.uvarint(m.Epoch)
}

func (e *encoder) voteRequest(m VoteRequest) {
	e.buf = append(e.buf, Version, typeVoteRequest)
	e.str(m.From)
	e.str(m.Master)
	e.str(m.MasterIP)
	if m.MasterPort < 0 || m.MasterPort > 65535 {
		e.fail(fmt.Errorf("master port %d: %w", m.MasterPort, ErrMalformed))
	}
	e.uvarint(uint64(m.MasterPort))
	e.uvarint(m.Epoch)
	e.str(m.Candidate)
}

func (e *encoder) voteReply(m VoteReply) {
	e.buf = append(e.buf, Version, typeVoteReply)
	e.str(m.From)
	e.str(m.Master)
	e.bool(m.Down)
	e.str(m.Leader)
	e.uvarint(m.LeaderEpoch)
}

func (e *encoder) hello(m Hello) {
	e.buf = append(e.buf, Version, typeHello)
	e.str(m.Payload)
}

func (e *encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

func (e *encoder) str(s string) {
	if len(s) > MaxString {
		e.fail(fmt.Errorf("string of %d bytes: %w", len(s), ErrTooLarge))
	}
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

func (e *encoder) bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// decoder reads fields in order; after the first error every read returns a
// zero value so callers can build a struct literal and check err once.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	// n <= 0: truncated or overflow. A longer-than-minimal form would decode
	// fine but re-encode differently, so it is rejected too.
	if n <= 0 || n != len(binary.AppendUvarint(nil, v)) {
		d.err = fmt.Errorf("bad varint: %w", ErrMalformed)
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > MaxString {
		d.err = fmt.Errorf("string of %d bytes: %w", n, ErrTooLarge)
		return ""
	}
	if uint64(len(d.buf)) < n {
		d.err = fmt.Errorf("truncated string: %w", ErrMalformed)
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

func (d *decoder) bool() bool {
	if d.err != nil {
		return false
	}
	if len(d.buf) == 0 || d.buf[0] > 1 {
		d.err = fmt.Errorf("bad bool: %w", ErrMalformed)
		return false
	}
	v := d.buf[0] == 1
	d.buf = d.buf[1:]
	return v
}

func (d *decoder) port() int {
	v := d.uvarint()
	if d.err == nil && v > 65535 {
		d.err = fmt.Errorf("port %d: %w", v, ErrMalformed)
		return 0
	}
	return int(v)
}
