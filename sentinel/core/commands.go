package core

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/glob"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// maxMillis is the largest number of milliseconds a time.Duration holds.
const maxMillis = math.MaxInt64 / int64(time.Millisecond)

// Errors carry Redis' full error text without the leading '-'.
var (
	ErrNoSuchMaster = errors.New("ERR No such master with that name")
	ErrInProgress   = errors.New("INPROG Failover already in progress")
	ErrNoGoodSlave  = errors.New("NOGOODSLAVE No suitable replica to promote")
	ErrScriptsDeny  = errors.New("ERR Reconfiguration of scripts path is denied for security reasons. " +
		"Check the deny-scripts-reconfig configuration directive in your Sentinel configuration")
	ErrNotifyScript   = errors.New("ERR Notification script seems non existing or non executable")
	ErrReconfigScript = errors.New("ERR Client reconfiguration script seems non existing or non executable")
)

func (s *State) monitor(name, host string, port, quorum int) error {
	switch {
	case quorum <= 0:
		return errors.New("ERR Quorum must be 1 or greater.")
	case quorum > math.MaxInt32:
		return errors.New("ERR Invalid quorum")
	case !s.validHost(host):
		return errors.New("ERR Invalid IP address or hostname specified")
	case !validPort(port):
		return errors.New("ERR Invalid port number.")
	case !validName(name):
		return errors.New("ERR Invalid master name.")
	case s.master(name) != nil:
		return errors.New("ERR Duplicate master name.")
	}
	m := s.addMaster(view.MasterState{Name: name, Host: host, Port: port, Quorum: quorum}, view.MasterSettings{})
	s.event(notify.LevelWarning, notify.KindMonitor, m.inst, "quorum "+strconv.Itoa(quorum))
	s.persist()
	s.linksChanged()
	return nil
}

func (s *State) remove(name string) error {
	m := s.master(name)
	if m == nil {
		return ErrNoSuchMaster
	}
	s.event(notify.LevelWarning, notify.KindUnmonitor, m.inst, "")
	s.retireFence(m)
	for k, x := range s.masters {
		if x == m {
			s.masters = append(s.masters[:k], s.masters[k+1:]...)
			break
		}
	}
	s.voter.Reset(name)
	s.persist()
	s.linksChanged()
	return nil
}

// set applies SENTINEL SET. Options before a bad one stay applied, as in
// Redis.
func (s *State) set(name string, args []string) error {
	m := s.master(name)
	if m == nil {
		return ErrNoSuchMaster
	}
	var err error
	changed := false
	for j := 0; j < len(args) && err == nil; {
		opt := strings.ToLower(args[j])
		n := 2
		if opt == "rename-command" {
			n = 3
		}
		if j+n > len(args) {
			err = errors.New("ERR Unknown option or number of arguments for SENTINEL SET '" + args[j] + "'")
			break
		}
		shown := args[j+1 : j+n]
		err = s.setOption(m, opt, args[j+1:j+n])
		if err != nil {
			break
		}
		changed = true
		if opt == "auth-pass" {
			shown = []string{"******"}
		}
		s.event(notify.LevelWarning, notify.KindSet, m.inst, opt+" "+strings.Join(shown, " "))
		j += n
	}
	if changed {
		s.persist()
		s.linksChanged()
	}
	return err
}

func (s *State) setOption(m *master, opt string, v []string) error {
	invalid := errors.New("ERR Invalid argument '" + v[0] + "' for SENTINEL SET '" + opt + "'")
	// Bounded so that the saved config loads again: milliseconds must fit
	// a duration, counts a 32-bit int as in Redis.
	ms := func(allowZero bool) (time.Duration, error) {
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil || n < 0 || (n == 0 && !allowZero) || n > maxMillis {
			return 0, invalid
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	positive := func() (int, error) {
		n, err := strconv.Atoi(v[0])
		if err != nil || n <= 0 || n > math.MaxInt32 {
			return 0, invalid
		}
		return n, nil
	}
	var err error
	switch opt {
	case "down-after-milliseconds":
		m.downAfter, err = orKeep(m.downAfter)(ms(false))
	case "failover-timeout":
		m.failoverTimeout, err = orKeep(m.failoverTimeout)(ms(false))
	case "master-reboot-down-after-period":
		m.rebootDownAfter, err = orKeep(m.rebootDownAfter)(ms(true))
	case "parallel-syncs":
		m.parallelSyncs, err = orKeepInt(m.parallelSyncs)(positive())
	case "quorum":
		m.quorum, err = orKeepInt(m.quorum)(positive())
	case "notification-script", "client-reconfig-script":
		if s.opts.DenyScriptsReconfig {
			return ErrScriptsDeny
		}
		if v[0] != "" && (s.opts.Executable == nil || !s.opts.Executable(v[0])) {
			if opt == "notification-script" {
				return ErrNotifyScript
			}
			return ErrReconfigScript
		}
		if opt == "notification-script" {
			m.notifyScript = v[0]
		} else {
			m.reconfigScript = v[0]
		}
	case "fence-writes":
		if !m.fence.setSwitch(v[0]) {
			return invalid
		}
	case "auth-pass":
		m.authPass = v[0]
	case "auth-user":
		m.authUser = v[0]
	case "proxy-master", "proxy-replicas":
		role := strings.TrimPrefix(opt, "proxy-")
		if v[0] != "" && !view.ValidHostPort(v[0], false) {
			return invalid
		}
		m.proxies = view.SetProxy(m.proxies, role, v[0])
	case "proxy-maxclients":
		m.proxyMaxClients, err = orKeepInt(m.proxyMaxClients)(positive())
	case "rename-command":
		from, to := strings.ToLower(v[0]), v[1]
		if strings.EqualFold(from, to) {
			delete(m.rename, from)
		} else {
			m.rename[from] = to
		}
	default:
		return errors.New("ERR Unknown option or number of arguments for SENTINEL SET '" + opt + "'")
	}
	return err
}

func orKeep(old time.Duration) func(time.Duration, error) (time.Duration, error) {
	return func(d time.Duration, err error) (time.Duration, error) {
		if err != nil {
			return old, err
		}
		return d, nil
	}
}

func orKeepInt(old int) func(int, error) (int, error) {
	return func(n int, err error) (int, error) {
		if err != nil {
			return old, err
		}
		return n, nil
	}
}

func (s *State) reset(pattern string) int {
	n := 0
	for _, m := range s.masters {
		if !glob.Match(pattern, m.inst.name, false) {
			continue
		}
		s.resetMaster(m, true)
		s.event(notify.LevelWarning, notify.KindResetMaster, m.inst, "")
		n++
	}
	return n
}

// failover starts SENTINEL FAILOVER. When the master is still reachable
// the promotion is a coordinated switchover.
func (s *State) failover(name string) error {
	m := s.master(name)
	switch {
	case m == nil:
		return ErrNoSuchMaster
	case m.failoverState != foNone:
		return ErrInProgress
	}
	if r, _ := s.selectReplica(m); r == nil {
		return ErrNoGoodSlave
	}
	s.startFailover(m)
	m.force = true
	return nil
}

func (s *State) configSet(param, value string) error {
	bad := errors.New("ERR Invalid value '" + value + "' to SENTINEL CONFIG SET '" + param + "'")
	yesNo := func(dst *bool) error {
		switch strings.ToLower(value) {
		case "yes":
			*dst = true
		case "no":
			*dst = false
		default:
			return bad
		}
		return nil
	}
	var err error
	switch strings.ToLower(param) {
	case "resolve-hostnames":
		err = yesNo(&s.opts.ResolveHostnames)
	case "announce-hostnames":
		err = yesNo(&s.opts.AnnounceHostnames)
	case "announce-ip":
		// Peers drop hellos whose address is not an IP or hostname.
		if value != "" && !validIP(value) && !validHostname(value) {
			return bad
		}
		s.opts.AnnounceIP = value
	case "announce-port":
		p, perr := strconv.Atoi(value)
		if perr != nil || p < 0 || p > 65535 {
			return bad
		}
		s.opts.AnnouncePort = p
	case "sentinel-user":
		s.opts.SentinelUser = value
	case "sentinel-pass":
		s.opts.SentinelPass = value
	default:
		return errors.New("ERR Invalid argument '" + param + "' to SENTINEL CONFIG SET")
	}
	if err == nil {
		s.persist()
		s.linksChanged()
	}
	return err
}

// isMasterDownByAddr answers a peer: our opinion and, when it names a
// candidate, our vote. The shell saves the Ready before the reply leaves.
func (s *State) isMasterDownByAddr(q peer.VoteRequest) peer.VoteReply {
	var m *master
	for _, x := range s.masters {
		if x.inst.isAt(q.MasterIP, q.MasterPort) {
			m = x
			break
		}
	}
	if m == nil {
		return peer.VoteReply{}
	}
	reply := peer.VoteReply{From: s.opts.MyID, Master: m.inst.name}
	runID := q.Candidate
	if !validEpoch(q.Epoch) || (runID != "" && !validRunID(runID)) {
		s.reject(RejectVote, "is-master-down-by-addr epoch "+strconv.FormatUint(q.Epoch, 10)+" run id "+quoteField(runID))
		reply.Down = m.inst.sdown() && !s.tilt
		return reply
	}
	reply.Down, reply.Leader, reply.LeaderEpoch = s.voteRequest(m, q.Epoch, runID)
	return reply
}

func (s *State) simulateFailure(flags []string) error {
	f := 0
	for _, x := range flags {
		switch strings.ToLower(x) {
		case "crash-after-election":
			f |= simCrashAfterElection
		case "crash-after-promotion":
			f |= simCrashAfterPromotion
		default:
			return errors.New("ERR Unknown failure simulation specified")
		}
	}
	s.simFlags = f
	s.dirty = true
	return nil
}

func (s *State) debug(pairs []string) error {
	t := &s.opts.Timers
	// Pairs before a bad one stay applied, as in Redis: hand them out too.
	defer func() { tm := *t; s.out.Timers = &tm }()
	fields := map[string]*time.Duration{
		"info-period": &t.InfoPeriod, "ping-period": &t.PingPeriod, "ask-period": &t.AskPeriod,
		"publish-period": &t.PublishPeriod, "default-down-after": &t.DefaultDownAfter,
		"default-failover-timeout": &t.DefaultFailoverTimeout, "tilt-trigger": &t.TiltTrigger,
		"tilt-period": &t.TiltPeriod, "slave-reconf-timeout": &t.SlaveReconfTimeout,
		"election-timeout":   &t.ElectionTimeout,
		"script-max-runtime": &t.ScriptMaxRuntime, "script-retry-delay": &t.ScriptRetryDelay,
	}
	for j := 0; j < len(pairs); j += 2 {
		p := strings.ToLower(pairs[j])
		if p == "min-link-reconnect-period" {
			// Our links do not recycle idle connections; they reconnect at
			// once (docs/design.md "Links"), so there is nothing to tune.
			return errors.New("ERR SENTINEL DEBUG 'min-link-reconnect-period' cannot be changed: links reconnect within 250 ms")
		}
		dst, ok := fields[p]
		if !ok || j+1 >= len(pairs) {
			return errors.New("ERR Unknown option or number of arguments for SENTINEL DEBUG '" + pairs[j] + "'")
		}
		// The value must fit a time.Duration in milliseconds, or it
		// would wrap and read back negative.
		n, err := strconv.ParseInt(pairs[j+1], 10, 64)
		if err != nil || n <= 0 || n > maxMillis {
			return errors.New("ERR Invalid argument '" + pairs[j+1] + "' for SENTINEL DEBUG '" + pairs[j] + "'")
		}
		*dst = time.Duration(n) * time.Millisecond
	}
	s.dirty = true
	return nil
}
