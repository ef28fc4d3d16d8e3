package core

import (
	"math/rand"
	"net"
	"strconv"
	"time"

	"github.com/seed877ff415/sentinel/election"
	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Options are the settings of one sentinel that are neither saved state
// nor changed by commands.
type Options struct {
	Port                int
	DenyScriptsReconfig bool
	RequirePass         string // links to other sentinels fall back to it without a sentinel-pass
	// SelfIP is this sentinel's address in hellos sent over gossip when no
	// announce-ip is set (links use their socket's local address).
	SelfIP string
	// Executable checks a script path for SENTINEL SET (access X_OK).
	Executable func(path string) bool
	// Resolve looks a hostname up (resolve-hostnames) when an instance is
	// first seen; its links then report where the name led at each connect
	// (docs/hostnames.md). nil or a failure leaves the IP unknown until then.
	Resolve func(host string) (ip string, ok bool)
	Timers  view.Timers
	// Seed makes the randomized failover desynchronisation reproducible.
	Seed int64
	// Desync is the largest random delay before this sentinel starts a
	// failover once the master is ODOWN, so that sentinels rarely split their
	// votes. Redis only shifts timers by rand(0..999) ms and does not wait.
	Desync time.Duration
}

// runOptions are the options with the run id and the global settings,
// which CONFIG SET changes.
type runOptions struct {
	Options
	view.Global
	MyID string
}

// LinkRequest is a request for one link.
type LinkRequest struct {
	Key string
	Req monitor.Request
}

// PeerSend is a message for one peer sentinel (To = its run id) or, with To
// "", for every gossiping peer.
type PeerSend struct {
	To  string
	Msg peer.Message
}

// State is the whole sentinel state machine.
type State struct {
	opts  runOptions
	rng   *rand.Rand
	voter *election.Voter

	masters []*master
	retired []*master // removed, link kept while fencing is restored

	now       time.Time
	lastTick  time.Time
	tilt      bool
	tiltSince time.Time
	totalTilt int // times TILT was entered (INFO sentinel_total_tilt)
	simFlags  int

	gossipPeers map[string]bool // run ids of the live gossip members
	serial      uint64          // link key generations
	byLink      map[string][]*instance
	out         Ready // accumulates until Advance
	persistDue  bool  // a step changed what may be saved
	dirty       bool
	rejected    map[string]uint64 // invalid inputs dropped, by source

	// What the last advanced Ready handed out, to tell a change (ready.go).
	hard     view.HardState
	settings view.Settings
	inReady  *Ready // the Ready handed out and not yet advanced

	saveErr         string // last save error; "" while saves succeed
	saveFailedSince time.Time
	saveFailures    uint64
}

const (
	simCrashAfterElection  = 1
	simCrashAfterPromotion = 2
)

// New builds the state from the saved state and settings. now is the
// start time.
func New(opts Options, hs view.HardState, st view.Settings, now time.Time) *State {
	leaderEpochs := map[string]uint64{}
	for _, m := range hs.Masters {
		leaderEpochs[m.Name] = m.LeaderEpoch
	}
	s := &State{
		opts:        runOptions{Options: opts, Global: st.Global, MyID: hs.MyID},
		rng:         rand.New(rand.NewSource(opts.Seed)),
		voter:       election.NewVoter(hs.CurrentEpoch, leaderEpochs),
		now:         now,
		lastTick:    now,
		gossipPeers: map[string]bool{},
		dirty:       true,
	}
	for _, ms := range hs.Masters {
		var set view.MasterSettings
		if p := st.Master(ms.Name); p != nil {
			set = *p
		}
		m := s.addMaster(ms, set)
		for _, r := range ms.KnownReplicas {
			s.addReplica(m, r.Host, r.Port)
		}
		for _, ks := range ms.KnownSentinels {
			if ks.RunID == hs.MyID || s.isSelf(m, ks.Host, ks.Port) {
				continue
			}
			s.addSentinel(m, ks.RunID, ks.Host, ks.Port)
		}
		s.event(notify.LevelWarning, notify.KindMonitor, m.inst, "quorum "+strconv.Itoa(m.quorum))
	}
	s.hard, s.settings = s.hardState(), s.currentSettings()
	s.out.LinksChanged = true
	return s
}

func (s *State) addMaster(ms view.MasterState, set view.MasterSettings) *master {
	m := &master{
		inst:            &instance{kind: view.KindMaster, name: ms.Name, host: ms.Host, port: ms.Port},
		quorum:          ms.Quorum,
		downAfter:       set.DownAfter,
		failoverTimeout: set.FailoverTimeout,
		parallelSyncs:   set.ParallelSyncs,
		authPass:        set.AuthPass,
		authUser:        set.AuthUser,
		notifyScript:    set.NotificationScript,
		reconfigScript:  set.ClientReconfigScript,
		rebootDownAfter: set.MasterRebootDownAfter,
		rename:          copyMap(set.RenameCommands),
		webhooks:        append([]string(nil), set.Webhooks...),
		proxies:         append([]view.Proxy(nil), set.Proxies...),
		proxyMaxClients: set.ProxyMaxClients,
		configEpoch:     ms.ConfigEpoch,
		fence:           fence{off: set.NoFenceWrites},
	}
	if m.downAfter <= 0 {
		m.downAfter = s.opts.Timers.DefaultDownAfter
	}
	if m.failoverTimeout <= 0 {
		m.failoverTimeout = s.opts.Timers.DefaultFailoverTimeout
	}
	if m.parallelSyncs <= 0 {
		m.parallelSyncs = 1
	}
	m.inst.master = m
	s.resolve(m.inst)
	m.inst.link = s.newLink("master/" + ms.Name)
	m.inst.priority = defaultPriority
	m.inst.lastAvail = s.now
	m.inst.roleReported = "master"
	m.inst.roleReportedTime = s.now
	s.masters = append(s.masters, m)
	return m
}

func copyMap(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// MyID is this sentinel's run id.
func (s *State) MyID() string { return s.opts.MyID }

// CurrentEpoch is the current election epoch.
func (s *State) CurrentEpoch() uint64 { return s.voter.CurrentEpoch() }

// Timers are the current SENTINEL DEBUG timer values.
func (s *State) Timers() view.Timers { return s.opts.Timers }

func (s *State) master(name string) *master {
	for _, m := range s.masters {
		if m.inst.name == name {
			return m
		}
	}
	return nil
}

func (s *State) persist() { s.persistDue = true }
func (s *State) linksChanged() {
	s.out.LinksChanged = true
	s.dirty = true
	s.byLink = nil
}

func (s *State) send(i *instance, req monitor.Request) {
	s.out.Requests = append(s.out.Requests, LinkRequest{Key: i.linkKey(), Req: req})
	i.pending++
}

func (s *State) event(level notify.Level, kind notify.Kind, i *instance, text string) {
	e := notify.Event{Kind: kind, Level: level, Text: text}
	if i != nil {
		e.Instance = i.eventInstance(s.opts.AnnounceHostnames)
		if i.master != nil {
			e.Master = i.master.inst.name
		}
	}
	s.emit(e)
}

// plainEvent is a warning whose payload is only text (±tilt, config saves).
func (s *State) plainEvent(kind notify.Kind, text string) {
	s.emit(notify.Event{Kind: kind, Level: notify.LevelWarning, Text: text})
}

// epochEvent is +new-epoch, or with a leader +vote-for-leader, about m.
func (s *State) epochEvent(m *master, kind notify.Kind, epoch uint64, leader string) {
	s.emit(notify.Event{Kind: kind, Level: notify.LevelWarning, Master: m.inst.name, Epoch: epoch, Leader: leader})
}

// emit records e; a warning about a master group also runs that group's
// notification script, as Redis does for every such event, +switch-master
// and +new-epoch included (docs/behaviour.md §2).
func (s *State) emit(e notify.Event) {
	s.out.Events = append(s.out.Events, e)
	s.dirty = true
	if e.Level != notify.LevelWarning || e.Master == "" {
		return
	}
	if m := s.master(e.Master); m != nil {
		if argv := notify.NotificationArgv(m.notifyScript, e); argv != nil {
			s.out.Scripts = append(s.out.Scripts, argv)
		}
	}
}

func addr(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// resolve sets i.ip from i.host.
func (s *State) resolve(i *instance) {
	i.ip = ""
	switch {
	case validIP(i.host):
		i.ip = i.host
	case s.opts.Resolve != nil:
		if ip, ok := s.opts.Resolve(i.host); ok && validIP(ip) {
			i.ip = ip
		}
	}
}

// reached records where a link's new connection went (docs/hostnames.md):
// the link dials the name at each connect, so the IP follows the name and
// the instance keeps its identity. It reports whether i turned out to be
// this sentinel itself, and was dropped.
func (s *State) reached(i *instance, remoteIP, localIP string) bool {
	if validIP(localIP) {
		i.localIP = localIP
	}
	if !validIP(remoteIP) {
		return false
	}
	// A peer entry that leads back here (this sentinel's previous run id,
	// or a copied config) is not a peer: it would count towards quorum.
	if i.kind == view.KindSentinel && remoteIP == localIP && i.port == s.announcedPort() {
		s.event(notify.LevelNotice, notify.KindSentinelInvalidAddr, i, "")
		s.removeSentinelEverywhere(i.runID)
		s.persist()
		s.linksChanged()
		return true
	}
	if validIP(i.host) || remoteIP == i.ip {
		return false
	}
	i.ip = remoteIP
	s.dirty = true
	if i.kind == view.KindReplica {
		s.dropShadow(i)
	}
	return false
}

// dropShadow removes the entry a master's INFO added for r by IP before r's
// name led to that IP: it is the same process, and the name is its identity.
// During a failover the lists stay as they are.
func (s *State) dropShadow(r *instance) {
	m := r.master
	if m.failoverState != foNone {
		return
	}
	for k, x := range m.replicas {
		if x != r && x.port == r.port && x.host == r.ip {
			m.replicas = append(m.replicas[:k], m.replicas[k+1:]...)
			m.all = nil
			s.persist()
			s.linksChanged()
			return
		}
	}
}

// renamedReplica handles a name a master's INFO lists that no replica goes
// by: if it resolves to the IP of a replica known only by that IP, that is
// the replica, which takes the name and keeps its state. It reports whether
// it was. (A name that is new is then resolved again when it is added.)
func (s *State) renamedReplica(m *master, host string, port int) bool {
	if validIP(host) || s.opts.Resolve == nil {
		return false
	}
	ip, ok := s.opts.Resolve(host)
	if !ok {
		return false
	}
	for _, r := range m.replicas {
		if r.port == port && r.host == ip {
			r.host, r.ip, r.name = host, ip, addr(host, port)
			s.persist()
			s.linksChanged()
			return true
		}
	}
	return false
}

// isSelf reports whether host:port is where this sentinel announces itself
// to m: a hello from another run id there is this sentinel's previous
// incarnation or a copy of its config, never a peer (Redis adds it as one).
func (s *State) isSelf(m *master, host string, port int) bool {
	if port != s.announcedPort() {
		return false
	}
	if s.opts.AnnounceIP != "" {
		return host == s.opts.AnnounceIP
	}
	if host == s.opts.SelfIP {
		return true
	}
	for _, i := range m.instances() {
		if i.kind != view.KindSentinel && i.localIP == host {
			return true
		}
	}
	return false
}

// announcedPort is the port in this sentinel's hellos: announce-port, else
// its port.
func (s *State) announcedPort() int {
	if s.opts.AnnouncePort != 0 {
		return s.opts.AnnouncePort
	}
	return s.opts.Port
}

// shown is the address reported for i: see instance.announced.
func (s *State) shown(i *instance) string { return i.announced(s.opts.AnnounceHostnames) }

func (s *State) newLink(prefix string) string {
	s.serial++
	return prefix + "#" + strconv.FormatUint(s.serial, 10)
}

func (s *State) addReplica(m *master, host string, port int) (*instance, bool) {
	r, added := m.addReplica(host, port, s.now, "")
	if added {
		s.resolve(r)
		r.link = s.newLink("replica/" + m.inst.name + "/" + r.name)
		s.linksChanged()
	}
	return r, added
}

// addSentinel adds a peer to m; a peer already known in another group
// shares that group's link and what it knows about the link.
func (s *State) addSentinel(m *master, runID, host string, port int) *instance {
	si := m.addSentinel(runID, host, port, s.now, "")
	s.resolve(si)
	for _, mm := range s.masters {
		if o := mm.sentinelByID(runID); o != nil && o != si && o.host == host && o.port == port {
			si.link = o.link
			si.connected, si.connectedAt = o.connected, o.connectedAt
			si.lastAvail, si.lastOKPing, si.lastPingReply = o.lastAvail, o.lastOKPing, o.lastPingReply
			s.byLink = nil
			s.dirty = true
			return si
		}
	}
	si.link = s.newLink("sentinel/" + runID)
	s.linksChanged()
	return si
}
