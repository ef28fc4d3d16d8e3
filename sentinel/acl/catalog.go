package acl

import (
	"slices"
	"strings"
)

// Categories are Redis 7.0's ACL categories in its order (ACL CAT), which
// is also the order rules are tried in when a user is described.
var Categories = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
	"transaction", "scripting"}

// Category sets of redis-sentinel 7.0.15 (its COMMAND output).
const (
	catAdmin      = "admin slow dangerous"
	catConnSlow   = "slow connection"
	catConnAdmin  = "admin slow dangerous connection"
	catConnFast   = "fast connection"
	catPubsubSlow = "pubsub slow"
)

// catalog lists every command the sentinel serves, containers before their
// subcommands, with Redis Sentinel's categories. Commands Redis 7.0's
// sentinel lacks (quit, select, the primary aliases) carry the categories
// of their Redis or Valkey counterpart.
var catalog = func() []entry {
	spec := []struct{ name, cats string }{
		{"acl", "slow"},
		{"acl|cat", "slow"}, {"acl|deluser", catAdmin}, {"acl|dryrun", catAdmin}, {"acl|genpass", "slow"},
		{"acl|getuser", catAdmin}, {"acl|help", "slow"}, {"acl|list", catAdmin}, {"acl|load", catAdmin},
		{"acl|log", catAdmin}, {"acl|save", catAdmin}, {"acl|setuser", catAdmin}, {"acl|users", catAdmin},
		{"acl|whoami", "slow"},
		{"auth", catConnFast},
		{"client", "slow"},
		{"client|caching", catConnSlow}, {"client|getname", catConnSlow}, {"client|getredir", catConnSlow},
		{"client|help", catConnSlow}, {"client|id", catConnSlow}, {"client|info", catConnSlow},
		{"client|kill", catConnAdmin}, {"client|list", catConnAdmin}, {"client|no-evict", catConnAdmin},
		{"client|no-touch", "fast connection"}, {"client|pause", catConnAdmin}, {"client|reply", catConnSlow},
		{"client|setinfo", catConnSlow}, {"client|setname", catConnSlow}, {"client|tracking", catConnSlow},
		{"client|trackinginfo", catConnSlow}, {"client|unblock", catConnAdmin}, {"client|unpause", catConnAdmin},
		{"command", catConnSlow},
		{"command|count", catConnSlow}, {"command|docs", catConnSlow}, {"command|getkeys", catConnSlow},
		{"command|getkeysandflags", catConnSlow}, {"command|help", catConnSlow}, {"command|info", catConnSlow},
		{"command|list", catConnSlow},
		{"hello", catConnFast},
		{"info", "slow dangerous"},
		{"ping", catConnFast},
		{"psubscribe", catPubsubSlow},
		{"publish", "pubsub fast"},
		{"punsubscribe", catPubsubSlow},
		{"quit", catConnFast},
		{"role", "admin fast dangerous"},
		{"select", catConnFast},
		{"sentinel", catAdmin},
		{"sentinel|ckquorum", catAdmin}, {"sentinel|config", catAdmin}, {"sentinel|debug", catAdmin},
		{"sentinel|failover", catAdmin}, {"sentinel|flushconfig", catAdmin},
		{"sentinel|get-master-addr-by-name", catAdmin}, {"sentinel|get-primary-addr-by-name", catAdmin},
		{"sentinel|help", "slow"}, {"sentinel|info-cache", catAdmin}, {"sentinel|is-master-down-by-addr", catAdmin},
		{"sentinel|is-primary-down-by-addr", catAdmin}, {"sentinel|master", catAdmin},
		{"sentinel|masters", catAdmin}, {"sentinel|monitor", catAdmin}, {"sentinel|myid", catAdmin},
		{"sentinel|pending-scripts", catAdmin}, {"sentinel|primaries", catAdmin}, {"sentinel|primary", catAdmin},
		{"sentinel|remove", catAdmin}, {"sentinel|replicas", catAdmin}, {"sentinel|reset", catAdmin},
		{"sentinel|sentinels", catAdmin}, {"sentinel|set", catAdmin}, {"sentinel|simulate-failure", catAdmin},
		{"sentinel|slaves", catAdmin},
		{"shutdown", catAdmin},
		{"subscribe", catPubsubSlow},
		{"unsubscribe", catPubsubSlow},
	}
	out := make([]entry, len(spec))
	for i, s := range spec {
		e := entry{name: s.name, parent: -1}
		if top, _, ok := strings.Cut(s.name, "|"); ok {
			e.parent = slices.IndexFunc(out[:i], func(p entry) bool { return p.name == top })
		}
		for _, c := range strings.Fields(s.cats) {
			e.cats |= 1 << slices.Index(Categories, c)
		}
		out[i] = e
	}
	return out
}()

// entry is one command; its index in catalog is its bit in a user's set.
type entry struct {
	name   string // full name: "ping", "sentinel|masters"
	parent int    // index of the container, -1 for a top-level command
	cats   uint32 // bit i: Categories[i]
}

// index maps a full name to its catalog position.
var index = func() map[string]int {
	m := make(map[string]int, len(catalog))
	for i, e := range catalog {
		m[e.name] = i
	}
	return m
}()

// CategoriesOf returns the categories of a command by full name, in
// Categories order; nil for a command the catalog does not know.
func CategoriesOf(fullName string) []string {
	i, ok := index[strings.ToLower(fullName)]
	if !ok {
		return nil
	}
	var out []string
	for j, c := range Categories {
		if catalog[i].cats&(1<<j) != 0 {
			out = append(out, c)
		}
	}
	return out
}

// hasSubs reports whether catalog[i] is a container.
func hasSubs(i int) bool {
	return i+1 < len(catalog) && catalog[i+1].parent == i
}
