package server

import (
	"io"
	"net"
	"testing"
	"time"
)

// FuzzServerInput feeds arbitrary bytes to a live connection and checks that
// the server survives and still answers PING on a fresh connection.
func FuzzServerInput(f *testing.F) {
	for _, seed := range []string{
		"PING\r\n",
		"sentinel get-master-addr-by-name mymaster\n",
		"*3\r\n$8\r\nSENTINEL\r\n$6\r\nMASTER\r\n$8\r\nmymaster\r\n",
		"*1\r\n$-2\r\n",
		"*9999999999999\r\n$1\r\na\r\n",
		"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nx\r\n",
		"PSUBSCRIBE [\\\r\nPING \"a\\x\"\r\n",
		"ACL SETUSER default >x\nCLIENT KILL SKIPME no\n",
		"ACL SETUSER default -@all +auth resetchannels &a*\nSUBSCRIBE b\nPSUBSCRIBE a*\nPING\n",
		"*2\r\n$4\r\nPING\r\n$3\r\nabcdef\r\n",
		"PING\r\n\n",
		"PING\r\n*2\r\n$4\r\nPI",
		"*5\r\n$8\r\nSENTINEL\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nannounce-ip\r\n$1\r\nx\r\nINFO everything\r\nCLIENT LIST\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		ts := startServer(t, func(o *Options) { o.Shutdown = func() {} })
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = nc.Close() }()
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = nc.Write(input)
		_ = nc.(*net.TCPConn).CloseWrite()
		// The server answers what it can, then closes on EOF or a protocol error.
		if _, err := io.Copy(io.Discard, nc); err != nil && !isReset(err) {
			t.Fatalf("reading replies: %v", err)
		}
		// The input may have set a password (ACL SETUSER default >x) or taken
		// PING away (-ping): NOAUTH and NOPERM are answers too.
		if got := ts.dial(t).do("PING"); got != "+PONG\r\n" && got != "-NOAUTH Authentication required.\r\n" &&
			got != "-NOPERM this user has no permissions to run the 'ping' command\r\n" {
			t.Fatalf("fresh PING after %q: %q", input, got)
		}
	})
}
