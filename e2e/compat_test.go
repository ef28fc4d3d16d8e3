package e2e

import (
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// compatAllowed are the known, deliberate differences from Redis Sentinel
// 7.0.15, each naming the steps it covers. With extra, only those text
// fields of ours are dropped before the full comparison; without, the
// step's differences are logged, not failed. An entry that no longer
// matters fails, so the list only shrinks.
var compatAllowed = []struct {
	steps []string
	extra []string
	why   string
}{
	{[]string{"INFO", "INFO default", "INFO all", "INFO everything", "INFO sentinel", "INFO server sentinel replication", "INFO cpu all"},
		[]string{"sentinel_total_tilt"}, "sentinel_total_tilt, from Redis 8 and Valkey 8.1, which exporters read"},
	{[]string{"CLIENT LIST", "CLIENT INFO"}, []string{"lib-name", "lib-ver"},
		"lib-name and lib-ver at the end of the line, from Redis 7.2: we take CLIENT SETINFO, which 7.2 clients send"},
	{[]string{"SENTINEL CONFIG GET", "SENTINEL CONFIG FOO x"}, nil,
		"usage error names Redis 7.2's forms with several options, which we take"},
	{[]string{"SENTINEL HELP", "CLIENT HELP"}, nil, "help texts: Redis' layout, our wording"},
}

// allowedWhy returns why a step's differences are allowed, if they are.
func allowedWhy(step string) (int, bool) {
	for i, a := range compatAllowed {
		if slices.Contains(a.steps, step) {
			return i, true
		}
	}
	return -1, false
}

// cmpMode says how much of two replies must agree. Types always must, and
// so must aggregate lengths and the names of fields.
type cmpMode int

const (
	exact      cmpMode = iota // every value, after normalisation
	fields                    // the values of the agree keys; the others by type
	infoText                  // INFO text: sections and field names in order, agree values
	clientText                // CLIENT LIST/INFO text: field names in order, agree values
	unordered                 // fields, with the top-level elements in any order (Redis' hash order)
)

// compatStep is one request of the script, sent to both sentinels.
type compatStep struct {
	name  string   // defaults to the command line
	args  []string // a command, or
	raw   string   // bytes sent as they are, answered by n replies
	n     int
	mode  cmpMode
	agree []string
}

func (st compatStep) label() string {
	if st.name != "" {
		return st.name
	}
	return strings.Join(st.args, " ")
}

// TestCompatWithRedisSentinel is the proof of "drop-in": one master and one
// replica are watched by a Debian redis-sentinel and by ours (each sees the
// other as its peer), and the same script of requests, over RESP2 and then
// RESP3, must get the same replies from both: same types, same shapes, same
// field names in the same order, and the same values wherever the two must
// agree. Ports, run ids and ages, which legitimately differ, are normalised
// or compared by type only.
func TestCompatWithRedisSentinel(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("redis-sentinel"); err != nil {
		t.Skipf("redis-sentinel not installed: %v", err)
	}
	o := cluster.Options{Replicas: 1, Sentinels: 2, Quorum: 2, DownAfter: 5 * time.Second, FailoverTimeout: 60 * time.Second}
	g := startGroupWithConf(t, 90*time.Second, o, func(i int) string {
		if i == 0 {
			return cluster.DefaultSentinelCommand
		}
		return ""
	}, nil)
	theirs, ours := g.topo.Sentinels[0], g.topo.Sentinels[1]
	norm := [2]*strings.Replacer{
		normaliser(theirs.Port, g.ids[0], ours.Port, g.ids[1]),
		normaliser(ours.Port, g.ids[1], theirs.Port, g.ids[0]),
	}
	script := compatScript(g.topo.Master.Port, g.topo.Replicas[0].Port)
	used := map[int]bool{}
	for _, proto := range []string{"2", "3"} {
		conns := [2]*respConn{}
		for i, s := range []*cluster.Sentinel{theirs, ours} {
			c, err := dialRESP(s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			conns[i] = c
			if _, err := c.roundTrip(encodeRESP("HELLO", proto), 1); err != nil {
				t.Fatalf("HELLO %s: %v", proto, err)
			}
		}
		for _, st := range script {
			raw, n := st.raw, st.n
			if st.args != nil {
				raw, n = encodeRESP(st.args...), 1
			}
			var replies [2][]respValue
			for i, c := range conns {
				r, err := c.roundTrip(raw, n)
				if err != nil {
					t.Fatalf("RESP%s %s: sentinel %d: %v (got %v)", proto, st.label(), i, err, r)
				}
				replies[i] = normalise(r, norm[i])
			}
			entry, allowed := allowedWhy(st.label())
			if allowed && compatAllowed[entry].extra != nil {
				var dropped bool
				replies[1], dropped = dropTextFields(replies[1], compatAllowed[entry].extra)
				used[entry] = used[entry] || dropped
				allowed = false
			}
			var diffs []string
			for k := range replies[0] {
				diffs = append(diffs, diffReplies(fmt.Sprintf("reply %d", k), replies[0][k], replies[1][k], st)...)
			}
			switch {
			case len(diffs) > 0 && allowed:
				used[entry] = true
				t.Logf("RESP%s %s: allowed (%s): %s", proto, st.label(), compatAllowed[entry].why, strings.Join(diffs, "; "))
			case len(diffs) > 0:
				t.Errorf("RESP%s %s:\n  %s\n  redis-sentinel: %v\n  ours:           %v", proto, st.label(),
					strings.Join(diffs, "\n  "), replies[0], replies[1])
			}
		}
	}
	for i, a := range compatAllowed {
		if !used[i] {
			t.Errorf("allow-list entry %q: no difference any more, remove it", a.why)
		}
	}
}

// dropTextFields removes the named "k:v" lines (INFO) and "k=v" words
// (CLIENT LIST) from text replies, and tells whether there were any.
func dropTextFields(vs []respValue, names []string) ([]respValue, bool) {
	dropped := false
	out := slices.Clone(vs)
	for i, v := range out {
		if v.Elems != nil {
			continue
		}
		for _, n := range names {
			for _, pat := range []string{"\r\n" + n + ":", " " + n + "="} {
				for {
					at := strings.Index(v.Text, pat)
					if at < 0 {
						break
					}
					end := at + len(pat)
					next := strings.IndexAny(v.Text[end:], " \r\n")
					if next < 0 {
						next = len(v.Text) - end
					}
					if pat[0] == '\r' {
						next += 2 // the line's own CRLF, after the value
						at += 2
					}
					v.Text = v.Text[:at] + v.Text[min(end+next, len(v.Text)):]
					dropped = true
				}
			}
		}
		out[i] = v
	}
	return out, dropped
}

// normaliser rewrites one sentinel's own and its peer's port and id to
// placeholders, so that the two sentinels' replies can be compared.
func normaliser(selfPort int, selfID string, peerPort int, peerID string) *strings.Replacer {
	sp, pp := strconv.Itoa(selfPort), strconv.Itoa(peerPort)
	return strings.NewReplacer(selfID, "<self-id>", peerID, "<peer-id>",
		":"+sp, ":<self-port>", ":"+pp, ":<peer-port>", "="+sp, "=<self-port>", "="+pp, "=<peer-port>")
}

func normalise(vs []respValue, r *strings.Replacer) []respValue {
	out := make([]respValue, len(vs))
	for i, v := range vs {
		out[i] = normaliseValue(v, r)
	}
	return out
}

func normaliseValue(v respValue, r *strings.Replacer) respValue {
	v.Text = r.Replace(v.Text)
	if v.Elems == nil {
		return v
	}
	elems := make([]respValue, len(v.Elems))
	for i, e := range v.Elems {
		elems[i] = normaliseValue(e, r)
	}
	// A bare port is a whole value: replace it only as one.
	for i := range elems {
		if elems[i].Elems == nil {
			elems[i].Text = wholePort(elems[i].Text, r)
		}
	}
	v.Elems = elems
	return v
}

// wholePort maps a value that is exactly a normalised port to its
// placeholder (the replacer only knows ports after ':' or '=').
func wholePort(s string, r *strings.Replacer) string {
	if _, err := strconv.Atoi(s); err != nil {
		return s
	}
	if p := r.Replace(":" + s); p != ":"+s {
		return p[1:]
	}
	return s
}

// isPairs tells whether v is a field map: a RESP3 map, or in RESP2 a
// non-empty flat array of bulk strings of even length whose keys look like
// field names.
func isPairs(v respValue) bool {
	if v.Type == '%' {
		return true
	}
	if v.Type != '*' || len(v.Elems) == 0 || len(v.Elems)%2 != 0 {
		return false
	}
	for i, e := range v.Elems {
		if e.Elems != nil || (i%2 == 0 && (e.Type != '$' || !looksLikeName(e.Text))) {
			return false
		}
	}
	return true
}

func looksLikeName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func diffReplies(path string, a, b respValue, st compatStep) []string {
	if st.mode == unordered && a.Type == b.Type {
		switch {
		case a.Type == '%' || namedAggregates(a.Elems):
			a.Elems, b.Elems = sortedPairs(a.Elems), sortedPairs(b.Elems)
		case a.Type == '~' || allAggregates(a.Elems) || path == "reply 0":
			a.Elems, b.Elems = sortedElems(a.Elems), sortedElems(b.Elems)
		}
	}
	if a.Type != b.Type {
		return []string{fmt.Sprintf("%s: type %c vs %c (%v vs %v)", path, a.Type, b.Type, a, b)}
	}
	switch {
	case a.Elems != nil && st.mode == fields && isPairs(a) && isPairs(b):
		return diffPairs(path, a, b, st)
	case a.Elems != nil:
		if len(a.Elems) != len(b.Elems) {
			return []string{fmt.Sprintf("%s: %d elements vs %d (%v vs %v)", path, len(a.Elems), len(b.Elems), a, b)}
		}
		var out []string
		for i := range a.Elems {
			out = append(out, diffReplies(fmt.Sprintf("%s[%d]", path, i), a.Elems[i], b.Elems[i], st)...)
		}
		return out
	case st.mode == infoText:
		return diffText(path, a.Text, b.Text, "\r\n", ":", st)
	case st.mode == clientText:
		return diffText(path, a.Text, b.Text, "\n", "=", st)
	case (st.mode == exact || st.mode == unordered) && a.Text != b.Text:
		return []string{fmt.Sprintf("%s: %c%q vs %q", path, a.Type, a.Text, b.Text)}
	}
	return nil
}

// namedAggregates tells a RESP2 map of names to aggregates (COMMAND DOCS).
func namedAggregates(es []respValue) bool {
	if len(es) == 0 || len(es)%2 != 0 {
		return false
	}
	for i := 0; i < len(es); i += 2 {
		if es[i].Elems != nil || es[i+1].Elems == nil {
			return false
		}
	}
	return true
}

// sortedPairs orders a map's key/value pairs by key.
func sortedPairs(es []respValue) []respValue {
	pairs := make([][2]respValue, 0, len(es)/2)
	for i := 0; i+1 < len(es); i += 2 {
		pairs = append(pairs, [2]respValue{es[i], es[i+1]})
	}
	slices.SortFunc(pairs, func(x, y [2]respValue) int { return strings.Compare(x[0].Text, y[0].Text) })
	out := make([]respValue, 0, len(es))
	for _, p := range pairs {
		out = append(out, p[0], p[1])
	}
	return out
}

func allAggregates(es []respValue) bool {
	for _, e := range es {
		if e.Elems == nil {
			return false
		}
	}
	return len(es) > 0
}

// sortedElems orders elements by their name: an aggregate's first element
// (a COMMAND entry) or the value itself.
func sortedElems(es []respValue) []respValue {
	key := func(v respValue) string {
		if len(v.Elems) > 0 {
			return v.Elems[0].Text
		}
		return v.Text
	}
	out := slices.Clone(es)
	slices.SortFunc(out, func(x, y respValue) int { return strings.Compare(key(x), key(y)) })
	return out
}

func diffPairs(path string, a, b respValue, st compatStep) []string {
	keys := func(v respValue) []string {
		var ks []string
		for i := 0; i < len(v.Elems); i += 2 {
			ks = append(ks, v.Elems[i].Text)
		}
		return ks
	}
	ka, kb := keys(a), keys(b)
	if !slices.Equal(ka, kb) {
		return []string{fmt.Sprintf("%s: fields %v vs %v", path, ka, kb)}
	}
	var out []string
	for i := 0; i < len(a.Elems); i += 2 {
		sub := st
		if !slices.Contains(st.agree, ka[i/2]) {
			sub.mode = fields
		} else {
			sub.mode = exact
		}
		va, vb := a.Elems[i+1], b.Elems[i+1]
		if sub.mode == fields && va.Elems == nil {
			if va.Type != vb.Type {
				out = append(out, fmt.Sprintf("%s.%s: type %c vs %c", path, ka[i/2], va.Type, vb.Type))
			}
			continue
		}
		out = append(out, diffReplies(path+"."+ka[i/2], va, vb, sub)...)
	}
	return out
}

// diffText compares INFO-like text: lines split by sep, "key<kv>value"
// fields (CLIENT lines hold several, space-separated). Names must agree in
// order; values only for the agree keys.
func diffText(path, a, b, sep, kvSep string, st compatStep) []string {
	parse := func(s string) (names []string, vals map[string]string) {
		vals = map[string]string{}
		if kvSep == "=" {
			// CLIENT LIST: the script's own connection, named before.
			for l := range strings.SplitSeq(s, sep) {
				if strings.Contains(l, " name="+compatClientName+" ") {
					s = l
				}
			}
		}
		for l := range strings.SplitSeq(s, sep) {
			if l == "" {
				continue
			}
			if strings.HasPrefix(l, "#") {
				names = append(names, l)
				continue
			}
			for f := range strings.FieldsSeq(l) {
				k, v, _ := strings.Cut(f, kvSep)
				if kvSep == ":" {
					k, v, _ = strings.Cut(l, kvSep)
				}
				names = append(names, k)
				vals[k] = v
				if kvSep == ":" {
					break
				}
			}
			if kvSep == "=" {
				break
			}
		}
		return names, vals
	}
	na, va := parse(a)
	nb, vb := parse(b)
	var out []string
	if !slices.Equal(na, nb) {
		out = append(out, fmt.Sprintf("%s: text fields differ:\n    only redis-sentinel: %v\n    only ours: %v\n    redis-sentinel: %v\n    ours:           %v",
			path, minus(na, nb), minus(nb, na), na, nb))
	}
	for _, k := range st.agree {
		if va[k] != vb[k] {
			out = append(out, fmt.Sprintf("%s: %s=%q vs %q", path, k, va[k], vb[k]))
		}
	}
	return out
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// compatClientName names the script's connection, to find it in CLIENT LIST.
const compatClientName = "compat"

var (
	instanceAgree = []string{"name", "ip", "port", "runid", "flags", "role-reported", "config-epoch", "num-slaves",
		"num-other-sentinels", "quorum", "failover-timeout", "parallel-syncs", "down-after-milliseconds",
		"master-link-status", "master-host", "master-port", "slave-priority", "replica-announced", "voted-leader",
		"voted-leader-epoch"}
	infoAgree = []string{"redis_version", "redis_git_sha1", "redis_git_dirty", "redis_mode", "os", "arch_bits",
		"monotonic_clock", "multiplexing_api", "process_supervised", "tcp_port", "configured_hz", "io_threads_active",
		"cluster_connections", "maxclients", "blocked_clients", "tracking_clients", "clients_in_timeout_table",
		"sentinel_masters", "sentinel_tilt", "sentinel_tilt_since_seconds", "sentinel_running_scripts",
		"sentinel_scripts_queue_length", "sentinel_simulate_failure_flags", "master0", "master1"}
	helloAgree  = []string{"server", "version", "proto", "mode", "role", "modules"}
	clientAgree = []string{"name", "db", "sub", "psub", "ssub", "multi", "cmd", "user", "redir", "resp"}
)

// compatScript covers every SENTINEL subcommand of Redis 7.0, INFO with
// each section, ROLE, CLIENT, COMMAND, HELLO, ACL, CONFIG, inline and
// pipelined framing, and the error paths. It never fails over or resets
// the watched master, so both sentinels stay in the same state throughout.
func compatScript(masterPort, replicaPort int) []compatStep {
	mp, rp := strconv.Itoa(masterPort), strconv.Itoa(replicaPort)
	cmd := func(args ...string) compatStep { return compatStep{args: args} }
	withMode := func(m cmpMode, agree []string, args ...string) compatStep {
		return compatStep{args: args, mode: m, agree: agree}
	}
	steps := []compatStep{
		cmd("PING"), cmd("PING", "hello"), cmd("PING", "a", "b"),
		{name: "inline PING", raw: "PING\r\n", n: 1},
		{name: "inline PING + empty line", raw: "PING\r\n\n", n: 1},
		{name: "inline LF only", raw: "PING x\n", n: 1},
		{name: "pipelined mix", raw: encodeRESP("PING", "a") + "PING b\r\n" + encodeRESP("SENTINEL", "MYID") + "PING\n", n: 4, mode: fields},
		{name: "empty multibulk", raw: "*0\r\n" + encodeRESP("PING"), n: 1},
		cmd("GET", "foo"), cmd("CONFIG", "GET", "port"), cmd("ECHO", "x"), cmd("AUTH", "pw"), cmd("AUTH", "u", "p"),

		withMode(fields, instanceAgree, "SENTINEL", "MASTERS"),
		withMode(fields, instanceAgree, "SENTINEL", "MASTER", "mymaster"),
		cmd("SENTINEL", "MASTER", "nope"), cmd("SENTINEL", "MASTER"),
		withMode(fields, instanceAgree, "SENTINEL", "REPLICAS", "mymaster"),
		withMode(fields, instanceAgree, "SENTINEL", "SLAVES", "mymaster"),
		cmd("SENTINEL", "REPLICAS", "nope"),
		withMode(fields, instanceAgree, "SENTINEL", "SENTINELS", "mymaster"),
		cmd("SENTINEL", "SENTINELS", "nope"),
		cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"), cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nope"),
		cmd("SENTINEL", "CKQUORUM", "mymaster"), cmd("SENTINEL", "CKQUORUM", "nope"),
		cmd("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", mp, "0", "*"),
		cmd("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "port", "0", "*"),
		cmd("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", mp, "x", "*"),
		cmd("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", mp),
		cmd("SENTINEL", "CONFIG", "GET", "*"), cmd("SENTINEL", "CONFIG", "GET", "announce-*"),
		cmd("SENTINEL", "CONFIG", "GET", "nothing"),
		cmd("SENTINEL", "CONFIG", "SET", "announce-port", "0"), cmd("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "no"),
		cmd("SENTINEL", "CONFIG", "SET", "bogus", "1"), cmd("SENTINEL", "CONFIG", "SET", "announce-port", "x"),
		cmd("SENTINEL", "CONFIG", "SET", "announce-hostnames", "maybe"),
		cmd("SENTINEL", "CONFIG", "GET"), cmd("SENTINEL", "CONFIG", "FOO", "x"),
		withMode(fields, nil, "SENTINEL", "DEBUG"),
		cmd("SENTINEL", "DEBUG", "info-period", "10000"), cmd("SENTINEL", "DEBUG", "bogus", "1"),
		cmd("SENTINEL", "DEBUG", "ping-period", "x"),
		withMode(fields, nil, "SENTINEL", "INFO-CACHE", "mymaster"), cmd("SENTINEL", "INFO-CACHE", "nope"),
		withMode(fields, nil, "SENTINEL", "MYID"),
		cmd("SENTINEL", "PENDING-SCRIPTS"),
		cmd("SENTINEL", "SET", "mymaster", "quorum", "2"), cmd("SENTINEL", "SET", "mymaster", "parallel-syncs", "1", "quorum", "2"),
		cmd("SENTINEL", "SET", "nope", "quorum", "1"), cmd("SENTINEL", "SET", "mymaster", "bogus", "1"),
		cmd("SENTINEL", "SET", "mymaster", "quorum", "x"), cmd("SENTINEL", "SET", "mymaster", "quorum"),
		cmd("SENTINEL", "SET", "mymaster", "down-after-milliseconds", "-1"),
		cmd("SENTINEL", "RESET", "nomatch*"), cmd("SENTINEL", "FLUSHCONFIG"),
		cmd("SENTINEL", "FAILOVER", "nope"),
		cmd("SENTINEL", "MONITOR", "m2", "127.0.0.1", rp, "1"), cmd("SENTINEL", "REMOVE", "m2"),
		cmd("SENTINEL", "MONITOR", "mymaster", "127.0.0.1", mp, "1"),
		cmd("SENTINEL", "MONITOR", "m3", "127.0.0.1", "port", "1"), cmd("SENTINEL", "MONITOR", "m3", "127.0.0.1", mp, "0"),
		cmd("SENTINEL", "MONITOR", "m3", "127.0.0.1", mp, "q"), cmd("SENTINEL", "MONITOR", "m3"),
		cmd("SENTINEL", "REMOVE", "nope"),
		cmd("SENTINEL", "SIMULATE-FAILURE", "help"), cmd("SENTINEL", "SIMULATE-FAILURE", "bogus"),
		withMode(fields, nil, "SENTINEL", "HELP"),
		cmd("SENTINEL"), cmd("SENTINEL", "BOGUS"), cmd("SENTINEL", "MYID", "extra"),

		withMode(infoText, infoAgree, "INFO"),
	}
	for _, sec := range [][]string{{"default"}, {"all"}, {"everything"}, {"server"}, {"clients"}, {"stats"}, {"cpu"},
		{"sentinel"}, {"server", "sentinel", "replication"}, {"cpu", "all"}, {"keyspace"}, {"bogus"}} {
		steps = append(steps, withMode(infoText, infoAgree, append([]string{"INFO"}, sec...)...))
	}
	steps = append(steps,
		cmd("ROLE"), cmd("ROLE", "x"),

		withMode(fields, nil, "CLIENT", "ID"),
		cmd("CLIENT", "GETNAME"), cmd("CLIENT", "SETNAME", compatClientName), cmd("CLIENT", "GETNAME"),
		withMode(clientText, clientAgree, "CLIENT", "LIST"), withMode(clientText, clientAgree, "CLIENT", "INFO"),
		cmd("CLIENT", "SETNAME", "a b"), cmd("CLIENT", "KILL", "1.2.3.4:5"), cmd("CLIENT", "KILL", "ID", "999999"),
		cmd("CLIENT", "KILL", "bogus", "x"), cmd("CLIENT", "BOGUS"), cmd("CLIENT"),
		withMode(fields, nil, "CLIENT", "HELP"),

		cmd("COMMAND", "COUNT"), withMode(unordered, nil, "COMMAND", "INFO", "ping"), cmd("COMMAND", "INFO", "nope"),
		withMode(unordered, nil, "COMMAND", "INFO", "sentinel"), cmd("COMMAND", "DOCS", "ping"), withMode(unordered, nil, "COMMAND", "DOCS", "sentinel", "client"),
		withMode(unordered, nil, "COMMAND", "DOCS"), cmd("COMMAND", "BOGUS"),
		withMode(unordered, nil, "COMMAND", "LIST"), cmd("COMMAND", "GETKEYS", "ping"),
		cmd("COMMAND", "GETKEYS", "ping", "x"), cmd("COMMAND", "GETKEYS", "nope", "x"),
		withMode(unordered, nil, "COMMAND"),

		cmd("HELLO", "4"), cmd("HELLO", "x"), cmd("HELLO", "2", "bogus"),
		cmd("ACL", "WHOAMI"), withMode(unordered, nil, "ACL", "CAT"), withMode(unordered, nil, "ACL", "CAT", "connection"), cmd("ACL", "USERS"),
		cmd("ACL", "LIST"), cmd("ACL", "GETUSER", "default"), cmd("ACL", "GETUSER", "nope"), cmd("ACL", "BOGUS"),
		cmd("ACL"),

		cmd("PUBLISH", "foo", "bar"),
		cmd("SUBSCRIBE", "compat-x"), cmd("PING"), cmd("UNSUBSCRIBE", "compat-x"),

		// Last: they leave the connection in RESP2.
		withMode(fields, helloAgree, "HELLO"), withMode(fields, helloAgree, "HELLO", "3"),
		withMode(fields, helloAgree, "HELLO", "2", "SETNAME", "compat2"), cmd("CLIENT", "GETNAME"),
	)
	return steps
}
