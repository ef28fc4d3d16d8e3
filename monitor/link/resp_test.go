package link

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/seed877ff415/sentinel/monitor"
)

func readReply(raw string, lim Limits) (any, error) {
	return newReader(strings.NewReader(raw), lim).read()
}

func TestReaderReadsReplies(t *testing.T) {
	cases := []struct {
		raw  string
		want any
		err  error
	}{
		{"+OK\r\n", "OK", nil},
		{":42\r\n", int64(42), nil},
		{"$5\r\nhello\r\n", "hello", nil},
		{"$0\r\n\r\n", "", nil},
		{"$-1\r\n", nil, nil},
		{"*-1\r\n", nil, nil},
		{"*3\r\n$7\r\nmessage\r\n$18\r\n__sentinel__:hello\r\n$3\r\na,b\r\n",
			[]any{"message", "__sentinel__:hello", "a,b"}, nil},
		{"*2\r\n:1\r\n*1\r\n+x\r\n", []any{int64(1), []any{"x"}}, nil},
		// An error reply is a value, also inside EXEC's array.
		{"-WRONGPASS bad\r\n", Error("WRONGPASS bad"), nil},
		{"*2\r\n+OK\r\n-ERR no config file\r\n", []any{"OK", Error("ERR no config file")}, nil},
		{"?\r\n", nil, errProtocol},
		{"+OK\n", nil, errProtocol},
		{"$-2\r\n", nil, errProtocol},
		{"$3\r\nabcd\r\n", nil, errProtocol},
		{":x\r\n", nil, errProtocol},
		{"+" + strings.Repeat("a", lineSize) + "\r\n", nil, errProtocol},
		{"$5\r\nab", nil, io.EOF},
	}
	for _, c := range cases {
		got, err := readReply(c.raw, DefaultLimits)
		if !errors.Is(err, c.err) {
			t.Errorf("%.40q: error %v, want %v", c.raw, err, c.err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%.40q: %#v, want %#v", c.raw, got, c.want)
		}
	}
}

// hostile are replies a monitored instance could send to bring a sentinel
// down: each must be refused with a limit error before it costs memory.
var hostile = []struct {
	name, raw string
	want      string // in the error
}{
	{"bulk of 2^63-1 bytes (makeslice panic)", "$9223372036854775807\r\n", "bulk string of 9223372036854775807 bytes"},
	{"bulk of 1 TiB (memory exhaustion)", "$1099511627776\r\n", "bulk string of 1099511627776 bytes"},
	{"array of 2^63-1 elements", "*9223372036854775807\r\n", "array of 9223372036854775807 elements"},
	{"arrays nested 6M deep (stack overflow)", strings.Repeat("*1\r\n", 6_000_000), "array nesting of 5 levels"},
	{"INFO listing 20000 replicas", infoWithReplicas(20_000), "bulk string of"},
	{"many small elements", "*64\r\n" + strings.Repeat("*64\r\n"+strings.Repeat("$1024\r\n"+strings.Repeat("x", 1024)+"\r\n", 64), 64), "over the reply limit"},
}

// infoWithReplicas is a master's INFO listing n replicas.
func infoWithReplicas(n int) string {
	var b strings.Builder
	b.WriteString("# Replication\r\nrole:master\r\n")
	for i := range n {
		b.WriteString("slave")
		b.WriteString(strconv.Itoa(i))
		b.WriteString(":ip=10.0.0.1,port=")
		b.WriteString(strconv.Itoa(1024 + i))
		b.WriteString(",state=online,offset=123456789,lag=0\r\n")
	}
	return "$" + strconv.Itoa(b.Len()) + "\r\n" + b.String() + "\r\n"
}

func TestReaderRefusesHostileRepliesWithinItsBudget(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			v, err := readReply(h.raw, DefaultLimits)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, monitor.ErrReplyLimit) || !strings.Contains(err.Error(), h.want) {
				t.Fatalf("error %v, want a limit error containing %q", err, h.want)
			}
			if v != nil {
				t.Fatalf("value %T returned with the error", v)
			}
			// The reader's own buffer plus what the budget allows, whatever
			// the reply announced.
			if n := after.TotalAlloc - before.TotalAlloc; n > 2*uint64(DefaultLimits.MaxReply) {
				t.Fatalf("allocated %d bytes for a refused reply", n)
			}
		})
	}
}

func TestReaderAllocatesOnceForABulkReply(t *testing.T) {
	raw := "$65536\r\n" + strings.Repeat("i", 65536) + "\r\n"
	src := strings.NewReader(raw)
	rd := newReader(src, DefaultLimits)
	allocs := testing.AllocsPerRun(20, func() {
		src.Reset(raw)
		if v, err := rd.read(); err != nil || len(v.(string)) != 65536 {
			t.Fatalf("read: %v", err)
		}
	})
	// The string itself and the interface holding it.
	if allocs > 2 {
		t.Fatalf("%v allocations per INFO-sized reply", allocs)
	}
}

func TestReaderBudgetIsPerReply(t *testing.T) {
	lim := Limits{MaxReply: 16, MaxArray: 4, MaxDepth: 2}
	one := "$8\r\n12345678\r\n" // 14 bytes
	rd := newReader(strings.NewReader(one+one+one), lim)
	for i := range 3 {
		if _, err := rd.read(); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
	if _, err := readReply("*2\r\n"+one, lim); !errors.Is(err, monitor.ErrReplyLimit) {
		t.Fatalf("an array over the budget: %v", err)
	}
	if _, err := readReply("*1\r\n*1\r\n*1\r\n:1\r\n", lim); !errors.Is(err, monitor.ErrReplyLimit) {
		t.Fatalf("nesting past MaxDepth: %v", err)
	}
	if _, err := readReply("*5\r\n", lim); !errors.Is(err, monitor.ErrReplyLimit) {
		t.Fatalf("array past MaxArray: %v", err)
	}
}

func TestAppendCommand(t *testing.T) {
	got := string(appendCommand(nil, "AUTH", "user", ""))
	if want := "*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$0\r\n\r\n"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

// FuzzLinkReply feeds hostile bytes to the reader every link reads replies
// with: it must not panic or hang, and what it returns stays within limits.
func FuzzLinkReply(f *testing.F) {
	f.Add([]byte("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n"))
	f.Add([]byte("$-1\r\n"))
	f.Add([]byte("*2\r\n+OK\r\n-ERR x\r\n:12\r\n"))
	f.Add([]byte("$9223372036854775807\r\n"))
	f.Add([]byte("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n"))
	lim := Limits{MaxReply: 256, MaxArray: 8, MaxDepth: 3}
	f.Fuzz(func(t *testing.T, raw []byte) {
		rd := newReader(bytes.NewReader(raw), lim)
		for range 4 {
			v, err := rd.read()
			if err != nil {
				return
			}
			if n := size(v, 0, lim, t); n > lim.MaxReply {
				t.Fatalf("reply holds %d bytes, over MaxReply %d", n, lim.MaxReply)
			}
		}
	})
}

// size is the bytes of strings a reply holds; it fails t past the limits.
func size(v any, depth int, lim Limits, t *testing.T) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case Error:
		return len(v)
	case []any:
		if depth >= lim.MaxDepth || len(v) > lim.MaxArray {
			t.Fatalf("array of %d at depth %d is past the limits", len(v), depth)
		}
		n := 0
		for _, e := range v {
			n += size(e, depth+1, lim, t)
		}
		return n
	}
	return 0
}
