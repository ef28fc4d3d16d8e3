package server

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// Redis 7.0's ACL LOG: acllog-max-len entries, newest first; a denial like
// one logged less than a minute ago counts into it.
const (
	aclLogMax   = 128
	aclLogGroup = 60 * time.Second
)

type aclLog struct {
	mu      sync.Mutex
	entries []*aclLogEntry
}

type aclLogEntry struct {
	count                    int64
	reason, object, username string
	created                  time.Time
	clientInfo               string
}

// add records a denial: reason is "auth", "command" or "channel".
func (l *aclLog) add(now time.Time, reason, object, username, clientInfo string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.entries {
		if e.reason == reason && e.object == object && e.username == username && now.Sub(e.created) < aclLogGroup {
			e.count++
			e.created, e.clientInfo = now, clientInfo
			copy(l.entries[1:i+1], l.entries[:i])
			l.entries[0] = e
			return
		}
	}
	e := &aclLogEntry{count: 1, reason: reason, object: object, username: username, created: now, clientInfo: clientInfo}
	l.entries = append([]*aclLogEntry{e}, l.entries[:min(len(l.entries), aclLogMax-1)]...)
}

func (l *aclLog) latest(n int) []aclLogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]aclLogEntry, 0, min(n, len(l.entries)))
	for _, e := range l.entries[:min(n, len(l.entries))] {
		out = append(out, *e)
	}
	return out
}

func (l *aclLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
}

// logDenial adds an entry for c, as its CLIENT LIST line shows it now.
func (s *Server) logDenial(c *client, reason, object, username string) {
	now := time.Now()
	s.acl.log.add(now, reason, object, username, c.describe(s, now))
}

// ACL LOG [count | RESET]
func (s *Server) cmdACLLog(_ *client, r *reply, args []string) {
	n := int64(10)
	switch {
	case len(args) > 3:
		r.err("ERR unknown subcommand or wrong number of arguments for 'log'. Try ACL HELP.")
		return
	case len(args) == 3 && strings.EqualFold(args[2], "reset"):
		s.acl.log.reset()
		r.ok()
		return
	case len(args) == 3:
		v, ok := parseInt(args[2])
		if !ok || v < 0 {
			r.err("ERR value is not an integer or out of range")
			return
		}
		n = v
	}
	now := time.Now()
	entries := s.acl.log.latest(int(min(n, aclLogMax)))
	r.array(len(entries))
	for _, e := range entries {
		r.mapLen(7)
		r.bulk("count")
		r.int(e.count)
		r.bulk("reason")
		r.bulk(e.reason)
		r.bulk("context")
		r.bulk("toplevel")
		r.bulk("object")
		r.bulk(e.object)
		r.bulk("username")
		r.bulk(e.username)
		r.bulk("age-seconds")
		age := strconv.FormatFloat(float64(now.Sub(e.created).Milliseconds())/1000, 'g', 17, 64)
		if r.resp3 {
			r.b = append(r.b, ","+age+"\r\n"...)
		} else {
			r.bulk(age)
		}
		r.bulk("client-info")
		r.bulk(e.clientInfo)
	}
}

func (c *client) lastCommand() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastCmd
}
