package server

import (
	"strings"

	"github.com/seed877ff415/sentinel/sentinel/glob"
)

func commandCommands() []*command {
	return []*command{
		{name: "count", arity: 2, summary: "Get total number of commands", run: func(s *Server, _ *client, r *reply, _ []string) {
			r.int(int64(len(s.topLevel())))
		}},
		{name: "docs", arity: -2, summary: "Get documentary information about commands", run: (*Server).cmdCommandDocs},
		{name: "getkeys", arity: -4, summary: "Extract keys given a full command", run: (*Server).cmdCommandGetKeys},
		{name: "getkeysandflags", arity: -4, summary: "Extract keys and access flags given a full command", run: (*Server).cmdCommandGetKeys},
		{name: "help", arity: 2, summary: "Show helpful text about the different subcommands", run: func(_ *Server, _ *client, r *reply, _ []string) { helpReply(r, "COMMAND", commandHelp) }},
		{name: "info", arity: -2, summary: "Get array of specific command details", run: (*Server).cmdCommandInfo},
		{name: "list", arity: -2, summary: "Get an array of command names", run: (*Server).cmdCommandList},
	}
}

// topLevel is the listed top-level commands, in table order.
func (s *Server) topLevel() []*command {
	var out []*command
	for _, name := range []string{"acl", "auth", "client", "command", "hello", "info", "ping", "psubscribe",
		"publish", "punsubscribe", "role", "sentinel", "shutdown", "subscribe", "unsubscribe"} {
		out = append(out, s.cmds[name])
	}
	return out
}

// listedCommands is every listed command and subcommand (COMMAND LIST).
func (s *Server) listedCommands() []*command {
	var out []*command
	for _, c := range s.topLevel() {
		out = append(out, c)
		for _, sub := range c.subs {
			if !sub.hidden {
				out = append(out, sub)
			}
		}
	}
	return out
}

// COMMAND LIST [FILTERBY PATTERN p | ACLCAT c | MODULE m]
func (s *Server) cmdCommandList(_ *client, r *reply, a []string) {
	match := func(*command) bool { return true }
	switch {
	case len(a) == 2:
	case len(a) == 5 && strings.EqualFold(a[2], "filterby"):
		arg := a[4]
		switch strings.ToLower(a[3]) {
		case "pattern":
			match = func(c *command) bool { return glob.Match(arg, c.fullName(), true) }
		case "aclcat":
			cat := strings.ToLower(arg)
			match = func(c *command) bool {
				for _, x := range categoriesOf(c) {
					if x == cat {
						return true
					}
				}
				return false
			}
		case "module":
			match = func(*command) bool { return false }
		default:
			r.err("ERR syntax error")
			return
		}
	default:
		r.err("ERR syntax error")
		return
	}
	var names []string
	for _, c := range s.listedCommands() {
		if match(c) {
			names = append(names, c.fullName())
		}
	}
	r.strings(names)
}

// findCommand resolves "name" or "container|sub".
func (s *Server) findCommand(name string) *command {
	top, sub, hasSub := strings.Cut(strings.ToLower(name), "|")
	c := s.cmds[top]
	if c == nil || !hasSub {
		return c
	}
	return c.sub(sub)
}

func (s *Server) cmdCommandInfoAll(_ *client, r *reply, _ []string) {
	cmds := s.topLevel()
	r.array(len(cmds))
	for _, c := range cmds {
		commandInfo(r, c)
	}
}

func (s *Server) cmdCommandInfo(_ *client, r *reply, a []string) {
	if len(a) == 2 {
		s.cmdCommandInfoAll(nil, r, a)
		return
	}
	r.array(len(a) - 2)
	for _, name := range a[2:] {
		if c := s.findCommand(name); c != nil {
			commandInfo(r, c)
		} else {
			r.nullBulk() // Redis' null for an unknown name
		}
	}
}

// commandInfo is Redis 7's 10-element entry: name, arity, flags, first key,
// last key, step, ACL categories, tips, key specs, subcommands.
func commandInfo(r *reply, c *command) {
	r.array(10)
	r.bulk(c.fullName())
	r.int(int64(c.arity))
	meta, known := commandMeta[c.fullName()]
	flags := meta.flags
	if !known {
		if c.flags&flagNoAuth != 0 {
			flags = append(flags, "noauth")
		}
		if c.flags&flagPubsub != 0 {
			flags = append(flags, "pubsub")
		}
	}
	r.setLen(len(flags))
	for _, f := range flags {
		r.status(f)
	}
	r.int(0)
	r.int(0)
	r.int(0)
	cats := categoriesOf(c)
	r.setLen(len(cats))
	for _, cat := range cats {
		r.status("@" + cat)
	}
	r.set(meta.tips)
	r.setLen(0) // key specs: a set in Redis 7.0, as are absent subcommands
	var subs []*command
	for _, sub := range c.subs {
		if !sub.hidden {
			subs = append(subs, sub)
		}
	}
	if len(subs) == 0 {
		r.setLen(0)
		return
	}
	r.array(len(subs))
	for _, sub := range subs {
		commandInfo(r, sub)
	}
}

// COMMAND DOCS [name ...]: Redis' documentation of each, subcommands included.
func (s *Server) cmdCommandDocs(_ *client, r *reply, a []string) {
	var cmds []*command
	if len(a) == 2 {
		cmds = s.topLevel()
	} else {
		for _, name := range a[2:] {
			if c := s.findCommand(name); c != nil {
				cmds = append(cmds, c)
			}
		}
	}
	r.mapLen(len(cmds))
	for _, c := range cmds {
		r.bulk(c.fullName())
		commandDoc(r, c)
	}
}

func commandDoc(r *reply, c *command) {
	if d := commandDocs()[c.fullName()]; d != nil {
		writeDoc(r, d)
		return
	}
	var subs []*command
	for _, sub := range c.subs {
		if !sub.hidden {
			subs = append(subs, sub)
		}
	}
	n := 2
	if len(subs) > 0 {
		n++
	}
	r.mapLen(n)
	r.bulk("summary")
	r.bulk(c.summary)
	r.bulk("group")
	r.bulk(c.group)
	if len(subs) > 0 {
		r.bulk("subcommands")
		r.mapLen(len(subs))
		for _, sub := range subs {
			r.bulk(sub.fullName())
			commandDoc(r, sub)
		}
	}
}

// No command of a sentinel takes keys.
func (s *Server) cmdCommandGetKeys(_ *client, r *reply, a []string) {
	c, errText := s.lookup(a[2:])
	switch {
	case errText != "":
		r.err("ERR Invalid command specified")
	case !c.arityOK(len(a) - 2):
		r.err("ERR Invalid number of arguments specified for command")
	default:
		r.err("ERR The command has no key arguments")
	}
}
