package server

import (
	"strconv"
	"testing"
)

// The transcript parses to its end and documents every listed command, so
// the fallback to our own summary is only for our hidden additions.
func TestCommandDocsTranscriptIsComplete(t *testing.T) {
	root, rest, err := parseDoc(commandDocsRESP3, 0)
	if err != nil || rest != "" || root.typ != '%' {
		t.Fatalf("parse: %v, %d bytes left, type %c", err, len(rest), root.typ)
	}
	var ints func(n *docNode)
	ints = func(n *docNode) {
		if n.typ == ':' {
			if _, err := strconv.ParseInt(n.text, 10, 64); err != nil {
				t.Errorf("integer %q: %v", n.text, err)
			}
		}
		for i := range n.elems {
			ints(&n.elems[i])
		}
	}
	ints(&root)
	s := New(Options{})
	for _, c := range s.listedCommands() {
		if commandDocs()[c.fullName()] == nil {
			t.Errorf("no docs for %s", c.fullName())
		}
	}
}

func TestCommandDocsUnderBothProtocols(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	want2 := "*2\r\n$4\r\nping\r\n*10\r\n$7\r\nsummary\r\n$15\r\nPing the server\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n" +
		"$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n" +
		"*1\r\n*6\r\n$4\r\nname\r\n$7\r\nmessage\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\nflags\r\n*1\r\n+optional\r\n"
	if got := c.do("COMMAND", "DOCS", "PING"); got != want2 {
		t.Fatalf("RESP2:\n got %q\nwant %q", got, want2)
	}
	c.do("HELLO", "3")
	want3 := "%1\r\n$4\r\nping\r\n%5\r\n$7\r\nsummary\r\n$15\r\nPing the server\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n" +
		"$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n" +
		"*1\r\n%3\r\n$4\r\nname\r\n$7\r\nmessage\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\nflags\r\n~1\r\n+optional\r\n"
	if got := c.do("COMMAND", "DOCS", "PING"); got != want3 {
		t.Fatalf("RESP3:\n got %q\nwant %q", got, want3)
	}
}
