package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

type handler func(s *Server, c *client, r *reply, args []string)

type cmdFlag uint8

const (
	flagNoAuth cmdFlag = 1 << iota // runs before authentication
	flagPubsub                     // allowed in a RESP2 subscribed context
)

// command is one entry of the command table. Containers (ACL, CLIENT,
// COMMAND, SENTINEL) carry their subcommands; COMMAND also runs bare.
type command struct {
	name    string // lowercase; subcommands without the container prefix
	parent  *command
	arity   int // Redis convention: -n means at least n
	flags   cmdFlag
	group   string
	summary string
	run     handler
	subs    []*command
	hidden  bool // accepted but absent from Redis 7.0 sentinel's table (COMMAND COUNT/LIST)
}

func (c *command) fullName() string {
	if c.parent != nil {
		return c.parent.name + "|" + c.name
	}
	return c.name
}

func (c *command) sub(name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (c *command) arityOK(n int) bool {
	if c.arity >= 0 {
		return n == c.arity
	}
	return n >= -c.arity
}

// commandTable is Redis Sentinel 7.0's table (docs/behaviour.md §1: 15 commands, 72 names
// with subcommands) plus a few hidden ones clients send anyway.
func commandTable() map[string]*command {
	top := []*command{
		{name: "acl", arity: -2, group: "server", summary: "A container for Access List Control commands", subs: aclCommands()},
		{name: "auth", arity: -2, flags: flagNoAuth, group: "connection", summary: "Authenticate to the server", run: (*Server).cmdAuth},
		{name: "client", arity: -2, group: "connection", summary: "A container for client connection commands", subs: clientCommands()},
		{name: "command", arity: -1, group: "server", summary: "Get array of command details", run: (*Server).cmdCommandInfoAll, subs: commandCommands()},
		{name: "hello", arity: -1, flags: flagNoAuth, group: "connection", summary: "Handshake with the server", run: (*Server).cmdHello},
		{name: "info", arity: -1, group: "server", summary: "Get information and statistics about the server", run: (*Server).cmdInfo},
		{name: "ping", arity: -1, flags: flagPubsub, group: "connection", summary: "Ping the server", run: (*Server).cmdPing},
		{name: "psubscribe", arity: -2, flags: flagPubsub, group: "pubsub", summary: "Listen for messages published to channels matching the given patterns",
			run: func(s *Server, c *client, r *reply, a []string) { s.cmdSubscribe(c, r, a, true) }},
		{name: "publish", arity: 3, group: "pubsub", summary: "Post a hello message to this sentinel", run: (*Server).cmdPublish},
		{name: "punsubscribe", arity: -1, flags: flagPubsub, group: "pubsub", summary: "Stop listening for messages posted to channels matching the given patterns",
			run: func(s *Server, c *client, r *reply, a []string) { s.cmdUnsubscribe(c, r, a, true) }},
		{name: "role", arity: 1, group: "server", summary: "Return the role of the instance in the context of replication", run: (*Server).cmdRole},
		{name: "sentinel", arity: -2, group: "sentinel", summary: "A container for Sentinel commands", subs: sentinelCommands()},
		{name: "shutdown", arity: -1, group: "server", summary: "Shut down the sentinel", run: (*Server).cmdShutdown},
		{name: "subscribe", arity: -2, flags: flagPubsub, group: "pubsub", summary: "Listen for messages published to the given channels",
			run: func(s *Server, c *client, r *reply, a []string) { s.cmdSubscribe(c, r, a, false) }},
		{name: "unsubscribe", arity: -1, flags: flagPubsub, group: "pubsub", summary: "Stop listening for messages posted to the given channels",
			run: func(s *Server, c *client, r *reply, a []string) { s.cmdUnsubscribe(c, r, a, false) }},
		{name: "quit", arity: -1, flags: flagNoAuth | flagPubsub, hidden: true, group: "connection", summary: "Close the connection", run: (*Server).cmdQuit},
		{name: "select", arity: 2, hidden: true, group: "connection", summary: "Select database 0", run: (*Server).cmdSelect},
	}
	table := make(map[string]*command, len(top))
	for _, c := range top {
		for _, s := range c.subs {
			s.parent = c
			if s.group == "" {
				s.group = c.group
			}
		}
		table[c.name] = c
	}
	return table
}

// lookup resolves the command or returns Redis' dispatcher error.
func (s *Server) lookup(args []string) (*command, string) {
	cmd := s.cmds[strings.ToLower(args[0])]
	if cmd == nil {
		return nil, unknownCommand(args)
	}
	if cmd.subs == nil || len(args) < 2 {
		return cmd, ""
	}
	sub := cmd.sub(strings.ToLower(args[1]))
	if sub == nil {
		return nil, fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", clip(args[1], 128), strings.ToUpper(cmd.name))
	}
	return sub, ""
}

// unknownCommand mirrors Redis' text, trailing space included.
func unknownCommand(args []string) string {
	var b strings.Builder
	for _, a := range args[1:] {
		if b.Len() >= 128 {
			break
		}
		b.WriteString("'" + clip(a, 128-b.Len()) + "' ")
	}
	return fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", clip(args[0], 128), b.String())
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Server) exec(c *client, args []string) {
	s.stats.commands.Add(1)
	c.lastActive.Store(time.Now().UnixNano())
	r := &reply{resp3: c.resp3.Load()}
	cmd, errText := s.lookup(args)
	switch {
	case errText != "":
		r.err(errText)
	case !cmd.arityOK(len(args)):
		r.err(fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.fullName()))
	case cmd.flags&flagNoAuth == 0 && s.authRequired(c):
		r.err("NOAUTH Authentication required.")
	case !s.permitted(c, r, cmd, args):
	case !r.resp3 && cmd.flags&flagPubsub == 0 && s.subscribed(c):
		r.err(fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", cmd.fullName()))
	default:
		c.mu.Lock()
		c.lastCmd = cmd.fullName()
		c.mu.Unlock()
		cmd.run(s, c, r, args)
	}
	s.stats.errors.Add(int64(r.errs))
	if c.skipReplies > 0 {
		c.skipReplies--
		return
	}
	if c.replyOff || len(r.b) == 0 {
		return
	}
	s.send(c, r.b)
}

// send gathers a reply into the client's batch, written by flush before the
// reader next waits for the socket. A subscriber's replies go out at once so
// that they are not overtaken by messages published meanwhile.
func (s *Server) send(c *client, b []byte) {
	c.batch = append(c.batch, b...)
	if len(c.batch) >= 64<<10 || s.subscribed(c) {
		s.flush(c)
	}
}

// flush writes the batch from the reader goroutine when nothing else is
// pending (the common request/reply case), else queues it for the writer.
func (s *Server) flush(c *client) {
	if len(c.batch) == 0 {
		return
	}
	b := c.batch
	c.batch = b[:0] // both paths are done with b when they return
	if !c.out.direct() {
		c.out.reply(b)
		return
	}
	n, err := c.nc.Write(b)
	s.stats.outBytes.Add(int64(n))
	s.stats.writes.Add(1)
	if err != nil {
		c.out.kill()
	}
	c.out.written()
}

func (s *Server) authRequired(c *client) bool {
	return !c.authenticated && !s.acl.defaultOpen()
}

func (s *Server) subscribed(c *client) bool {
	ch, pat := s.ps.counts(c)
	return ch+pat > 0
}

func (s *Server) cmdPing(c *client, r *reply, args []string) {
	if len(args) > 2 {
		r.err("ERR wrong number of arguments for 'ping' command")
		return
	}
	msg := ""
	if len(args) == 2 {
		msg = args[1]
	}
	if !r.resp3 && s.subscribed(c) {
		r.array(2)
		r.bulk("pong")
		r.bulk(msg)
		return
	}
	if len(args) == 2 {
		r.bulk(msg)
		return
	}
	r.status("PONG")
}

// QUIT is gone from Redis 7.2 sentinel, but HAProxy checks still send it and
// some expect +OK.
func (s *Server) cmdQuit(c *client, r *reply, _ []string) {
	r.ok()
	c.closeAfterReply = true
}

// SELECT 0 is accepted because some clients send it on every connection.
func (s *Server) cmdSelect(_ *client, r *reply, args []string) {
	n, ok := parseInt(args[1])
	switch {
	case !ok:
		r.err("ERR value is not an integer or out of range")
	case n != 0:
		r.err("ERR DB index is out of range")
	default:
		r.ok()
	}
}

// HELLO [protover [AUTH user pass] [SETNAME name]] in Redis 7.0's order of
// checks; sentinel mode reports 6 pairs (no role).
func (s *Server) cmdHello(c *client, r *reply, args []string) {
	ver := int64(0)
	next := 1
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		if !ok {
			r.err("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			r.err("NOPROTO unsupported protocol version")
			return
		}
		ver, next = v, 2
	}
	var user, pass, name string
	auth, setName := false, false
	for j := next; j < len(args); j++ {
		more := len(args) - 1 - j
		switch opt := strings.ToLower(args[j]); {
		case opt == "auth" && more >= 2:
			auth, user, pass = true, args[j+1], args[j+2]
			j += 2
		case opt == "setname" && more >= 1:
			setName, name = true, args[j+1]
			j++
		default:
			r.err(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", args[j]))
			return
		}
	}
	if auth && !s.authenticate(c, r, user, pass) {
		return
	}
	if !c.authenticated && !s.acl.defaultOpen() {
		r.err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if setName && !setClientName(c, r, name) {
		return
	}
	if ver != 0 {
		c.resp3.Store(ver == 3)
		r.resp3 = ver == 3
	}
	proto := int64(2)
	if r.resp3 {
		proto = 3
	}
	r.mapLen(6)
	r.bulk("server")
	r.bulk("redis")
	r.bulk("version")
	r.bulk(s.opts.Version)
	r.bulk("proto")
	r.int(proto)
	r.bulk("id")
	r.int(c.id)
	r.bulk("mode")
	r.bulk("sentinel")
	r.bulk("modules")
	r.array(0)
}

func (s *Server) cmdRole(_ *client, r *reply, _ []string) {
	snap := s.opts.Backend.Snapshot()
	r.array(2)
	r.bulk("sentinel")
	r.array(len(snap.Masters))
	for i := range snap.Masters {
		r.bulk(snap.Masters[i].Name)
	}
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: sentinel never saves, so the
// save flags are accepted and ignored. No reply: the connection closes.
func (s *Server) cmdShutdown(c *client, r *reply, args []string) {
	for _, a := range args[1:] {
		switch strings.ToLower(a) {
		case "nosave", "save", "now", "force":
		case "abort":
			r.err("ERR No shutdown in progress.")
			return
		default:
			r.err("ERR syntax error")
			return
		}
	}
	if s.opts.Shutdown == nil {
		r.err("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	s.log.Warn().Int64("client", c.id).Str("addr", c.addr).Msg("SHUTDOWN requested by client")
	c.closeAfterReply = true
	// Shutdown usually ends in Close, which waits for this very goroutine.
	go s.opts.Shutdown()
}

func (s *Server) cmdPublish(_ *client, r *reply, args []string) {
	if args[1] != "__sentinel__:hello" {
		r.err("ERR Only HELLO messages are accepted by Sentinel instances.")
		return
	}
	s.opts.Backend.Hello(args[2])
	r.int(1)
}

// parseInt accepts what Redis' string2ll accepts: an optional '-', no '+',
// no leading zeros, no spaces.
func parseInt(s string) (int64, bool) {
	if s == "" || len(s) > 20 || s[0] == '+' || (len(s) > 1 && s[0] == '0') || strings.HasPrefix(s, "-0") {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
