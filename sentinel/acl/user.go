package acl

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/seed877ff415/sentinel/sentinel/glob"
)

// bits is a set of catalog indices.
type bits [2]uint64

func (b *bits) set(i int, v bool) {
	if v {
		b[i/64] |= 1 << (i % 64)
	} else {
		b[i/64] &^= 1 << (i % 64)
	}
}

func (b bits) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

// Payload sanitisation flags: Redis keeps and reports them although a
// sentinel has no RESTORE to sanitise.
const (
	sanitizeUnset = iota
	sanitizePayload
	skipSanitizePayload
)

// User is one ACL user with Redis 7.0's root-selector rules. A User stored
// in a Users is never mutated: changes apply to a Clone.
type User struct {
	Name      string
	enabled   bool
	nopass    bool
	sanitize  int
	passwords []string // sha256 hex, in insertion order
	allKeys   bool
	keys      []string // as rendered: "~p", "%R~p", "%W~p"
	allChans  bool
	chans     []string
	future    bool // +@all: commands unknown to the catalog are allowed too
	cmds      bits
}

// NewUser is a user as ACL SETUSER or a `user` line creates it: off, no
// password, no keys, no channels (acl-pubsub-default resetchannels), no
// commands.
func NewUser(name string) *User { return &User{Name: name} }

// Clone returns a deep copy.
func (u *User) Clone() *User {
	c := *u
	c.passwords = slices.Clone(u.passwords)
	c.keys = slices.Clone(u.keys)
	c.chans = slices.Clone(u.chans)
	return &c
}

// ValidName checks a user name as Redis does.
func ValidName(name string) error {
	if strings.ContainsAny(name, " \x00") {
		return errors.New("Usernames can't contain spaces or null characters")
	}
	return nil
}

// HashPassword is the form passwords are kept and shown in.
func HashPassword(p string) string {
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:])
}

// SetRules applies rules in order to a copy of u and returns it; on the
// first bad rule it returns Redis' message for it and the rule.
func (u *User) SetRules(rules []string) (*User, string, error) {
	c := u.Clone()
	for _, r := range rules {
		if err := c.apply(r); err != nil {
			return nil, r, err
		}
	}
	return c, "", nil
}

// Redis 7.0's messages (ACLSetUserStringError).
var (
	errSyntax         = errors.New("Syntax error")
	errUnknownCommand = errors.New("Unknown command or category name in ACL")
	errBadHash        = errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
	errNoSuchPass     = errors.New("The password you are trying to remove from the user does not exist")
	errKeyAfterAll    = errors.New("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
	errChanAfterAll   = errors.New("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
	errSelectors      = errors.New("Selectors are not supported by this sentinel")
	errFirstArg       = errors.New("Allowing first-arg of a command is not supported by this sentinel: use a subcommand of a container")
)

func (u *User) apply(rule string) error {
	lr := strings.ToLower(rule)
	switch lr {
	case "on":
		u.enabled = true
	case "off":
		u.enabled = false
	case "nopass":
		u.nopass, u.passwords = true, nil
	case "resetpass":
		u.nopass, u.passwords = false, nil
	case "sanitize-payload":
		u.sanitize = sanitizePayload
	case "skip-sanitize-payload":
		u.sanitize = skipSanitizePayload
	case "allkeys", "~*":
		u.allKeys, u.keys = true, nil
	case "resetkeys":
		u.allKeys, u.keys = false, nil
	case "allchannels", "&*":
		u.allChans, u.chans = true, nil
	case "resetchannels":
		u.allChans, u.chans = false, nil
	case "allcommands", "+@all":
		u.future = true
		u.cmds = allBits()
	case "nocommands", "-@all":
		u.future = false
		u.cmds = bits{}
	case "clearselectors":
	case "reset":
		*u = User{Name: u.Name, sanitize: sanitizePayload}
	default:
		return u.applyPattern(rule)
	}
	return nil
}

func (u *User) applyPattern(rule string) error {
	switch {
	case rule == "":
		return errSyntax
	case rule[0] == '>':
		u.addHash(HashPassword(rule[1:]))
	case rule[0] == '#':
		if !validHash(rule[1:]) {
			return errBadHash
		}
		u.addHash(rule[1:])
	case rule[0] == '<' || rule[0] == '!':
		h := rule[1:]
		if rule[0] == '<' {
			h = HashPassword(h)
		} else if !validHash(h) {
			return errBadHash
		}
		i := slices.Index(u.passwords, h)
		if i < 0 {
			return errNoSuchPass
		}
		u.passwords = slices.Delete(u.passwords, i, i+1)
		if len(u.passwords) == 0 {
			u.passwords = nil // the same user as one that never had a password
		}
	case rule[0] == '~' || rule[0] == '%':
		return u.addKeyPattern(rule)
	case rule[0] == '&':
		if u.allChans {
			return errChanAfterAll
		}
		if !slices.Contains(u.chans, rule[1:]) {
			u.chans = append(u.chans, rule[1:])
		}
	case rule[0] == '(' || rule[0] == ')':
		return errSelectors
	case rule[0] == '+' || rule[0] == '-':
		return u.applyCommand(rule[1:], rule[0] == '+')
	default:
		return errSyntax
	}
	return nil
}

// addKeyPattern keeps key patterns so they render back: a sentinel has no
// keys, so they restrict nothing.
func (u *User) addKeyPattern(rule string) error {
	pat := rule
	if rule[0] == '%' {
		perm, p, ok := strings.Cut(rule[1:], "~")
		perm = strings.ToUpper(perm)
		if !ok || perm == "" || strings.Trim(perm, "RW") != "" {
			return errSyntax
		}
		switch {
		case strings.Contains(perm, "R") && strings.Contains(perm, "W"):
			pat = "~" + p
		default:
			pat = "%" + perm[:1] + "~" + p
		}
	}
	if u.allKeys {
		return errKeyAfterAll
	}
	if pat == "~*" {
		u.allKeys, u.keys = true, nil
		return nil
	}
	if !slices.Contains(u.keys, pat) {
		u.keys = append(u.keys, pat)
	}
	return nil
}

func (u *User) applyCommand(name string, allow bool) error {
	if strings.HasPrefix(name, "@") {
		j := slices.Index(Categories, strings.ToLower(name[1:]))
		if j < 0 {
			return errUnknownCommand
		}
		u.cmds.setCategory(j, allow)
		return nil
	}
	i, ok := index[strings.ToLower(name)]
	if !ok {
		if top, _, sub := strings.Cut(name, "|"); sub {
			if t, known := index[strings.ToLower(top)]; known && !hasSubs(t) {
				return errFirstArg
			}
		}
		return errUnknownCommand
	}
	u.cmds.change(i, allow)
	return nil
}

// change sets a command, and for a container all its subcommands.
func (b *bits) change(i int, v bool) {
	b.set(i, v)
	for j := i + 1; j < len(catalog) && catalog[j].parent == i; j++ {
		b.set(j, v)
	}
}

func (b *bits) setCategory(cat int, v bool) {
	for i, e := range catalog {
		if e.cats&(1<<cat) != 0 {
			b.change(i, v)
		}
	}
}

// count returns how many commands of a category are on and off in b.
func (b bits) count(cat int) (on, off int) {
	for i, e := range catalog {
		if e.cats&(1<<cat) != 0 {
			if b.has(i) {
				on++
			} else {
				off++
			}
		}
	}
	return on, off
}

func allBits() bits {
	var b bits
	for i := range catalog {
		b.set(i, true)
	}
	return b
}

func (u *User) addHash(h string) {
	u.nopass = false
	if !slices.Contains(u.passwords, h) {
		u.passwords = append(u.passwords, h)
	}
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Enabled reports the on flag.
func (u *User) Enabled() bool { return u.enabled }

// NoPass reports whether any password authenticates the user.
func (u *User) NoPass() bool { return u.nopass }

// Passwords are the sha256 hex hashes, in insertion order.
func (u *User) Passwords() []string { return slices.Clone(u.passwords) }

// CheckPassword reports whether pass authenticates u (on, and nopass or a
// matching password), in time independent of which password matched.
func (u *User) CheckPassword(pass string) bool {
	if !u.enabled {
		return false
	}
	if u.nopass {
		return true
	}
	h := []byte(HashPassword(pass))
	ok := 0
	for _, p := range u.passwords {
		ok |= subtle.ConstantTimeCompare([]byte(p), h)
	}
	return ok == 1
}

// CanRun reports whether u may run the command with this full name.
// Commands outside the catalog need +@all, like Redis' future commands.
func (u *User) CanRun(fullName string) bool {
	i, ok := index[fullName]
	if !ok {
		return u.future
	}
	return u.cmds.has(i)
}

// CanUseChannel reports whether u may SUBSCRIBE or PUBLISH to channel;
// with pattern (PSUBSCRIBE) the pattern must be one u was given, as in Redis.
func (u *User) CanUseChannel(channel string, pattern bool) bool {
	if u.allChans {
		return true
	}
	for _, p := range u.chans {
		if pattern && p == channel || !pattern && glob.Match(p, channel, false) {
			return true
		}
	}
	return false
}
