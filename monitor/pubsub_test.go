package monitor

import (
	"errors"
	"net"
	"reflect"
	"testing"
	"time"
)

func readReply(raw string) (any, error) {
	client, server := net.Pipe()
	defer client.Close()
	go func() {
		_, _ = server.Write([]byte(raw))
		server.Close()
	}()
	return newRespConn(client, time.Second).read()
}

func TestRespRead(t *testing.T) {
	cases := []struct {
		raw  string
		want any
		err  error
	}{
		{"+OK\r\n", "OK", nil},
		{":42\r\n", int64(42), nil},
		{"$5\r\nhello\r\n", "hello", nil},
		{"$-1\r\n", nil, nil},
		{"*3\r\n$7\r\nmessage\r\n$18\r\n__sentinel__:hello\r\n$3\r\na,b\r\n",
			[]any{"message", "__sentinel__:hello", "a,b"}, nil},
		{"*2\r\n:1\r\n*1\r\n+x\r\n", []any{int64(1), []any{"x"}}, nil},
		{"-WRONGPASS bad\r\n", nil, respError("WRONGPASS bad")},
		{"?\r\n", nil, errProtocol},
		{"$99999999\r\n", nil, errProtocol},
		{"+OK\n", nil, errProtocol},
	}
	for _, c := range cases {
		got, err := readReply(c.raw)
		if !errors.Is(err, c.err) && err != c.err {
			t.Errorf("%q: error %v, want %v", c.raw, err, c.err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %#v, want %#v", c.raw, got, c.want)
		}
	}
}

func FuzzRespRead(f *testing.F) {
	f.Add("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n")
	f.Add("$-1\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		_, _ = readReply(raw) // must not panic or hang
	})
}
