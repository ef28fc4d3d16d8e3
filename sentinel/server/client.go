package server

import (
	"cmp"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// client is one connection. Fields under "reader" are touched only by the
// connection's reader goroutine; the rest are read by other goroutines
// (CLIENT LIST/KILL, Publish) and are atomic or guarded by mu.
type client struct {
	id      int64
	nc      net.Conn
	addr    string
	laddr   string
	created time.Time
	out     *outbox
	fd      int // the socket's descriptor, -1 if unknown (CLIENT LIST)

	resp3      atomic.Bool
	lastActive atomic.Int64 // unix nanoseconds
	inBuffered atomic.Int64 // request bytes read but not yet parsed (INFO, CLIENT LIST qbuf)
	inPeak     atomic.Int64 // most request bytes ever buffered (CLIENT LIST rbp)

	mu       sync.Mutex
	name     string
	libName  string
	libVer   string
	user     string
	lastCmd  string
	tracking bool

	// reader
	batch           []byte // replies not yet written; flushed before the reader may block
	authenticated   bool
	replyOff        bool
	skipReplies     int // CLIENT REPLY SKIP: replies still to drop, this one included
	closeAfterReply bool
}

func newClient(id int64, nc net.Conn, authenticated bool) *client {
	now := time.Now()
	c := &client{
		id:            id,
		nc:            nc,
		addr:          addrString(nc.RemoteAddr()),
		laddr:         addrString(nc.LocalAddr()),
		created:       now,
		out:           newOutbox(),
		fd:            connFD(nc),
		user:          "default",
		authenticated: authenticated,
	}
	c.lastActive.Store(now.UnixNano())
	return c
}

// connFD finds the descriptor under nc and the wrappers that expose what
// they wrap (NetConn, as tls.Conn and the gossip demultiplexer do).
func connFD(nc net.Conn) int {
	for {
		if sc, ok := nc.(syscall.Conn); ok {
			raw, err := sc.SyscallConn()
			if err != nil {
				return -1
			}
			fd := -1
			_ = raw.Control(func(f uintptr) { fd = int(f) })
			return fd
		}
		w, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			return -1
		}
		nc = w.NetConn()
	}
}

// bufferedIn records how many request bytes are buffered after a read.
func (c *client) bufferedIn(n int) {
	c.inBuffered.Store(int64(n))
	if int64(n) > c.inPeak.Load() { // only the reader goroutine writes
		c.inPeak.Store(int64(n))
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func (c *client) kill() {
	c.out.kill()
	_ = c.nc.Close()
}

func (c *client) userName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

// describe renders one CLIENT LIST line (without the trailing newline), in
// Redis 7.0's fields in its order, then Redis 7.2's lib-name and lib-ver.
func (c *client) describe(s *Server, now time.Time) string {
	channels, patterns := s.ps.counts(c)
	c.mu.Lock()
	name, user, cmd, libName, libVer, tracking := c.name, c.user, c.lastCmd, c.libName, c.libVer, c.tracking
	c.mu.Unlock()
	flags := ""
	if channels+patterns > 0 {
		flags += "P"
	}
	if tracking {
		flags += "t"
	}
	if flags == "" {
		flags = "N"
	}
	resp := 2
	if c.resp3.Load() {
		resp = 3
	}
	redir := -1
	if tracking {
		redir = 0
	}
	if cmd == "" {
		cmd = "NULL"
	}
	idle := now.Sub(time.Unix(0, c.lastActive.Load()))
	var b strings.Builder
	field := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	itoa := strconv.Itoa
	field("id", strconv.FormatInt(c.id, 10))
	field("addr", c.addr)
	field("laddr", c.laddr)
	field("fd", itoa(c.fd))
	field("name", name)
	field("age", itoa(int(now.Sub(c.created)/time.Second)))
	field("idle", itoa(int(idle/time.Second)))
	field("flags", flags)
	field("db", "0")
	field("sub", itoa(channels))
	field("psub", itoa(patterns))
	field("ssub", "0")
	// Memory fields as Redis 7.0 has them: the request buffer is a fixed
	// bufio.Reader (rbs), replies have no static buffer or list (obl, oll),
	// and no argv or MULTI state is kept between commands.
	qbuf, omem := int(c.inBuffered.Load()), c.out.pending()
	events := "r"
	if omem > 0 {
		events = "rw"
	}
	field("multi", "-1")
	field("qbuf", itoa(qbuf))
	field("qbuf-free", itoa(readBufferSize-qbuf))
	field("argv-mem", "0")
	field("multi-mem", "0")
	field("rbs", itoa(readBufferSize))
	field("rbp", strconv.FormatInt(c.inPeak.Load(), 10))
	field("obl", "0")
	field("oll", "0")
	field("omem", itoa(omem))
	field("tot-mem", itoa(readBufferSize+omem))
	field("events", events)
	field("cmd", cmd)
	field("user", user)
	field("redir", itoa(redir))
	field("resp", itoa(resp))
	field("lib-name", libName)
	field("lib-ver", libVer)
	return b.String()
}

func sortClients(cs []*client) {
	slices.SortFunc(cs, func(a, b *client) int { return cmp.Compare(a.id, b.id) })
}
