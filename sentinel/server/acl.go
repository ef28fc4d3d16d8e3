package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/seed877ff415/sentinel/sentinel/acl"
)

// userTable holds the ACL users. A stored *acl.User is never mutated:
// SETUSER stores a changed copy, so readers need the lock only to look up.
type userTable struct {
	mu    sync.RWMutex
	users map[string]*acl.User
	// ownDefault: a `user default` line or ACL SETUSER defined the default
	// user; until then it follows requirepass and is not saved, so that a
	// new requirepass in the file still applies after a restart.
	ownDefault bool

	log aclLog
}

// newUserTable starts from the default user Redis creates (on, all keys,
// channels and commands; nopass unless requirepass is set), then the
// configured users, which may replace it.
func newUserTable(requirePass string, configured []*acl.User) *userTable {
	pass := "nopass"
	if requirePass != "" {
		pass = ">" + requirePass
	}
	def, _, _ := acl.NewUser("default").SetRules([]string{"on", pass, "~*", "&*", "+@all"})
	t := &userTable{users: map[string]*acl.User{"default": def}}
	for _, u := range configured {
		t.users[u.Name] = u
		t.ownDefault = t.ownDefault || u.Name == "default"
	}
	return t
}

// defaultOpen reports whether connections start authenticated (the default
// user is enabled and has nopass).
func (t *userTable) defaultOpen() bool {
	d := t.get("default")
	return d != nil && d.Enabled() && d.NoPass()
}

func (t *userTable) check(name, pass string) bool {
	u := t.get(name)
	return u != nil && u.CheckPassword(pass)
}

func (t *userTable) get(name string) *acl.User {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.users[name]
}

// all returns the users sorted by name.
func (t *userTable) all() []*acl.User {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*acl.User, 0, len(t.users))
	for _, u := range t.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *acl.User) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (t *userTable) names() []string {
	var names []string
	for _, u := range t.all() {
		names = append(names, u.Name)
	}
	return names
}

// setUser applies rules to a copy and stores it only if all are valid.
func (t *userTable) setUser(name string, rules []string) error {
	if err := acl.ValidName(name); err != nil {
		return fmt.Errorf("ERR %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.users[name]
	if u == nil {
		u = acl.NewUser(name)
	}
	nu, bad, err := u.SetRules(rules)
	if err != nil {
		return fmt.Errorf("ERR Error in ACL SETUSER modifier '%s': %w", bad, err)
	}
	t.users[name] = nu
	t.ownDefault = t.ownDefault || name == "default"
	return nil
}

// saved returns the users the config file should hold, sorted by name.
func (t *userTable) saved() []*acl.User {
	users := t.all()
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.ownDefault {
		return users
	}
	return slices.DeleteFunc(users, func(u *acl.User) bool { return u.Name == "default" })
}

func (t *userTable) deleteUsers(names []string) (deleted []string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if slices.Contains(names, "default") {
		return nil, errString("ERR The 'default' user cannot be removed")
	}
	for _, n := range names {
		if t.users[n] != nil {
			delete(t.users, n)
			deleted = append(deleted, n)
		}
	}
	return deleted, nil
}

type errString string

func (e errString) Error() string { return string(e) }

// authenticate checks credentials and, on success, marks the client as that
// user. On failure it writes Redis' WRONGPASS error.
func (s *Server) authenticate(c *client, r *reply, name, pass string) bool {
	if !s.acl.check(name, pass) {
		s.authFailed(c, name)
		r.err("WRONGPASS invalid username-password pair or user is disabled.")
		s.logDenial(c, "auth", c.lastCommand(), name)
		return false
	}
	c.authenticated = true
	c.mu.Lock()
	c.user = name
	c.mu.Unlock()
	return true
}

// permitted applies the client's user's command and channel rules, writing
// Redis' NOPERM error when they refuse. AUTH and HELLO always pass, as in
// Redis, so that a restricted connection can switch users.
func (s *Server) permitted(c *client, r *reply, cmd *command, args []string) bool {
	if cmd.flags&flagNoAuth != 0 {
		return true
	}
	name := c.userName()
	u := s.acl.get(name)
	if u == nil || !u.CanRun(cmd.fullName()) {
		s.logDenial(c, "command", cmd.fullName(), name)
		r.err(fmt.Sprintf("NOPERM this user has no permissions to run the '%s' command", cmd.fullName()))
		return false
	}
	var channels []string
	pattern := false
	switch cmd.fullName() {
	case "subscribe":
		channels = args[1:]
	case "psubscribe":
		channels, pattern = args[1:], true
	case "publish":
		channels = args[1:2]
	}
	for _, ch := range channels {
		if !u.CanUseChannel(ch, pattern) {
			s.logDenial(c, "channel", ch, name)
			r.err("NOPERM this user has no permissions to access one of the channels used as arguments")
			return false
		}
	}
	return true
}

func (s *Server) cmdAuth(c *client, r *reply, args []string) {
	switch len(args) {
	case 2:
		if d := s.acl.get("default"); d == nil || d.NoPass() {
			r.err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
		if s.authenticate(c, r, "default", args[1]) {
			r.ok()
		}
	case 3:
		if s.authenticate(c, r, args[1], args[2]) {
			r.ok()
		}
	default:
		r.err("ERR syntax error")
	}
}

func aclCommands() []*command {
	return []*command{
		{name: "cat", arity: -2, summary: "List the ACL categories or the commands inside a category", run: (*Server).cmdACLCat},
		{name: "deluser", arity: -3, summary: "Remove users and disconnect their clients", run: (*Server).cmdACLDelUser},
		{name: "dryrun", arity: -4, summary: "Check whether a user could run a command", run: (*Server).cmdACLDryRun},
		{name: "genpass", arity: -2, summary: "Generate a random password", run: (*Server).cmdACLGenPass},
		{name: "getuser", arity: 3, summary: "Get a user's rules", run: (*Server).cmdACLGetUser},
		{name: "help", arity: 2, summary: "Show helpful text about the different subcommands", run: func(_ *Server, _ *client, r *reply, _ []string) { helpReply(r, "ACL", aclHelp) }},
		{name: "list", arity: 2, summary: "List the users in ACL file format", run: (*Server).cmdACLList},
		{name: "load", arity: 2, summary: "Reload users from the ACL file", run: noACLFile},
		{name: "log", arity: -2, summary: "List recent security events", run: (*Server).cmdACLLog},
		{name: "save", arity: 2, summary: "Save users to the ACL file", run: noACLFile},
		{name: "setuser", arity: -3, summary: "Create or modify a user", run: (*Server).cmdACLSetUser},
		{name: "users", arity: 2, summary: "List user names", run: func(s *Server, _ *client, r *reply, _ []string) { r.strings(s.acl.names()) }},
		{name: "whoami", arity: 2, summary: "Return the current user name", run: func(_ *Server, c *client, r *reply, _ []string) { r.bulk(c.userName()) }},
	}
}

func noACLFile(_ *Server, _ *client, r *reply, _ []string) {
	r.err("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
}

func (s *Server) cmdACLSetUser(c *client, r *reply, args []string) {
	if err := s.acl.setUser(args[2], args[3:]); err != nil {
		r.err(err.Error())
		return
	}
	s.dropRevokedSubscribers(c, args[2])
	s.saveUsers()
	r.ok()
}

// dropRevokedSubscribers disconnects the clients of user name subscribed to
// a channel or pattern the user may no longer use, as Redis 7.0 does.
func (s *Server) dropRevokedSubscribers(self *client, name string) {
	u := s.acl.get(name)
	for _, c := range s.clientList() {
		if c.userName() != name || s.mayKeepSubscriptions(c, u) {
			continue
		}
		if c == self {
			c.closeAfterReply = true
			continue
		}
		c.kill()
	}
}

func (s *Server) mayKeepSubscriptions(c *client, u *acl.User) bool {
	for _, pattern := range []bool{false, true} {
		for _, ch := range s.ps.list(c, pattern) {
			if !u.CanUseChannel(ch, pattern) {
				return false
			}
		}
	}
	return true
}

// saveUsers hands the users to the config rewrite. The change is live
// either way, as in Redis, whose ACL SETUSER never fails on a save.
func (s *Server) saveUsers() {
	if s.opts.SaveUsers == nil {
		return
	}
	if err := s.opts.SaveUsers(s.acl.saved()); err != nil {
		s.log.Error().Err(err).Msg("cannot save ACL users to the config file")
	}
}

// DELUSER disconnects the clients authenticated as the removed users, as
// Redis does (disabling a user with "off" does not).
func (s *Server) cmdACLDelUser(c *client, r *reply, args []string) {
	deleted, err := s.acl.deleteUsers(args[2:])
	if err != nil {
		r.err(err.Error())
		return
	}
	for _, other := range s.clientList() {
		if slices.Contains(deleted, other.userName()) {
			if other == c {
				c.closeAfterReply = true
				continue
			}
			other.kill()
		}
	}
	if len(deleted) > 0 {
		s.saveUsers()
	}
	r.int(int64(len(deleted)))
}

func (s *Server) cmdACLList(_ *client, r *reply, _ []string) {
	users := s.acl.all()
	r.array(len(users))
	for _, u := range users {
		r.bulk(u.Describe())
	}
}

func (s *Server) cmdACLGetUser(_ *client, r *reply, args []string) {
	u := s.acl.get(args[2])
	if u == nil {
		r.nullBulk()
		return
	}
	r.mapLen(6)
	r.bulk("flags")
	r.set(u.Flags())
	r.bulk("passwords")
	r.strings(u.Passwords())
	r.bulk("commands")
	r.bulk(strings.Join(u.CommandRules(), " "))
	r.bulk("keys")
	r.bulk(strings.Join(u.KeyRules(), " "))
	r.bulk("channels")
	r.bulk(strings.Join(u.ChannelRules(), " "))
	r.bulk("selectors")
	r.array(0)
}

func (s *Server) cmdACLDryRun(_ *client, r *reply, args []string) {
	u := s.acl.get(args[2])
	if u == nil {
		r.err(fmt.Sprintf("ERR User '%s' not found", args[2]))
		return
	}
	cmd, _ := s.lookup(args[3:])
	if cmd == nil {
		r.err(fmt.Sprintf("ERR Command '%s' not found", args[3]))
		return
	}
	if !cmd.arityOK(len(args) - 3) {
		r.err(fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.fullName()))
		return
	}
	if cmd.flags&flagNoAuth == 0 && !u.CanRun(cmd.fullName()) {
		r.bulk(fmt.Sprintf("This user has no permissions to run the '%s' command", cmd.fullName()))
		return
	}
	r.ok()
}

func (s *Server) cmdACLGenPass(_ *client, r *reply, args []string) {
	bits := int64(256)
	if len(args) > 2 {
		n, ok := parseInt(args[2])
		if !ok || n <= 0 || n > 4096 || len(args) > 3 {
			r.err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
			return
		}
		bits = n
	}
	chars := (bits + 3) / 4
	buf := make([]byte, (chars+1)/2)
	_, _ = rand.Read(buf) // crypto/rand.Read never fails
	r.bulk(hex.EncodeToString(buf)[:chars])
}

// ACL CAT [category]: the commands listed are those this server lists, in
// its table order (Redis' order is its hash table's).
func (s *Server) cmdACLCat(_ *client, r *reply, args []string) {
	if len(args) == 2 {
		r.strings(acl.Categories)
		return
	}
	cat := strings.ToLower(args[2])
	if !slices.Contains(acl.Categories, cat) {
		r.err(fmt.Sprintf("ERR Unknown category '%s'", args[2]))
		return
	}
	var names []string
	for _, c := range s.listedCommands() {
		if slices.Contains(categoriesOf(c), cat) {
			names = append(names, c.fullName())
		}
	}
	r.strings(names)
}

// categoriesOf returns Redis Sentinel's categories of a command; one the
// ACL catalog lacks gets those its group suggests.
func categoriesOf(c *command) []string {
	if cats := acl.CategoriesOf(c.fullName()); cats != nil {
		return cats
	}
	switch c.group {
	case "pubsub":
		return []string{"pubsub", "slow"}
	case "connection":
		return []string{"slow", "connection"}
	default:
		return []string{"admin", "slow", "dangerous"}
	}
}
