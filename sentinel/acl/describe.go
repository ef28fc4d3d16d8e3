package acl

import "strings"

// Flags are the user's flags in Redis' order (ACL GETUSER flags).
func (u *User) Flags() []string {
	f := []string{"off"}
	if u.enabled {
		f[0] = "on"
	}
	if u.nopass {
		f = append(f, "nopass")
	}
	switch u.sanitize {
	case skipSanitizePayload:
		f = append(f, "skip-sanitize-payload")
	case sanitizePayload:
		f = append(f, "sanitize-payload")
	}
	return f
}

// KeyRules are the key patterns as ACL GETUSER shows them.
func (u *User) KeyRules() []string {
	if u.allKeys {
		return []string{"~*"}
	}
	return append([]string(nil), u.keys...)
}

// ChannelRules are the channel patterns as ACL GETUSER shows them.
func (u *User) ChannelRules() []string {
	if u.allChans {
		return []string{"&*"}
	}
	out := make([]string, len(u.chans))
	for i, c := range u.chans {
		out[i] = "&" + c
	}
	return out
}

// Rules renders u as the rules that recreate it from NewUser, in the order
// of Redis' ACL LIST: flags, password hashes, keys, channels, commands.
func (u *User) Rules() []string {
	out := u.Flags()
	for _, p := range u.passwords {
		out = append(out, "#"+p)
	}
	out = append(out, u.KeyRules()...)
	if !u.allChans {
		out = append(out, "resetchannels")
	}
	out = append(out, u.ChannelRules()...)
	return append(out, u.CommandRules()...)
}

// Describe is the ACL LIST line.
func (u *User) Describe() string {
	return "user " + u.Name + " " + strings.Join(u.Rules(), " ")
}

// CommandRules describes the command set the way Redis 7.0 does: start
// from +@all (when future commands are allowed) or -@all, greedily apply
// the category that best fits what is left, then fix single commands.
// Rules of a selector may be lost this way in Redis too; the set is exact.
func (u *User) CommandRules() []string {
	var rules []string
	var fake bits
	additive := !u.future
	if u.future {
		rules = append(rules, "+@all")
		fake = allBits()
	} else {
		rules = append(rules, "-@all")
	}
	temp := u.cmds
	applied := make([]bool, len(Categories))
	for {
		best, minDiff, maxSame := -1, int(^uint(0)>>1), 0
		for j := range Categories {
			if applied[j] {
				continue
			}
			on, off := temp.count(j)
			diff, same := off, on
			if !additive {
				diff, same = on, off
			}
			if same > diff && (diff < minDiff || diff == minDiff && same > maxSame) {
				best, minDiff, maxSame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		sign := "-@"
		if additive {
			sign = "+@"
		}
		rules = append(rules, sign+Categories[best])
		fake.setCategory(best, additive)
		temp.setCategory(best, !additive)
		applied[best] = true
	}
	for i, e := range catalog {
		if want := u.cmds.has(i); want != fake.has(i) {
			sign := "-"
			if want {
				sign = "+"
			}
			rules = append(rules, sign+e.name)
			fake.change(i, want)
		}
	}
	return rules
}
