package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// acl holds the password users. Every enabled user may run every command:
// the sentinel has no keys, and per-command rules are refused rather than
// silently ignored.
type acl struct {
	mu    sync.RWMutex
	users map[string]*user
}

// user is replaced, never mutated, once stored in acl.users.
type user struct {
	name      string
	enabled   bool
	nopass    bool
	passwords []string // sha256 hex, in insertion order
}

func newACL(requirePass string) *acl {
	def := &user{name: "default", enabled: true, nopass: requirePass == ""}
	if requirePass != "" {
		def.passwords = []string{hashPassword(requirePass)}
	}
	return &acl{users: map[string]*user{"default": def}}
}

func hashPassword(p string) string {
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:])
}

// defaultOpen reports whether connections start authenticated (the default
// user is enabled and has nopass).
func (a *acl) defaultOpen() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	d := a.users["default"]
	return d != nil && d.enabled && d.nopass
}

func (a *acl) check(name, pass string) bool {
	a.mu.RLock()
	u := a.users[name]
	a.mu.RUnlock()
	if u == nil || !u.enabled {
		return false
	}
	if u.nopass {
		return true
	}
	h := hashPassword(pass)
	for _, p := range u.passwords {
		if subtle.ConstantTimeCompare([]byte(p), []byte(h)) == 1 {
			return true
		}
	}
	return false
}

func (a *acl) get(name string) *user {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.users[name]
}

func (a *acl) names() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	names := make([]string, 0, len(a.users))
	for n := range a.users {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// setUser applies rules to a copy and stores it only if all are valid.
func (a *acl) setUser(name string, rules []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := &user{name: name}
	if old := a.users[name]; old != nil {
		cp := *old
		cp.passwords = slices.Clone(old.passwords)
		u = &cp
	}
	for _, rule := range rules {
		if err := u.apply(rule); err != nil {
			return fmt.Errorf("ERR Error in ACL SETUSER modifier '%s': %s", rule, err.Error())
		}
	}
	a.users[name] = u
	return nil
}

func (u *user) apply(rule string) error {
	switch lr := strings.ToLower(rule); {
	case lr == "on":
		u.enabled = true
	case lr == "off":
		u.enabled = false
	case lr == "nopass":
		u.nopass, u.passwords = true, nil
	case lr == "resetpass":
		u.nopass, u.passwords = false, nil
	case lr == "reset":
		u.enabled, u.nopass, u.passwords = false, false, nil
	case strings.HasPrefix(rule, ">"):
		u.addHash(hashPassword(rule[1:]))
	case strings.HasPrefix(rule, "#"):
		if !validHash(rule[1:]) {
			return errString("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
		}
		u.addHash(rule[1:])
	case strings.HasPrefix(rule, "<"), strings.HasPrefix(rule, "!"):
		h := rule[1:]
		if rule[0] == '<' {
			h = hashPassword(h)
		}
		i := slices.Index(u.passwords, h)
		if i < 0 {
			return errString("The password you are trying to remove from the user does not exist")
		}
		u.passwords = slices.Delete(u.passwords, i, i+1)
	case slices.Contains([]string{"~*", "allkeys", "%rw~*", "&*", "allchannels", "+@all", "allcommands",
		"resetkeys", "resetchannels", "sanitize-payload", "skip-sanitize-payload"}, lr):
		// Full access is all we grant; key and channel rules have nothing to restrict here.
	default:
		return errString("Syntax error")
	}
	return nil
}

func (u *user) addHash(h string) {
	u.nopass = false
	if !slices.Contains(u.passwords, h) {
		u.passwords = append(u.passwords, h)
	}
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

type errString string

func (e errString) Error() string { return string(e) }

// describe renders an ACL LIST line.
func (u *user) describe() string {
	parts := []string{"user", u.name, "off"}
	if u.enabled {
		parts[2] = "on"
	}
	if u.nopass {
		parts = append(parts, "nopass")
	}
	for _, p := range u.passwords {
		parts = append(parts, "#"+p)
	}
	return strings.Join(append(parts, "~*", "&*", "+@all"), " ")
}

func (a *acl) deleteUsers(names []string) (deleted []string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if slices.Contains(names, "default") {
		return nil, errString("ERR The 'default' user cannot be removed")
	}
	for _, n := range names {
		if a.users[n] != nil {
			delete(a.users, n)
			deleted = append(deleted, n)
		}
	}
	return deleted, nil
}

// authenticate checks credentials and, on success, marks the client as that
// user. On failure it writes Redis' WRONGPASS error.
func (s *Server) authenticate(c *client, r *reply, name, pass string) bool {
	if !s.acl.check(name, pass) {
		s.authFailed(c, name)
		r.err("WRONGPASS invalid username-password pair or user is disabled.")
		return false
	}
	c.authenticated = true
	c.mu.Lock()
	c.user = name
	c.mu.Unlock()
	return true
}

func (s *Server) cmdAuth(c *client, r *reply, args []string) {
	switch len(args) {
	case 2:
		if d := s.acl.get("default"); d == nil || d.nopass {
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

func (s *Server) cmdACLSetUser(_ *client, r *reply, args []string) {
	if err := s.acl.setUser(args[2], args[3:]); err != nil {
		r.err(err.Error())
		return
	}
	r.ok()
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
	r.int(int64(len(deleted)))
}

func (s *Server) cmdACLList(_ *client, r *reply, _ []string) {
	names := s.acl.names()
	r.array(len(names))
	for _, n := range names {
		if u := s.acl.get(n); u != nil {
			r.bulk(u.describe())
		} else {
			r.bulk("user " + n + " off")
		}
	}
}

func (s *Server) cmdACLGetUser(_ *client, r *reply, args []string) {
	u := s.acl.get(args[2])
	if u == nil {
		r.nullBulk()
		return
	}
	flags := []string{"off"}
	if u.enabled {
		flags[0] = "on"
	}
	if u.nopass {
		flags = append(flags, "nopass")
	}
	r.mapLen(6)
	r.bulk("flags")
	r.set(flags)
	r.bulk("passwords")
	r.strings(u.passwords)
	r.bulk("commands")
	r.bulk("+@all")
	r.bulk("keys")
	r.bulk("~*")
	r.bulk("channels")
	r.bulk("&*")
	r.bulk("selectors")
	r.array(0)
}

func (s *Server) cmdACLDryRun(_ *client, r *reply, args []string) {
	if s.acl.get(args[2]) == nil {
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

// aclCategories are Redis' categories; commands of this server by category.
var aclCategories = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
	"transaction", "scripting"}

func (s *Server) cmdACLCat(_ *client, r *reply, args []string) {
	if len(args) == 2 {
		r.strings(aclCategories)
		return
	}
	cat := strings.ToLower(strings.TrimPrefix(args[2], "@"))
	if !slices.Contains(aclCategories, cat) {
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

// categoriesOf derives a command's ACL categories from its group.
func categoriesOf(c *command) []string {
	if m, ok := commandMeta[c.fullName()]; ok {
		return m.categories
	}
	switch c.group {
	case "pubsub":
		return []string{"pubsub", "slow"}
	case "connection":
		return []string{"connection", "fast"}
	default:
		return []string{"admin", "slow", "dangerous"}
	}
}

// ACL LOG: this server keeps no security log; say so rather than pretend the
// log is empty.
func (s *Server) cmdACLLog(_ *client, r *reply, _ []string) {
	r.err("ERR ACL LOG is not kept by this sentinel; authentication failures are in its log")
}
