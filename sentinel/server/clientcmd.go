package server

import (
	"fmt"
	"strings"
	"time"
)

func clientCommands() []*command {
	onOff := func(_ *Server, _ *client, r *reply, a []string) {
		switch strings.ToLower(a[2]) {
		case "on", "off":
			r.ok() // no keys, nothing to evict or touch
		default:
			r.err("ERR syntax error")
		}
	}
	return []*command{
		{name: "caching", arity: 3, summary: "Instruct the server about tracking the keys in the next request", run: onOffYesNo},
		{name: "getname", arity: 2, summary: "Get the current connection name", run: (*Server).cmdClientGetName},
		{name: "getredir", arity: 2, summary: "Get tracking notifications redirection client ID if any", run: (*Server).cmdClientGetRedir},
		{name: "help", arity: 2, summary: "Show helpful text about the different subcommands", run: func(_ *Server, _ *client, r *reply, _ []string) { helpReply(r, "CLIENT", clientHelp) }},
		{name: "id", arity: 2, summary: "Returns the client ID for the current connection", run: func(_ *Server, c *client, r *reply, _ []string) { r.int(c.id) }},
		{name: "info", arity: 2, summary: "Returns information about the current client connection.", run: func(s *Server, c *client, r *reply, _ []string) {
			r.verbatim(c.describe(s, time.Now()) + "\n")
		}},
		{name: "kill", arity: -3, summary: "Kill the connection of a client", run: (*Server).cmdClientKill},
		{name: "list", arity: -2, summary: "Get the list of client connections", run: (*Server).cmdClientList},
		{name: "no-evict", arity: 3, summary: "Set client eviction mode for the current connection", run: onOff},
		{name: "pause", arity: -3, summary: "Stop processing commands from clients for some time", run: func(_ *Server, _ *client, r *reply, _ []string) {
			r.err("ERR CLIENT PAUSE is not supported by this sentinel")
		}},
		{name: "reply", arity: 3, summary: "Instruct the server whether to reply to commands", run: cmdClientReply},
		{name: "setname", arity: 3, summary: "Set the current connection name", run: func(_ *Server, c *client, r *reply, a []string) {
			if setClientName(c, r, a[2]) {
				r.ok()
			}
		}},
		{name: "tracking", arity: -3, summary: "Enable or disable server assisted client side caching support", run: (*Server).cmdClientTracking},
		{name: "trackinginfo", arity: 2, summary: "Return information about server assisted client side caching for the current connection", run: (*Server).cmdClientTrackingInfo},
		{name: "unblock", arity: -3, summary: "Unblock a client blocked in a blocking command from a different connection", run: func(_ *Server, _ *client, r *reply, _ []string) {
			r.int(0) // no command here ever blocks
		}},
		{name: "unpause", arity: 2, summary: "Resume processing of clients that were paused", run: func(_ *Server, _ *client, r *reply, _ []string) { r.ok() }},
		// Redis 7.2 additions that clients send during their handshake.
		{name: "setinfo", arity: 4, hidden: true, summary: "Set client library name or version", run: cmdClientSetInfo},
		{name: "no-touch", arity: 3, hidden: true, summary: "Set client no-touch mode", run: onOff},
	}
}

func onOffYesNo(_ *Server, _ *client, r *reply, a []string) {
	switch strings.ToLower(a[2]) {
	case "yes", "no":
		r.ok()
	default:
		r.err("ERR syntax error")
	}
}

// validName is Redis' rule for client names and library info.
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

func setClientName(c *client, r *reply, name string) bool {
	if !validName(name) {
		r.err("ERR Client names cannot contain spaces, newlines or special characters.")
		return false
	}
	c.mu.Lock()
	c.name = name
	c.mu.Unlock()
	return true
}

func (s *Server) cmdClientGetName(c *client, r *reply, _ []string) {
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	if name == "" {
		r.nullBulk()
		return
	}
	r.bulk(name)
}

func cmdClientSetInfo(_ *Server, c *client, r *reply, a []string) {
	attr := strings.ToLower(a[2])
	if attr != "lib-name" && attr != "lib-ver" {
		r.err(fmt.Sprintf("ERR Unrecognized option '%s'", a[2]))
		return
	}
	if !validName(a[3]) {
		r.err(fmt.Sprintf("ERR %s cannot contain spaces, newlines or special characters.", attr))
		return
	}
	c.mu.Lock()
	if attr == "lib-name" {
		c.libName = a[3]
	} else {
		c.libVer = a[3]
	}
	c.mu.Unlock()
	r.ok()
}

func cmdClientReply(_ *Server, c *client, r *reply, a []string) {
	switch strings.ToLower(a[2]) {
	case "on":
		c.replyOff = false
		r.ok()
	case "off":
		c.replyOff = true
	case "skip":
		if !c.replyOff {
			c.skipReplies = 2 // this command's (empty) reply and the next one
		}
	default:
		r.err("ERR syntax error")
	}
}

// CLIENT TRACKING ON|OFF [options]: there are no keys to invalidate, so
// tracking is only recorded (rueidis requires the command to succeed).
func (s *Server) cmdClientTracking(c *client, r *reply, a []string) {
	var on bool
	switch strings.ToLower(a[2]) {
	case "on":
		on = true
	case "off":
	default:
		r.err("ERR syntax error")
		return
	}
	for j := 3; j < len(a); j++ {
		switch strings.ToLower(a[j]) {
		case "optin", "optout", "bcast", "noloop":
		case "redirect", "prefix":
			j++
			if j >= len(a) {
				r.err("ERR syntax error")
				return
			}
		default:
			r.err("ERR syntax error")
			return
		}
	}
	c.mu.Lock()
	c.tracking = on
	c.mu.Unlock()
	r.ok()
}

func (s *Server) cmdClientGetRedir(c *client, r *reply, _ []string) {
	c.mu.Lock()
	on := c.tracking
	c.mu.Unlock()
	if on {
		r.int(0)
		return
	}
	r.int(-1)
}

func (s *Server) cmdClientTrackingInfo(c *client, r *reply, _ []string) {
	c.mu.Lock()
	on := c.tracking
	c.mu.Unlock()
	r.mapLen(3)
	r.bulk("flags")
	redir := int64(-1)
	if on {
		r.strings([]string{"on"})
		redir = 0
	} else {
		r.strings([]string{"off"})
	}
	r.bulk("redirect")
	r.int(redir)
	r.bulk("prefixes")
	r.array(0)
}

// CLIENT LIST [TYPE type] [ID id ...]
func (s *Server) cmdClientList(_ *client, r *reply, a []string) {
	var typ string
	var ids []int64
	switch {
	case len(a) == 2:
	case len(a) == 4 && strings.EqualFold(a[2], "type"):
		typ = strings.ToLower(a[3])
		if !validClientType(typ) {
			r.err(fmt.Sprintf("ERR Unknown client type '%s'", a[3]))
			return
		}
	case len(a) >= 4 && strings.EqualFold(a[2], "id"):
		for _, v := range a[3:] {
			id, ok := parseInt(v)
			if !ok || id <= 0 {
				r.err("ERR Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
	default:
		r.err("ERR syntax error")
		return
	}
	now := time.Now()
	var b strings.Builder
	for _, other := range s.clientList() {
		if typ != "" && s.clientType(other) != typ {
			continue
		}
		if ids != nil && !containsID(ids, other.id) {
			continue
		}
		b.WriteString(other.describe(s, now))
		b.WriteByte('\n')
	}
	r.verbatim(b.String())
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func validClientType(t string) bool {
	switch t {
	case "normal", "master", "replica", "slave", "pubsub":
		return true
	}
	return false
}

// clientType is "pubsub" while subscribed, else "normal": no client of a
// sentinel is a master or a replica link.
func (s *Server) clientType(c *client) string {
	if s.subscribed(c) {
		return "pubsub"
	}
	return "normal"
}

// CLIENT KILL addr:port | CLIENT KILL [ID id] [ADDR a] [LADDR a] [TYPE t]
// [USER u] [SKIPME yes|no] ...
func (s *Server) cmdClientKill(c *client, r *reply, a []string) {
	if len(a) == 3 {
		for _, other := range s.clientList() {
			if other.addr == a[2] {
				s.killClient(c, other)
				r.ok()
				return
			}
		}
		r.err("ERR No such client")
		return
	}
	if len(a)%2 != 0 {
		r.err("ERR syntax error")
		return
	}
	var f struct {
		id               int64
		addr, laddr, typ string
		user             string
		skipMe           bool
	}
	f.skipMe = true
	for j := 2; j < len(a); j += 2 {
		v := a[j+1]
		switch strings.ToLower(a[j]) {
		case "id":
			id, ok := parseInt(v)
			if !ok || id <= 0 {
				r.err("ERR client-id should be greater than 0")
				return
			}
			f.id = id
		case "addr":
			f.addr = v
		case "laddr":
			f.laddr = v
		case "type":
			f.typ = strings.ToLower(v)
			if !validClientType(f.typ) {
				r.err(fmt.Sprintf("ERR Unknown client type '%s'", v))
				return
			}
			if f.typ == "slave" {
				f.typ = "replica"
			}
		case "user":
			if s.acl.get(v) == nil {
				r.err(fmt.Sprintf("ERR No such user '%s'", v))
				return
			}
			f.user = v
		case "skipme":
			switch strings.ToLower(v) {
			case "yes":
				f.skipMe = true
			case "no":
				f.skipMe = false
			default:
				r.err("ERR syntax error")
				return
			}
		default:
			r.err("ERR syntax error")
			return
		}
	}
	killed := 0
	for _, other := range s.clientList() {
		switch {
		case f.id != 0 && other.id != f.id,
			f.addr != "" && other.addr != f.addr,
			f.laddr != "" && other.laddr != f.laddr,
			f.typ != "" && s.clientType(other) != f.typ,
			f.user != "" && other.userName() != f.user,
			f.skipMe && other == c:
			continue
		}
		s.killClient(c, other)
		killed++
	}
	r.int(int64(killed))
}

// killClient closes other now, or c itself after this reply.
func (s *Server) killClient(c, other *client) {
	s.log.Info().Int64("client", other.id).Str("addr", other.addr).Int64("by", c.id).Msg("client killed")
	if other == c {
		c.closeAfterReply = true
		return
	}
	other.kill()
}
