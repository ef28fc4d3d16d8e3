package server

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/testutil"
)

func TestHello(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	id := strings.TrimSuffix(strings.TrimPrefix(c.do("CLIENT", "ID"), ":"), "\r\n")
	body := "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:%d\r\n$2\r\nid\r\n:" + id +
		"\r\n$4\r\nmode\r\n$8\r\nsentinel\r\n$7\r\nmodules\r\n*0\r\n"
	if got, want := c.do("HELLO"), "*12\r\n"+fmt.Sprintf(body, 2); got != want {
		t.Fatalf("HELLO:\n got %q\nwant %q", got, want)
	}
	if got := c.do("HELLO", "4"); got != "-NOPROTO unsupported protocol version\r\n" {
		t.Fatalf("HELLO 4: %q", got)
	}
	if got := c.do("HELLO", "x"); got != "-ERR Protocol version is not an integer or out of range\r\n" {
		t.Fatalf("HELLO x: %q", got)
	}
	if got := c.do("HELLO", "3", "FOO"); got != "-ERR Syntax error in HELLO option 'FOO'\r\n" {
		t.Fatalf("HELLO option: %q", got)
	}
	if got, want := c.do("HELLO", "3", "SETNAME", "probe"), "%6\r\n"+fmt.Sprintf(body, 3); got != want {
		t.Fatalf("HELLO 3:\n got %q\nwant %q", got, want)
	}
	if got := c.do("CLIENT", "GETNAME"); got != "$5\r\nprobe\r\n" {
		t.Fatalf("name: %q", got)
	}
	if got := c.do("CLIENT", "SETNAME", ""); got != "+OK\r\n" {
		t.Fatalf("clear name: %q", got)
	}
	if got := c.do("CLIENT", "GETNAME"); got != "_\r\n" {
		t.Fatalf("RESP3 null name: %q", got)
	}
	if got, want := c.do("HELLO", "2"), "*12\r\n"+fmt.Sprintf(body, 2); got != want {
		t.Fatalf("back to HELLO 2: %q", got)
	}
}

func TestInlineCommands(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	// sentinel-proxy: LF only, one Read of 256 bytes must hold the whole reply.
	c.send("sentinel get-master-addr-by-name mymaster\n")
	buf := make([]byte, 256)
	n, err := c.nc.Read(buf)
	if err != nil || string(buf[:n]) != "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n" {
		t.Fatalf("inline LF: %q %v", buf[:n], err)
	}
	c.send("PING\r\n\n  \r\nPING \"hello world\"\n")
	if got := c.read(); got != "+PONG\r\n" {
		t.Fatalf("inline CRLF: %q", got)
	}
	if got := c.read(); got != "$11\r\nhello world\r\n" {
		t.Fatalf("quoted inline: %q", got)
	}
	c.send("PING \"open\n")
	if got := c.read(); got != "-ERR Protocol error: unbalanced quotes in request\r\n" || !c.closed() {
		t.Fatalf("unbalanced quotes: %q", got)
	}
}

func TestQuitAndShutdown(t *testing.T) {
	var shutdowns atomic.Int32
	ts := startServer(t, func(o *Options) { o.Shutdown = func() { shutdowns.Add(1) } })
	c := ts.dial(t)
	if got := c.do("QUIT"); got != "+OK\r\n" || !c.closed() {
		t.Fatalf("QUIT: %q", got)
	}
	c = ts.dial(t)
	c.send(encodeCommand("SHUTDOWN", "NOSAVE"))
	if !c.closed() {
		t.Fatal("SHUTDOWN must close the connection without a reply")
	}
	testutil.Eventually(t, 10*time.Second, "Shutdown called", func() bool { return shutdowns.Load() == 1 })
	if got := ts.dial(t).do("SHUTDOWN", "ABORT"); got != "-ERR No shutdown in progress.\r\n" {
		t.Fatalf("SHUTDOWN ABORT: %q", got)
	}
}

func TestAuthAndACL(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.RequirePass = "s3cret" })
	c := ts.dial(t)
	if got := c.do("SENTINEL", "MASTERS"); got != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("before auth: %q", got)
	}
	if got := c.do("HELLO", "3"); !strings.HasPrefix(got, "-NOAUTH HELLO must be called with the client already authenticated") {
		t.Fatalf("HELLO unauthenticated: %q", got)
	}
	if got := c.do("AUTH", "wrong"); got != "-WRONGPASS invalid username-password pair or user is disabled.\r\n" {
		t.Fatalf("wrong pass: %q", got)
	}
	if got := c.do("AUTH", "a", "b", "c"); got != "-ERR syntax error\r\n" {
		t.Fatalf("AUTH arity: %q", got)
	}
	if got := c.do("HELLO", "3", "AUTH", "default", "s3cret"); !strings.HasPrefix(got, "%6\r\n") {
		t.Fatalf("HELLO AUTH: %q", got)
	}
	if got := c.do("ACL", "WHOAMI"); got != "$7\r\ndefault\r\n" {
		t.Fatalf("whoami: %q", got)
	}
	if got := c.do("ACL", "SETUSER", "alice", "on", ">pw", "~*", "+@all"); got != "+OK\r\n" {
		t.Fatalf("setuser: %q", got)
	}
	if got := c.do("ACL", "SETUSER", "bob", "+get"); got != "-ERR Error in ACL SETUSER modifier '+get': Unknown command or category name in ACL\r\n" {
		t.Fatalf("unsupported rule: %q", got)
	}
	if got := c.do("ACL", "USERS"); got != bulks("alice", "default") {
		t.Fatalf("users: %q", got)
	}
	hash := "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4" // sha256("pw")
	if got := c.do("ACL", "LIST"); !strings.Contains(got, "user alice on #"+hash+" ~* resetchannels +@all") {
		t.Fatalf("list: %q", got)
	}
	if got := c.do("ACL", "GENPASS", "32"); len(flat(got)[0]) != 8 {
		t.Fatalf("genpass 32 bits: %q", got)
	}
	if got := c.do("ACL", "GENPASS"); len(flat(got)[0]) != 64 {
		t.Fatalf("genpass: %q", got)
	}
	if got := c.do("ACL", "CAT", "pubsub"); got != bulks("psubscribe", "publish", "punsubscribe", "subscribe", "unsubscribe") {
		t.Fatalf("cat pubsub: %q", got)
	}

	alice := ts.dial(t)
	if got := alice.do("PING"); got != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("alice before auth: %q", got)
	}
	if got := alice.do("AUTH", "alice", "pw"); got != "+OK\r\n" {
		t.Fatalf("alice auth: %q", got)
	}
	if got := alice.do("ACL", "WHOAMI"); got != "$5\r\nalice\r\n" {
		t.Fatalf("alice whoami: %q", got)
	}
	if got := c.do("ACL", "DELUSER", "alice", "ghost"); got != ":1\r\n" {
		t.Fatalf("deluser: %q", got)
	}
	if !alice.closed() {
		t.Fatal("DELUSER must disconnect the user's clients")
	}
	if got := c.do("ACL", "DELUSER", "default"); got != "-ERR The 'default' user cannot be removed\r\n" {
		t.Fatalf("deluser default: %q", got)
	}
	if got := c.do("ACL", "SETUSER", "default", "nopass"); got != "+OK\r\n" {
		t.Fatalf("default nopass: %q", got)
	}
	if got := ts.dial(t).do("AUTH", "x"); got != "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n" {
		t.Fatalf("AUTH without password: %q", got)
	}
}

func TestRequestLimits(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.RequirePass = "pw" })
	c := ts.dial(t)
	c.send("*11\r\n")
	if got := c.read(); got != "-ERR Protocol error: unauthenticated multibulk length\r\n" || !c.closed() {
		t.Fatalf("unauthenticated count: %q", got)
	}
	c = ts.dial(t)
	c.do("AUTH", "pw")
	c.send("*2\r\n$4\r\nPING\r\n$2000000\r\n")
	if got := c.read(); got != "-ERR Protocol error: invalid bulk length\r\n" || !c.closed() {
		t.Fatalf("big bulk: %q", got)
	}
	c = ts.dial(t)
	c.do("AUTH", "pw")
	c.send("*2000000\r\n")
	if got := c.read(); got != "-ERR Protocol error: invalid multibulk length\r\n" || !c.closed() {
		t.Fatalf("big count: %q", got)
	}
	c = ts.dial(t)
	c.send(strings.Repeat("x", 70<<10))
	if got := c.read(); got != "-ERR Protocol error: too big inline request\r\n" || !c.closed() {
		t.Fatalf("big inline: %q", got)
	}
	// Many small bulks that add up to more than 1 MiB.
	c = ts.dial(t)
	c.do("AUTH", "pw")
	c.send("*20\r\n")
	chunk := strings.Repeat("y", 100<<10)
	for range 11 {
		c.send(fmt.Sprintf("$%d\r\n%s\r\n", len(chunk), chunk))
	}
	if got := c.read(); got != "-ERR Protocol error: invalid bulk length\r\n" || !c.closed() {
		t.Fatalf("big total: %q", got)
	}
	if got := ts.dial(t).do("AUTH", "pw"); got != "+OK\r\n" {
		t.Fatalf("server must keep serving: %q", got)
	}
}

func TestClientCommands(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	other := ts.dial(t)
	other.do("CLIENT", "SETNAME", "victim")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLIENT", "SETNAME", "a b"}, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "go-redis(,go1.26)"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "LIB-VER", "9.23.0"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "FOO", "x"}, "-ERR Unrecognized option 'FOO'\r\n"},
		{[]string{"CLIENT", "TRACKING", "ON", "OPTIN"}, "+OK\r\n"},
		{[]string{"CLIENT", "GETREDIR"}, ":0\r\n"},
		{[]string{"CLIENT", "NO-EVICT", "on"}, "+OK\r\n"},
		{[]string{"CLIENT", "NO-TOUCH", "on"}, "+OK\r\n"},
		{[]string{"CLIENT", "REPLY", "ON"}, "+OK\r\n"},
		{[]string{"CLIENT", "KILL", "TYPE", "bogus"}, "-ERR Unknown client type 'bogus'\r\n"},
		{[]string{"CLIENT", "KILL", "USER", "ghost"}, "-ERR No such user 'ghost'\r\n"},
		{[]string{"CLIENT", "KILL", "1.2.3.4:5"}, "-ERR No such client\r\n"},
	} {
		if got := c.do(tc.args...); got != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.args, got, tc.want)
		}
	}
	info := flat(c.do("CLIENT", "INFO"))[0]
	for _, want := range []string{"lib-name=go-redis(,go1.26)", "lib-ver=9.23.0", "flags=t", "cmd=client|info", "user=default", "resp=2"} {
		if !strings.Contains(info, want) {
			t.Errorf("CLIENT INFO %q lacks %q", info, want)
		}
	}
	if list := flat(c.do("CLIENT", "LIST"))[0]; strings.Count(list, "\n") != 2 || !strings.Contains(list, "name=victim") {
		t.Fatalf("CLIENT LIST: %q", list)
	}
	// Skipme defaults to yes: only the other default-user client goes.
	if got := c.do("CLIENT", "KILL", "USER", "default"); got != ":1\r\n" || !other.closed() {
		t.Fatalf("kill user: %q", got)
	}
	testutil.Eventually(t, 10*time.Second, "killed client to be dropped", func() bool { return ts.Clients() == 1 })

	c.send(encodeCommand("CLIENT", "REPLY", "OFF") + encodeCommand("PING") + encodeCommand("CLIENT", "REPLY", "SKIP") +
		encodeCommand("PING", "skipped") + encodeCommand("CLIENT", "REPLY", "ON") + encodeCommand("PING", "back"))
	if got := c.read(); got != "+OK\r\n" {
		t.Fatalf("REPLY ON: %q", got)
	}
	if got := c.read(); got != "$4\r\nback\r\n" {
		t.Fatalf("after REPLY ON: %q", got)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(c.do("CLIENT", "ID"), ":"), "\r\n")
	if got := c.do("CLIENT", "KILL", "ID", id, "SKIPME", "no"); got != ":1\r\n" || !c.closed() {
		t.Fatalf("kill self: %q", got)
	}
}

func TestCloseDisconnectsEveryone(t *testing.T) {
	ts := startServer(t, nil)
	sub := ts.dial(t)
	sub.do("SUBSCRIBE", "+sdown")
	idle := ts.dial(t)
	idle.do("PING")
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if !sub.closed() || !idle.closed() {
		t.Fatal("Close must close client connections")
	}
	if n := ts.Clients(); n != 0 {
		t.Fatalf("%d clients after Close", n)
	}
	if n := ts.Publish("+sdown", "x"); n != 0 {
		t.Fatalf("Publish after Close delivered %d", n)
	}
}

// A reply never waits for bytes the client may never send: each case leaves
// the connection with something (or nothing) still buffered and expects the
// replies to the complete requests at once; rest then completes the frame.
func TestRepliesNeverWaitForMoreInput(t *testing.T) {
	ts := startServer(t, nil)
	cases := []struct {
		name, raw string
		want      []string
		rest      string
		restWant  string
	}{
		{"inline then empty line", "PING\r\n\n", []string{"+PONG\r\n"}, "PING x\n", "$1\r\nx\r\n"},
		{"LF only", "PING\n", []string{"+PONG\r\n"}, "\n\nPING x\n", "$1\r\nx\r\n"},
		{"empty lines then PING", "\n\r\n\nPING\n", []string{"+PONG\r\n"}, "PING x\r\n", "$1\r\nx\r\n"},
		{"multibulk then empty line", encodeCommand("PING") + "\r\n", []string{"+PONG\r\n"}, encodeCommand("PING", "x"), "$1\r\nx\r\n"},
		{"pipelined mix", encodeCommand("PING", "a") + "PING b\r\n" + encodeCommand("PING"),
			[]string{"$1\r\na\r\n", "$1\r\nb\r\n", "+PONG\r\n"}, "PING x\n", "$1\r\nx\r\n"},
		{"complete then half a multibulk", encodeCommand("PING") + "*2\r\n$4\r\nPI", []string{"+PONG\r\n"}, "NG\r\n$1\r\nx\r\n", "$1\r\nx\r\n"},
		{"complete then half an inline", "PING\r\nPING ", []string{"+PONG\r\n"}, "x\r\n", "$1\r\nx\r\n"},
		{"complete then a header only", "PING\n*2\r\n", []string{"+PONG\r\n"}, "$4\r\nPING\r\n$1\r\nx\r\n", "$1\r\nx\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ts.dial(t)
			c.send(tc.raw)
			for _, w := range tc.want {
				if got := c.read(); got != w {
					t.Fatalf("got %q, want %q", got, w)
				}
			}
			c.send(tc.rest)
			if got := c.read(); got != tc.restWant {
				t.Fatalf("after the rest: %q, want %q", got, tc.restWant)
			}
		})
	}
}

// Replies to requests that arrived together leave in one write.
func TestPipelinedRepliesShareOneWrite(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	c.send(strings.Repeat(encodeCommand("PING"), 50))
	want := strings.Repeat("+PONG\r\n", 50)
	buf := make([]byte, 2*len(want))
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.nc.Read(buf); err != nil || string(buf[:n]) != want {
		t.Fatalf("pipelined, one read: %q %v", buf[:n], err)
	}
}
