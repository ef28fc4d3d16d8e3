package gossip

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/seed877ff415/sentinel/sentinel/peer"
)

var (
	plainSealer  = sealer{label: "test"}
	signedSealer = sealer{label: "test", keys: macKeys{derive(testKey, infoMAC)}}
)

func TestEnvelopeRoundTrip(t *testing.T) {
	big := peer.Hello{Payload: strings.Repeat("x", peer.MaxString)}
	for _, s := range []sealer{plainSealer, signedSealer} {
		for _, e := range []envelope{
			{kind: kindPeer, from: "node-a", seq: 42, msg: peer.VoteRequest{From: "node-a", Master: "m", MasterIP: "10.0.0.1", MasterPort: 6379, Epoch: 9, Candidate: "node-a"}},
			{kind: kindPeer, from: strings.Repeat("n", maxName), seq: 1<<64 - 1, msg: big},
			{kind: kindLeave, from: "node-a", seq: 7},
		} {
			b := mustSeal(t, s, e)
			if len(b) > maxEnvelope {
				t.Fatalf("envelope of %d bytes exceeds %d", len(b), maxEnvelope)
			}
			got, err := s.decode(b)
			if err != nil || got != e {
				t.Fatalf("decode = %+v, %v; want %+v", got, err, e)
			}
		}
	}
	if maxEnvelope > 1300 {
		t.Fatalf("largest envelope %d bytes leaves too little of a 1400-byte packet", maxEnvelope)
	}
}

func TestEnvelopeRefusals(t *testing.T) {
	e := envelope{kind: kindPeer, from: "a", seq: 1, msg: peer.Opinion{From: "a", Master: "m"}}
	signed := mustSeal(t, signedSealer, e)
	flipped := bytes.Clone(signed)
	flipped[3] ^= 1
	for _, tt := range []struct {
		name string
		s    sealer
		in   []byte
		want error
	}{
		{"unsigned to a keyed group", signedSealer, mustSeal(t, plainSealer, e), errUnauthenticated},
		{"one bit flipped", signedSealer, flipped, errUnauthenticated},
		{"signed under another label", sealer{label: "x", keys: signedSealer.keys}, signed, errUnauthenticated},
		{"tag to a group without a secret", plainSealer, signed, errMalformed},
		{"empty", plainSealer, nil, errMalformed},
		{"unknown kind", plainSealer, []byte{packetMagic, 9, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 1}, errMalformed},
		{"no sequence", plainSealer, []byte{packetMagic, kindLeave, 1, 'a'}, errMalformed},
		{"empty sender", plainSealer, []byte{packetMagic, kindLeave, 0, 0, 0, 0, 0, 0, 0, 0, 1}, errMalformed},
		{"non-minimal length", plainSealer, []byte{packetMagic, kindLeave, 0x81, 0, 'a', 0, 0, 0, 0, 0, 0, 0, 1}, errMalformed},
		{"oversized", plainSealer, make([]byte, maxEnvelope+1), errMalformed},
	} {
		if _, err := tt.s.decode(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := plainSealer.encode(envelope{kind: kindPeer, from: "", msg: peer.Hello{}}); err == nil {
		t.Error("encoded an envelope without sender")
	}
}

func TestReplayWindow(t *testing.T) {
	var w replayWindow
	accept := func(seq uint64, want bool, wantReason string) {
		t.Helper()
		if ok, reason := w.accept(seq); ok != want || reason != wantReason {
			t.Fatalf("accept(%d) = %v %q, want %v %q", seq, ok, reason, want, wantReason)
		}
	}
	accept(10000, true, "")
	accept(10000, false, dropReplayed)
	accept(10002, true, "")
	accept(10001, true, "") // reordered, inside the window
	accept(10001, false, dropReplayed)
	accept(10002-windowSize+1, true, "") // the window's oldest slot
	accept(10002-windowSize, false, dropStale)
	accept(10002+windowSize-1, true, "") // slides: 10002 is now the oldest slot
	accept(10002, false, dropReplayed)
	accept(10001, false, dropStale)
	accept(50000, true, "") // a jump beyond the window forgets it all
	accept(49999, true, "")
	accept(0, false, dropStale)
}

// FuzzEnvelope: hostile datagrams never panic, and whatever is accepted
// re-encodes to the very same bytes (strict decoding, nothing ignored).
func FuzzEnvelope(f *testing.F) {
	for _, s := range []sealer{plainSealer, signedSealer} {
		for _, e := range []envelope{
			{kind: kindPeer, from: "a", seq: 3, msg: peer.Opinion{From: "a", Master: "m", Down: true, Epoch: 2}},
			{kind: kindPeer, from: "b", seq: 1 << 40, msg: peer.Hello{Payload: "1.2.3.4,26379,b,1,m,1.2.3.5,6379,1"}},
			{kind: kindLeave, from: "c", seq: 9},
		} {
			b, err := s.encode(e)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte{packetMagic, kindPeer, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range []sealer{plainSealer, signedSealer} {
			e, err := s.decode(b)
			if err != nil {
				continue
			}
			again, err := s.encode(e)
			if err != nil {
				t.Fatalf("accepted %x but cannot re-encode %+v: %v", b, e, err)
			}
			if !bytes.Equal(again, b) {
				t.Fatalf("accepted %x, re-encodes to %x", b, again)
			}
		}
	})
}
