package gossip

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// Our messages travel as UDP datagrams of their own, beside memberlist's,
// so the receiver knows the address each came from. Layout:
//
//	packetMagic, kind, uvarint sender length, sender, 8-byte sequence,
//	peer codec message (kindPeer only), HMAC-SHA256 tag (with a secret only)
//
// The tag covers the label and every byte before it. The sequence rises
// with every packet a sender sends; receivers refuse repeats (replayWindow).
const (
	// packetMagic tells our datagrams from memberlist's, which begin with a
	// message type below 0x20, a label header (244) or encryption version.
	packetMagic byte = 0xfc

	kindPeer  byte = 1
	kindLeave byte = 2

	seqSize = 8
	tagSize = sha256.Size
)

// maxEnvelope bounds a datagram of ours: well inside one ~1400 byte packet.
const maxEnvelope = 2 + binary.MaxVarintLen16 + maxName + seqSize + peer.MaxSize + tagSize

// Decoding errors; receive counts them as dropMalformed or dropUnauthenticated.
var (
	errMalformed       = errors.New("malformed")
	errUnauthenticated = errors.New("unauthenticated")
)

// envelope is one decoded datagram of ours; msg is nil for a leave intent.
type envelope struct {
	kind byte
	from string
	seq  uint64
	msg  peer.Message
}

// macKeys turns the group's secrets into HMAC keys, the first one signing.
type macKeys [][]byte

// sealer signs and verifies envelopes; with no keys it neither adds nor
// accepts a tag (unauthenticated gossip).
type sealer struct {
	label string
	keys  macKeys
}

func (s sealer) mac(key, b []byte) []byte {
	h := hmac.New(sha256.New, key)
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(s.label)))])
	h.Write([]byte(s.label))
	h.Write(b)
	return h.Sum(nil)
}

func (s sealer) encode(e envelope) ([]byte, error) {
	if e.from == "" || len(e.from) > maxName {
		return nil, fmt.Errorf("encode envelope: sender of %d bytes", len(e.from))
	}
	b := make([]byte, 0, maxEnvelope)
	b = append(b, packetMagic, e.kind)
	b = binary.AppendUvarint(b, uint64(len(e.from)))
	b = append(b, e.from...)
	b = binary.BigEndian.AppendUint64(b, e.seq)
	switch e.kind {
	case kindPeer:
		body, err := peer.Encode(e.msg)
		if err != nil {
			return nil, fmt.Errorf("encode envelope: %w", err)
		}
		b = append(b, body...)
	case kindLeave:
	default:
		return nil, fmt.Errorf("encode envelope: kind %d", e.kind)
	}
	if len(s.keys) > 0 {
		b = append(b, s.mac(s.keys[0], b)...)
	}
	return b, nil
}

// decode authenticates and parses one datagram. Nothing of it is trusted
// before the tag checks out, so parsing errors come second.
func (s sealer) decode(b []byte) (envelope, error) {
	if len(b) > maxEnvelope {
		return envelope{}, fmt.Errorf("%w: %d bytes", errMalformed, len(b))
	}
	if len(s.keys) > 0 {
		if len(b) < tagSize {
			return envelope{}, fmt.Errorf("%w: no tag", errUnauthenticated)
		}
		signed, tag := b[:len(b)-tagSize], b[len(b)-tagSize:]
		ok := false
		for _, k := range s.keys {
			ok = ok || hmac.Equal(s.mac(k, signed), tag)
		}
		if !ok {
			return envelope{}, fmt.Errorf("%w: bad tag", errUnauthenticated)
		}
		b = signed
	}
	if len(b) < 2 || b[0] != packetMagic || (b[1] != kindPeer && b[1] != kindLeave) {
		return envelope{}, fmt.Errorf("%w: not an envelope", errMalformed)
	}
	e := envelope{kind: b[1]}
	rest := b[2:]
	n, size := binary.Uvarint(rest)
	if size <= 0 || size != len(binary.AppendUvarint(nil, n)) || n == 0 || n > maxName || uint64(len(rest)-size) < n+seqSize {
		return envelope{}, fmt.Errorf("%w: bad sender", errMalformed)
	}
	e.from = string(rest[size : size+int(n)])
	rest = rest[size+int(n):]
	e.seq = binary.BigEndian.Uint64(rest)
	rest = rest[seqSize:]
	if e.kind == kindLeave {
		if len(rest) != 0 {
			return envelope{}, fmt.Errorf("%w: trailing bytes after leave", errMalformed)
		}
		return e, nil
	}
	msg, err := peer.Decode(rest)
	if err != nil {
		return envelope{}, fmt.Errorf("%w: from %s: %v", errMalformed, e.from, err)
	}
	e.msg = msg
	return e, nil
}

// Keys are derived per purpose, so memberlist's AES key and our HMAC key
// never coincide even though one secret makes both.
const (
	infoKeyring = "sentinel gossip memberlist keyring v1"
	infoMAC     = "sentinel gossip envelope hmac v1"
	infoPass    = "sentinel gossip secret from password v1"
)

func derive(secret []byte, info string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, info, 32)
	if err != nil {
		panic(err) // only for lengths sha256 cannot produce
	}
	return k
}

// KeyFromPassword derives a 32-byte gossip secret from the password the
// sentinels share, so that setting a password also secures gossip.
func KeyFromPassword(password string) []byte { return derive([]byte(password), infoPass) }
