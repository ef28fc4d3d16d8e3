package server

import (
	"strconv"

	"github.com/tidwall/redcon"
)

// reply accumulates one complete reply so that it reaches the socket in a
// single write. redcon encodes the RESP2 types; RESP3-only types are written
// raw.
type reply struct {
	b     []byte
	resp3 bool
	errs  int
}

func (r *reply) ok()             { r.b = redcon.AppendOK(r.b) }
func (r *reply) status(s string) { r.b = redcon.AppendString(r.b, s) }
func (r *reply) int(n int64)     { r.b = redcon.AppendInt(r.b, n) }
func (r *reply) bulk(s string)   { r.b = redcon.AppendBulkString(r.b, s) }
func (r *reply) bulkInt(n int64) { r.b = redcon.AppendBulkInt(r.b, n) }
func (r *reply) array(n int)     { r.b = redcon.AppendArray(r.b, n) }

// err writes an error; text is the full Redis error without the leading '-',
// e.g. "ERR syntax error" or "NOGOODSLAVE No suitable replica to promote".
func (r *reply) err(text string) {
	r.errs++
	r.b = redcon.AppendError(r.b, text)
}

// mapLen starts a map of n pairs: %n in RESP3, a flat array of 2n in RESP2.
func (r *reply) mapLen(n int) {
	if r.resp3 {
		r.b = appendHeader(r.b, '%', n)
		return
	}
	r.array(2 * n)
}

// setLen starts a set of n: ~n in RESP3, an array in RESP2.
func (r *reply) setLen(n int) {
	if r.resp3 {
		r.b = appendHeader(r.b, '~', n)
		return
	}
	r.array(n)
}

// set writes a set of bulk strings.
func (r *reply) set(ss []string) {
	r.setLen(len(ss))
	for _, s := range ss {
		r.bulk(s)
	}
}

// push starts an out-of-band message: >n in RESP3, an array in RESP2.
func (r *reply) push(n int) {
	if r.resp3 {
		r.b = appendHeader(r.b, '>', n)
		return
	}
	r.array(n)
}

// nullBulk and nullArray are both "_" in RESP3.
func (r *reply) nullBulk() {
	if r.resp3 {
		r.b = append(r.b, "_\r\n"...)
		return
	}
	r.b = redcon.AppendNull(r.b)
}

func (r *reply) nullArray() {
	if r.resp3 {
		r.b = append(r.b, "_\r\n"...)
		return
	}
	r.b = append(r.b, "*-1\r\n"...)
}

// verbatim is how Redis returns CLIENT LIST and CLIENT INFO text: "=" with a "txt:"
// prefix in RESP3, a bulk string in RESP2.
func (r *reply) verbatim(s string) {
	if !r.resp3 {
		r.bulk(s)
		return
	}
	r.b = appendHeader(r.b, '=', len(s)+4)
	r.b = append(r.b, "txt:"...)
	r.b = append(r.b, s...)
	r.b = append(r.b, '\r', '\n')
}

// pairs writes a map whose values are all bulk strings (instance maps).
func (r *reply) pairs(kv []kv) {
	r.mapLen(len(kv))
	for _, p := range kv {
		r.bulk(p.k)
		r.bulk(p.v)
	}
}

// strings writes an array of bulk strings.
func (r *reply) strings(ss []string) {
	r.array(len(ss))
	for _, s := range ss {
		r.bulk(s)
	}
}

type kv struct{ k, v string }

func appendHeader(b []byte, typ byte, n int) []byte {
	b = append(b, typ)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}
