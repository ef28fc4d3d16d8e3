package server

import (
	_ "embed" // commanddocs.resp
	"errors"
	"strconv"
	"strings"
	"sync"
)

// commandDocsRESP3 is redis-sentinel 7.0.15's COMMAND DOCS reply under
// RESP3, as it sent it: Redis' documentation of each command (summary,
// since, complexity, arguments, history), which tools such as redis-cli
// read for their hints.
//
//go:embed commanddocs.resp
var commandDocsRESP3 string

// docNode is one value of that reply.
type docNode struct {
	typ   byte // '%', '*', '~', '$', '+' or ':'
	text  string
	elems []docNode // a map's keys and values alternate
}

// commandDocs indexes the transcript by full command name, subcommands
// included. Should it not parse, it is empty and DOCS falls back to the
// summary and group of our own table.
var commandDocs = sync.OnceValue(func() map[string]*docNode {
	out := map[string]*docNode{}
	root, rest, err := parseDoc(commandDocsRESP3, 0)
	if err != nil || rest != "" || root.typ != '%' {
		return out
	}
	var index func(m *docNode)
	index = func(m *docNode) {
		for i := 0; i+1 < len(m.elems); i += 2 {
			doc := &m.elems[i+1]
			out[m.elems[i].text] = doc
			for j := 0; j+1 < len(doc.elems); j += 2 {
				if doc.elems[j].text == "subcommands" {
					index(&doc.elems[j+1])
				}
			}
		}
	}
	index(&root)
	return out
})

var errDocs = errors.New("malformed command docs")

// parseDoc reads one value of the embedded transcript and returns the rest.
func parseDoc(s string, depth int) (docNode, string, error) {
	end := strings.Index(s, "\r\n")
	if end < 1 || depth > 16 {
		return docNode{}, "", errDocs
	}
	n := docNode{typ: s[0], text: s[1:end]}
	rest := s[end+2:]
	switch n.typ {
	case '+', ':':
		return n, rest, nil
	case '$':
		size, err := strconv.Atoi(n.text)
		if err != nil || size < 0 || len(rest) < size+2 {
			return n, "", errDocs
		}
		n.text = rest[:size]
		return n, rest[size+2:], nil
	case '%', '*', '~':
		count, err := strconv.Atoi(n.text)
		if err != nil || count < 0 {
			return n, "", errDocs
		}
		if n.typ == '%' {
			count *= 2
		}
		n.elems = make([]docNode, count)
		for i := range n.elems {
			if n.elems[i], rest, err = parseDoc(rest, depth+1); err != nil {
				return n, "", err
			}
		}
		return n, rest, nil
	}
	return n, "", errDocs
}

// writeDoc writes a transcript value in the client's protocol: under RESP2
// maps become flat arrays and sets arrays, as Redis writes them.
func writeDoc(r *reply, n *docNode) {
	switch n.typ {
	case '%':
		r.mapLen(len(n.elems) / 2)
	case '*':
		r.array(len(n.elems))
	case '~':
		r.setLen(len(n.elems))
	case '+':
		r.status(n.text)
	case ':':
		v, _ := strconv.ParseInt(n.text, 10, 64) // checked when the test parses it
		r.int(v)
	default:
		r.bulk(n.text)
	}
	for i := range n.elems {
		writeDoc(r, &n.elems[i])
	}
}
