package peer

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func sampleMessages() []Message {
	return []Message{
		Opinion{From: "a1b2", Master: "mymaster", Down: true, Epoch: 7},
		Opinion{},
		VoteRequest{From: "a1b2", Master: "mymaster", MasterIP: "127.0.0.1", MasterPort: 6379, Epoch: 42, Candidate: "a1b2"},
		VoteRequest{From: "a1b2", Master: "m", MasterIP: "::1", MasterPort: 65535, Epoch: 1<<64 - 1},
		VoteReply{From: "c3d4", Master: "mymaster", Down: true, Leader: "a1b2", LeaderEpoch: 42},
		VoteReply{From: "c3d4", Master: "mymaster"},
		Hello{Payload: "127.0.0.1,26400,621fd981c22f,8,mymaster,127.0.0.1,16401,0"},
		Hello{Payload: strings.Repeat("x", MaxString)},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, want := range sampleMessages() {
		b, err := Encode(want)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", want, err)
		}
		if b[0] != Version {
			t.Fatalf("Encode(%#v): version byte %d", want, b[0])
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(%#v)): %v", want, err)
		}
		if got != want {
			t.Fatalf("round trip: got %#v, want %#v", got, want)
		}
	}
}

func TestMessagesFitInOnePacket(t *testing.T) {
	long := strings.Repeat("x", 40) // a run id
	b, err := Encode(VoteRequest{From: long, Master: strings.Repeat("m", 64), MasterIP: "255.255.255.255",
		MasterPort: 65535, Epoch: 1<<64 - 1, Candidate: long})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 300 {
		t.Fatalf("realistic vote request is %d bytes, want a few hundred at most", len(b))
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want error
	}{
		{"nil", nil, ErrType},
		{"long string", Opinion{Master: strings.Repeat("m", MaxString+1)}, ErrTooLarge},
		{"too large in total", VoteRequest{From: strings.Repeat("a", 500), Master: strings.Repeat("b", 500), Candidate: strings.Repeat("c", 500)}, ErrTooLarge},
		{"negative port", VoteRequest{MasterPort: -1}, ErrMalformed},
		{"port above 65535", VoteRequest{MasterPort: 65536}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Encode(tt.msg); !errors.Is(err, tt.want) {
				t.Fatalf("Encode error %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Encode(&Opinion{}); !errors.Is(err, ErrType) {
		t.Fatalf("Encode of a pointer: %v, want %v", err, ErrType)
	}
}

func TestDecodeRejects(t *testing.T) {
	valid, err := Encode(VoteReply{From: "a", Master: "m", Down: true, Leader: "b", LeaderEpoch: 7})
	if err != nil {
		t.Fatal(err)
	}
	// Layout: 1 3 | 1 'a' | 1 'm' | 1 | 1 'b' | 7
	badBool := bytes.Clone(valid)
	badBool[6] = 2
	overlong := append(bytes.Clone(valid[:len(valid)-1]), 0x87, 0x00)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"version only", []byte{Version}, ErrMalformed},
		{"newer version", append([]byte{Version + 1}, valid[1:]...), ErrVersion},
		{"unknown type", []byte{Version, 99}, ErrType},
		{"truncated", valid[:len(valid)-2], ErrMalformed},
		{"trailing byte", append(bytes.Clone(valid), 0), ErrMalformed},
		{"bool not 0 or 1", badBool, ErrMalformed},
		{"non-minimal varint", overlong, ErrMalformed},
		{"string length over limit", []byte{Version, typeHello, 0x81, 0x04}, ErrTooLarge},
		{"port above 65535", []byte{Version, typeVoteRequest, 0, 0, 0, 0x80, 0x80, 0x04, 0, 0}, ErrMalformed},
		{"oversized input", make([]byte, MaxSize+1), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg, err := Decode(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %#v, %v; want error %v", msg, err, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages() {
		b, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{Version, typeVoteRequest, 0x80})
	f.Add([]byte{Version + 1, typeOpinion})
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(msg)
		if err != nil {
			t.Fatalf("decoded %#v does not re-encode: %v", msg, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", b, again)
		}
	})
}
