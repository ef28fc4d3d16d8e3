package core

import (
	"time"

	"github.com/seed877ff415/sentinel/election"
	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

const defaultPriority = 100

// instance is a master, replica or peer sentinel as this sentinel sees it.
type instance struct {
	kind   view.Kind
	link   string // link key, see linkKey
	name   string // master name, replica "ip:port", sentinel run id
	host   string // as configured or learned: an IP, or a hostname (its identity)
	ip     string // where host led: resolved, then the link's last connection; "" if unknown
	port   int
	runID  string
	master *master // owning master group (itself for a master)

	// Link state, fed by observations.
	connected     bool
	connectedAt   time.Time
	localIP       string // this end of the last connection, which hellos carry without announce-ip
	pending       int
	pingPending   time.Time // oldest unanswered PING (Redis act_ping_time)
	lastPingSent  time.Time
	lastOKPing    time.Time // last valid reply (PONG, LOADING, MASTERDOWN)
	lastPingReply time.Time // last reply of any kind
	lastAvail     time.Time // last valid reply; kept across disconnections
	scriptKilled  bool      // SCRIPT KILL sent for this BUSY episode

	sdownSince time.Time
	odownSince time.Time // masters only
	downEnded  time.Time // when the last SDOWN/ODOWN ended

	// INFO.
	infoRefresh      time.Time
	infoSent         time.Time
	info             *monitor.Info
	roleReported     string
	roleReportedTime time.Time
	rebootSince      time.Time // master restarted (run id changed) and not yet answering PONG

	// Replica fields from INFO.
	masterLinkDownTime time.Duration
	masterLinkUp       bool
	slaveMasterHost    string
	slaveMasterPort    int
	slaveConfChange    time.Time // when master_host/port last changed
	priority           int
	replOffset         int64
	replicaAnnounced   bool

	// Replica failover flags.
	promoted       bool
	reconfSent     bool
	reconfInprog   bool
	reconfDone     bool
	reconfSentTime time.Time

	// Sentinel fields.
	lastHello       time.Time
	masterDown      bool      // its last answer said the master is SDOWN
	masterDownReply time.Time // when that answer arrived
	leader          string
	leaderEpoch     uint64
	lastAsk         time.Time

	lastHelloSent time.Time
}

func (i *instance) addr() string { return addr(i.host, i.port) }

// announced is the address this sentinel reports for i, as Redis'
// announceSentinelAddr: the hostname with announce-hostnames, else the IP.
// An address whose name did not resolve is reported as it was given.
func (i *instance) announced(hostnames bool) string {
	if hostnames || i.ip == "" {
		return i.host
	}
	return i.ip
}

// isAt reports whether host:port names i, by its hostname or its IP.
func (i *instance) isAt(host string, port int) bool {
	return port == i.port && (host == i.host || (i.ip != "" && host == i.ip))
}

// linkKey names the link that serves this instance. Keys are unique per
// incarnation of an instance, so a reset or re-added instance gets a fresh
// link (and its connected observation) instead of a silent old one.
// Sentinels share one link per run id across master groups.
func (i *instance) linkKey() string { return i.link }

// eventInstance is the instance as events print it (Redis' %@).
func (i *instance) eventInstance(hostnames bool) *notify.Instance {
	e := &notify.Instance{Kind: i.kind, Name: i.name, Host: i.announced(hostnames), Port: i.port}
	if i.kind != view.KindMaster {
		m := i.master.inst
		e.MasterName, e.MasterHost, e.MasterPort = m.name, m.announced(hostnames), m.port
	}
	return e
}

func (i *instance) sdown() bool { return !i.sdownSince.IsZero() }
func (i *instance) odown() bool { return !i.odownSince.IsZero() }

// flags are Redis' flags of the instance.
func (i *instance) flags() view.Flags {
	f := i.kind.Flag()
	if i.sdown() {
		f |= view.FlagSDown
	}
	if i.odown() {
		f |= view.FlagODown
	}
	if !i.connected {
		f |= view.FlagDisconnected
	}
	if i.kind == view.KindSentinel && i.masterDown {
		f |= view.FlagMasterDown
	}
	if i.kind == view.KindMaster {
		m := i.master
		if m.failoverState != foNone {
			f |= view.FlagFailoverInProgress
		}
		if m.force {
			f |= view.FlagForceFailover
		}
	}
	if i.promoted {
		f |= view.FlagPromoted
	}
	if i.reconfSent {
		f |= view.FlagReconfSent
	}
	if i.reconfInprog {
		f |= view.FlagReconfInprog
	}
	if i.reconfDone {
		f |= view.FlagReconfDone
	}
	if i.scriptKilled {
		f |= view.FlagScriptKillSent
	}
	return f
}

// resetLink forgets everything learned over the link (a reset master or a
// replica re-added after a switch).
func (i *instance) resetLink() {
	i.connected = false
	i.pingPending = time.Time{}
	i.lastPingSent = time.Time{}
	i.lastOKPing = time.Time{}
	i.lastPingReply = time.Time{}
	i.sdownSince = time.Time{}
	i.odownSince = time.Time{}
	i.infoRefresh = time.Time{}
	i.infoSent = time.Time{}
	i.info = nil
	i.roleReported = ""
	i.runID = ""
	i.rebootSince = time.Time{}
}

// master is one monitored master group.
type master struct {
	inst *instance

	quorum          int
	downAfter       time.Duration
	failoverTimeout time.Duration
	parallelSyncs   int
	authPass        string
	authUser        string
	notifyScript    string
	reconfigScript  string
	rebootDownAfter time.Duration
	rename          map[string]string
	webhooks        []string
	proxies         []view.Proxy
	proxyMaxClients int
	configEpoch     uint64

	replicas  []*instance
	sentinels []*instance
	all       []*instance // instances() cache; nil after any change of the lists

	failoverState       foState
	failoverStateChange time.Time
	failoverStartTime   time.Time
	failoverEpoch       uint64
	force               bool
	promoted            *instance
	candidacy           *election.Candidacy
	candidateAt         time.Time // ODOWN seen; candidacy starts after a random desync
	electionFails       int       // elections in a row that got no majority
	lastOpinion         time.Time // last SDOWN opinion broadcast
	switchAt            time.Time // when the last +switch-master happened (repair safety)
	fence               fence
	// Ignoring what is over monitor.MaxReplicas or monitor.MaxSentinels: warned once.
	replicasCapped, sentinelsCapped bool
}

// replica finds the replica at host:port by the name or IP it is known by,
// else by the IP its name led to (an INFO that lists it by IP).
func (m *master) replica(host string, port int) *instance {
	var byIP *instance
	for _, r := range m.replicas {
		switch {
		case r.port != port:
		case r.host == host:
			return r
		case byIP == nil && r.ip == host:
			byIP = r
		}
	}
	return byIP
}

func (m *master) addReplica(host string, port int, now time.Time, link string) (*instance, bool) {
	if r := m.replica(host, port); r != nil {
		return r, false
	}
	if m.inst.isAt(host, port) {
		return nil, false
	}
	r := &instance{kind: view.KindReplica, link: link, name: addr(host, port), host: host, port: port, master: m,
		priority: defaultPriority, replicaAnnounced: true, lastAvail: now, roleReported: "slave", roleReportedTime: now}
	m.replicas = append(m.replicas, r)
	m.all = nil
	return r, true
}

func (m *master) sentinelByID(runID string) *instance {
	for _, si := range m.sentinels {
		if si.runID == runID {
			return si
		}
	}
	return nil
}

func (m *master) addSentinel(runID, host string, port int, now time.Time, link string) *instance {
	si := &instance{kind: view.KindSentinel, link: link, name: runID, runID: runID, host: host, port: port, master: m, lastAvail: now}
	m.sentinels = append(m.sentinels, si)
	m.all = nil
	return si
}

func (m *master) removeSentinel(si *instance) {
	for k, x := range m.sentinels {
		if x == si {
			m.sentinels = append(m.sentinels[:k], m.sentinels[k+1:]...)
			m.all = nil
			return
		}
	}
}

// known is the number of sentinels known for this group, this one included:
// the electorate, whether they answer now or not.
func (m *master) known() int { return len(m.sentinels) + 1 }

// current is where clients should go: the promoted replica once the failover
// reached RECONF_SLAVES, else the master.
func (m *master) current() *instance {
	if m.failoverState >= foReconfSlaves && m.promoted != nil {
		return m.promoted
	}
	return m.inst
}

// instances lists the master, its replicas and its sentinels. The list is
// cached until the group changes; callers must not modify it.
func (m *master) instances() []*instance {
	if m.all == nil {
		m.all = make([]*instance, 0, 1+len(m.replicas)+len(m.sentinels))
		m.all = append(m.all, m.inst)
		m.all = append(m.all, m.replicas...)
		m.all = append(m.all, m.sentinels...)
	}
	return m.all
}
