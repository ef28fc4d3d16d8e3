package server

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/election"
	"github.com/seed877ff415/sentinel/sentinel/glob"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/tlsconf"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

const errNoSuchMaster = "ERR No such master with that name"

func sentinelCommands() []*command {
	// byName renders from the named master of one snapshot.
	byName := func(f func(r *reply, m *view.Master)) handler {
		return func(s *Server, _ *client, r *reply, args []string) {
			m := s.opts.Backend.Snapshot().Master(args[2])
			if m == nil {
				r.err(errNoSuchMaster)
				return
			}
			f(r, m)
		}
	}
	masters := func(s *Server, _ *client, r *reply, _ []string) {
		snap := s.opts.Backend.Snapshot()
		now := time.Now()
		r.array(len(snap.Masters))
		for i := range snap.Masters {
			r.pairs(masterFields(&snap.Masters[i], now))
		}
	}
	master := byName(func(r *reply, m *view.Master) { r.pairs(masterFields(m, time.Now())) })
	replicas := byName(func(r *reply, m *view.Master) {
		now := time.Now()
		n := 0
		for i := range m.Replicas {
			if m.Replicas[i].ReplicaAnnounced {
				n++
			}
		}
		r.array(n)
		for i := range m.Replicas {
			if m.Replicas[i].ReplicaAnnounced {
				r.pairs(replicaFields(&m.Replicas[i], now))
			}
		}
	})
	return []*command{
		{name: "ckquorum", arity: 3, summary: "Check for a Sentinel quorum", run: byName(func(r *reply, m *view.Master) { ckquorum(r, m) })},
		{name: "config", arity: -3, summary: "Get or set the sentinel's own configuration", run: (*Server).cmdSentinelConfig},
		{name: "debug", arity: -2, summary: "List or change the sentinel's timers", run: (*Server).cmdSentinelDebug},
		{name: "failover", arity: 3, summary: "Force a failover", run: func(s *Server, _ *client, r *reply, a []string) { s.backendResult(r, s.opts.Backend.Failover(a[2])) }},
		{name: "flushconfig", arity: 2, summary: "Rewrite the configuration file", run: func(s *Server, _ *client, r *reply, _ []string) { s.backendResult(r, s.opts.Backend.FlushConfig()) }},
		{name: "get-master-addr-by-name", arity: 3, summary: "Get the current address of a master", run: (*Server).cmdGetMasterAddr},
		{name: "help", arity: 2, summary: "Show helpful text about the different subcommands", run: func(_ *Server, _ *client, r *reply, _ []string) { helpReply(r, "SENTINEL", sentinelHelp) }},
		{name: "info-cache", arity: -3, summary: "Get cached INFO of masters and replicas", run: (*Server).cmdInfoCache},
		{name: "is-master-down-by-addr", arity: 6, summary: "Ask whether a master is down and request a vote", run: (*Server).cmdIsMasterDown},
		{name: "master", arity: 3, summary: "Show the state of a master", run: master},
		{name: "masters", arity: 2, summary: "List the monitored masters", run: masters},
		{name: "monitor", arity: 6, summary: "Start monitoring a master", run: (*Server).cmdMonitor},
		{name: "myid", arity: 2, summary: "Get this sentinel's id", run: func(s *Server, _ *client, r *reply, _ []string) { r.bulk(s.opts.Backend.Snapshot().MyID) }},
		{name: "pending-scripts", arity: 2, summary: "List queued and running scripts", run: (*Server).cmdPendingScripts},
		// Ours (docs/proxy.md); hidden so COMMAND lists what Redis 7.0 does.
		{name: "proxies", arity: 2, hidden: true, summary: "List the built-in proxy listeners", run: (*Server).cmdSentinelProxies},
		{name: "health", arity: 2, hidden: true, summary: "Report whether the config is being saved and how much input was refused", run: (*Server).cmdSentinelHealth},
		{name: "remove", arity: 3, summary: "Stop monitoring a master", run: func(s *Server, _ *client, r *reply, a []string) { s.backendResult(r, s.opts.Backend.Remove(a[2])) }},
		{name: "replicas", arity: 3, summary: "List the replicas of a master", run: replicas},
		{name: "reset", arity: 3, summary: "Reset masters matching a pattern", run: func(s *Server, _ *client, r *reply, a []string) { r.int(int64(s.opts.Backend.Reset(a[2]))) }},
		{name: "sentinels", arity: 3, summary: "List the other sentinels of a master", run: byName(func(r *reply, m *view.Master) {
			now := time.Now()
			r.array(len(m.Sentinels))
			for i := range m.Sentinels {
				r.pairs(sentinelFields(&m.Sentinels[i], now))
			}
		})},
		{name: "set", arity: -5, summary: "Change a master's configuration", run: func(s *Server, _ *client, r *reply, a []string) { s.backendResult(r, s.opts.Backend.Set(a[2], a[3:])) }},
		{name: "simulate-failure", arity: -3, summary: "Simulate a crash at a failover step", run: (*Server).cmdSimulateFailure},
		{name: "slaves", arity: 3, summary: "List the replicas of a master (old name)", run: replicas},
		// Valkey's and Redis 7.2's names; Redis 7.0 does not list them.
		{name: "primary", arity: 3, hidden: true, summary: "Show the state of a master", run: master},
		{name: "primaries", arity: 2, hidden: true, summary: "List the monitored masters", run: masters},
		{name: "get-primary-addr-by-name", arity: 3, hidden: true, summary: "Get the current address of a master", run: (*Server).cmdGetMasterAddr},
		{name: "is-primary-down-by-addr", arity: 6, hidden: true, summary: "Ask whether a master is down and request a vote", run: (*Server).cmdIsMasterDown},
	}
}

// backendResult answers +OK or the Backend's error text as it is.
func (s *Server) backendResult(r *reply, err error) {
	if err != nil {
		r.err(err.Error())
		return
	}
	r.ok()
}

func (s *Server) cmdGetMasterAddr(_ *client, r *reply, args []string) {
	m := s.opts.Backend.Snapshot().Master(args[2])
	if m == nil {
		r.nullArray()
		return
	}
	r.array(2)
	r.bulk(m.AddrHost)
	r.bulkInt(int64(m.AddrPort))
}

// ckquorum: usable = this sentinel + known sentinels neither SDOWN nor ODOWN.
func ckquorum(r *reply, m *view.Master) {
	voters := len(m.Sentinels) + 1
	usable := 1
	for i := range m.Sentinels {
		if !m.Sentinels[i].Flags.Has(view.FlagSDown | view.FlagODown) {
			usable++
		}
	}
	var problems []string
	if usable < m.Instance.Quorum {
		problems = append(problems, "Not enough available Sentinels to reach the specified quorum for this master")
	}
	if usable < election.Majority(voters) {
		problems = append(problems, "Not enough available Sentinels to reach the majority and authorize a failover")
	}
	if len(problems) > 0 {
		r.err(fmt.Sprintf("NOQUORUM %d usable Sentinels. %s", usable, strings.Join(problems, ". ")))
		return
	}
	r.status(fmt.Sprintf("OK %d usable Sentinels. Quorum and failover authorization can be reached", usable))
}

// MONITOR checks the numeric forms in Redis' order; the rest (address,
// port range, duplicates) is the Backend's.
func (s *Server) cmdMonitor(_ *client, r *reply, args []string) {
	quorum, ok := parseInt(args[5])
	if !ok || quorum > 1<<31-1 || quorum < -1<<31 {
		r.err("ERR Invalid quorum")
		return
	}
	port, ok := parseInt(args[4])
	if !ok || port > 1<<31-1 || port < -1<<31 {
		r.err("ERR Invalid port")
		return
	}
	if quorum <= 0 {
		r.err("ERR Quorum must be 1 or greater.")
		return
	}
	s.backendResult(r, s.opts.Backend.Monitor(args[2], args[3], int(port), int(quorum)))
}

func (s *Server) cmdIsMasterDown(_ *client, r *reply, args []string) {
	port, ok := parseInt(args[3])
	if !ok || port > 1<<31-1 || port < -1<<31 {
		r.err("ERR value is not an integer or out of range")
		return
	}
	epoch, ok := parseInt(args[4])
	if !ok || epoch < 0 {
		r.err("ERR value is not an integer or out of range")
		return
	}
	// The vote request's edge to the Redis port: "*" is no candidate, and
	// no leader is "*".
	q := peer.VoteRequest{MasterIP: args[2], MasterPort: int(port), Epoch: uint64(epoch), Candidate: args[5]}
	if q.Candidate == "*" {
		q.Candidate = ""
	}
	v := s.opts.Backend.IsMasterDownByAddr(q)
	if v.Leader == "" {
		v.Leader = "*"
	}
	r.array(3)
	if v.Down {
		r.int(1)
	} else {
		r.int(0)
	}
	r.bulk(v.Leader)
	r.int(int64(v.LeaderEpoch))
}

// fixedAtStart are the listening settings SENTINEL CONFIG SET refuses:
// changing them means opening and closing listeners (docs/tls.md).
var fixedAtStart = map[string]bool{"port": true, "tls-port": true, "tls-replication": true}

// configOptions are SENTINEL CONFIG's settings, in Redis' order, with the
// check of a value SET applies before changing anything.
var configOptions = []struct {
	name  string
	valid func(string) bool
	get   func(view.Settings) string
}{
	{"resolve-hostnames", isYesNo, func(st view.Settings) string { return yesNo(st.ResolveHostnames) }},
	{"announce-hostnames", isYesNo, func(st view.Settings) string { return yesNo(st.AnnounceHostnames) }},
	{"announce-ip", anyValue, func(st view.Settings) string { return st.AnnounceIP }},
	{"announce-port", func(v string) bool { p, ok := parseInt(v); return ok && p >= 0 && p <= 65535 },
		func(st view.Settings) string { return strconv.Itoa(st.AnnouncePort) }},
	{"sentinel-user", anyValue, func(st view.Settings) string { return st.SentinelUser }},
	{"sentinel-pass", anyValue, func(st view.Settings) string { return st.SentinelPass }},
}

func isYesNo(v string) bool { return strings.EqualFold(v, "yes") || strings.EqualFold(v, "no") }
func anyValue(string) bool  { return true }
func configOption(name string) int {
	for i, o := range configOptions {
		if strings.EqualFold(o.name, name) {
			return i
		}
	}
	return -1
}

// SENTINEL CONFIG GET <pattern> [...] | SET <option> <value> [...], with
// several of each as Redis 7.2 takes them. SET checks every pair before the
// Backend applies any, so a bad pair changes nothing.
func (s *Server) cmdSentinelConfig(_ *client, r *reply, args []string) {
	switch op := strings.ToLower(args[2]); {
	case op == "set" && len(args) >= 5:
		seen := map[string]bool{}
		pairs := args[3:]
		for i := 0; i < len(pairs); i += 2 {
			name := pairs[i]
			lower := strings.ToLower(name)
			o := configOption(name)
			isTLS := slices.Contains(tlsconf.Directives, lower)
			switch {
			case fixedAtStart[lower]:
				r.err(fmt.Sprintf("ERR '%s' cannot be changed at run time: edit the config file and restart", name))
				return
			case o < 0 && !isTLS:
				r.err(fmt.Sprintf("ERR Invalid argument '%s' to SENTINEL CONFIG SET", name))
				return
			case seen[lower]:
				r.err(fmt.Sprintf("ERR Duplicate argument '%s' to SENTINEL CONFIG SET", name))
				return
			case i+1 == len(pairs):
				r.err(fmt.Sprintf("ERR Missing argument '%s' value", name))
				return
			case o >= 0 && !configOptions[o].valid(pairs[i+1]):
				r.err(fmt.Sprintf("ERR Invalid value '%s' to SENTINEL CONFIG SET '%s'", pairs[i+1], name))
				return
			case isTLS:
				// What the files hold is the Backend's to check, with
				// the whole TLS configuration (docs/tls.md).
				if _, err := tlsconf.Value(lower, pairs[i+1]); err != nil {
					r.err(fmt.Sprintf("ERR Invalid value '%s' to SENTINEL CONFIG SET '%s': %v", pairs[i+1], name, err))
					return
				}
			}
			seen[lower] = true
		}
		s.backendResult(r, s.opts.Backend.ConfigSet(pairs))
	case op == "get" && len(args) >= 4:
		st := s.opts.Backend.Snapshot().Settings
		var out []kv
		for _, o := range configOptions {
			for _, pat := range args[3:] {
				if glob.Match(pat, o.name, true) {
					out = append(out, kv{o.name, o.get(st)})
					break
				}
			}
		}
		r.pairs(out)
	default:
		r.err("ERR Only SENTINEL CONFIG GET <option> [<option> ...] / SET <option> <value> [<option> <value> ...] are supported.")
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (s *Server) cmdSentinelDebug(_ *client, r *reply, args []string) {
	if len(args) > 2 {
		s.backendResult(r, s.opts.Backend.Debug(args[2:]))
		return
	}
	t := s.opts.Backend.Snapshot().Timers
	r.pairs([]kv{
		{"INFO-PERIOD", ms(t.InfoPeriod)},
		{"PING-PERIOD", ms(t.PingPeriod)},
		{"ASK-PERIOD", ms(t.AskPeriod)},
		{"PUBLISH-PERIOD", ms(t.PublishPeriod)},
		{"DEFAULT-DOWN-AFTER", ms(t.DefaultDownAfter)},
		{"DEFAULT-FAILOVER-TIMEOUT", ms(t.DefaultFailoverTimeout)},
		{"TILT-TRIGGER", ms(t.TiltTrigger)},
		{"TILT-PERIOD", ms(t.TiltPeriod)},
		{"SLAVE-RECONF-TIMEOUT", ms(t.SlaveReconfTimeout)},
		{"MIN-LINK-RECONNECT-PERIOD", ms(t.MinLinkReconnectPeriod)},
		{"ELECTION-TIMEOUT", ms(t.ElectionTimeout)},
		{"SCRIPT-MAX-RUNTIME", ms(t.ScriptMaxRuntime)},
		{"SCRIPT-RETRY-DELAY", ms(t.ScriptRetryDelay)},
	})
}

func (s *Server) cmdSimulateFailure(_ *client, r *reply, args []string) {
	flags := make([]string, 0, len(args)-2)
	for _, a := range args[2:] {
		switch f := strings.ToLower(a); f {
		case "crash-after-election", "crash-after-promotion":
			flags = append(flags, f)
		case "help":
			r.strings([]string{"crash-after-election", "crash-after-promotion"})
			return
		default:
			r.err("ERR Unknown failure simulation specified")
			return
		}
	}
	s.backendResult(r, s.opts.Backend.SimulateFailure(flags))
}

// INFO-CACHE: [name, [[age-ms, info], ...master first, then replicas], ...].
// Unlike Redis 7.0, each replica's age is computed from its own refresh time.
func (s *Server) cmdInfoCache(_ *client, r *reply, args []string) {
	snap := s.opts.Backend.Snapshot()
	now := time.Now()
	var found []*view.Master
	for _, name := range args[2:] {
		m := snap.Master(name)
		if m == nil || containsMaster(found, m) {
			continue
		}
		found = append(found, m)
	}
	r.array(2 * len(found))
	entry := func(in *view.Instance) {
		r.array(2)
		r.int(msSince(in.InfoRefresh, now))
		if in.InfoText == "" {
			r.nullBulk()
			return
		}
		r.bulk(in.InfoText) // a bulk string even under RESP3, as Redis
	}
	for _, m := range found {
		r.bulk(m.Name)
		r.array(1 + len(m.Replicas))
		entry(&m.Instance)
		for i := range m.Replicas {
			entry(&m.Replicas[i])
		}
	}
}

func containsMaster(list []*view.Master, m *view.Master) bool {
	for _, x := range list {
		if x == m {
			return true
		}
	}
	return false
}

func (s *Server) cmdPendingScripts(_ *client, r *reply, _ []string) {
	scripts := s.opts.Backend.PendingScripts()
	r.array(len(scripts))
	for _, sc := range scripts {
		r.mapLen(5)
		r.bulk("argv")
		r.strings(sc.Argv)
		r.bulk("flags")
		if sc.Running {
			r.bulk("running")
		} else {
			r.bulk("scheduled")
		}
		r.bulk("pid")
		r.bulkInt(int64(sc.PID))
		if sc.Running {
			r.bulk("run-time")
			r.bulkInt(sc.RunTime.Milliseconds())
		} else {
			r.bulk("run-delay")
			r.bulkInt(sc.RunDelay.Milliseconds())
		}
		r.bulk("retry-num")
		r.bulkInt(int64(sc.RetryNum))
	}
}
