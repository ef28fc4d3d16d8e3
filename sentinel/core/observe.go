package core

import (
	"strconv"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// observeLink takes one observation from a link (the input Observe).
func (s *State) observeLink(o monitor.Observation) {
	for _, i := range s.byLinkKey(o.Key) {
		s.observe(i, o)
	}
}

// byLinkKey finds the instances a link serves (several for a sentinel that
// watches several groups with us), through an index rebuilt after changes.
func (s *State) byLinkKey(key string) []*instance {
	if s.byLink == nil {
		s.byLink = map[string][]*instance{}
		for _, m := range s.masters {
			for _, i := range m.instances() {
				s.byLink[i.linkKey()] = append(s.byLink[i.linkKey()], i)
			}
		}
	}
	return s.byLink[key]
}

func (s *State) observe(i *instance, o monitor.Observation) {
	now := s.now
	if o.Request != nil && i.pending > 0 {
		i.pending--
	}
	switch o.Kind {
	case monitor.ObsConnected:
		if s.reached(i, o.RemoteIP, o.LocalIP) {
			return
		}
		i.connected = true
		i.connectedAt = now
		i.pending = 0
		s.dirty = true
		// Ask at once: a returning instance must be repaired without
		// waiting for the next INFO period. (A shared peer link's other
		// groups were pinged with the first.)
		if !i.lastPingSent.Equal(now) {
			s.sendPing(i)
		}
		if i.kind != view.KindSentinel {
			s.sendInfo(i)
		}
	case monitor.ObsDisconnected:
		if i.connected {
			s.dirty = true
		}
		// down-after counts from the first sign of trouble, as an
		// unanswered PING would: an instance that answered 900 ms ago and
		// died now is not down until down-after from now.
		if i.pingPending.IsZero() {
			i.pingPending = now
		}
		i.connected = false
		i.pending = 0
		i.infoSent = time.Time{}
		if o.OverLimit {
			s.event(notify.LevelWarning, notify.KindReplyOverLimit, i, o.Err.Error())
		}
	case monitor.ObsPingReply:
		i.lastPingReply = now
		s.dirty = true
		if o.OK {
			i.lastOKPing = now
			i.lastAvail = now
			i.pingPending = time.Time{}
			i.scriptKilled = false
			if !i.rebootSince.IsZero() && strings.HasPrefix(o.Reply, "PONG") {
				i.rebootSince = time.Time{}
			}
		} else if strings.HasPrefix(o.Reply, "BUSY") && i.sdown() && !i.scriptKilled {
			i.scriptKilled = true
			s.send(i, monitor.ScriptKill{})
		}
	case monitor.ObsInfo:
		if o.Info != nil {
			s.observeInfo(i, o.Info)
		}
	case monitor.ObsHello:
		s.processHello(o.Payload, false)
	case monitor.ObsAskReply:
		req, ok := o.Request.(monitor.AskMasterDown)
		if !ok || i.kind != view.KindSentinel || !i.master.inst.isAt(req.Vote.MasterIP, req.Vote.MasterPort) {
			return
		}
		if !validEpoch(o.Ask.LeaderEpoch) || (o.Ask.Leader != "" && !validRunID(o.Ask.Leader)) {
			s.reject(RejectVote, "is-master-down-by-addr reply from "+i.runID+" with leader "+
				quoteField(o.Ask.Leader)+" epoch "+strconv.FormatUint(o.Ask.LeaderEpoch, 10))
			return
		}
		s.recordReply(i, o.Ask.Down, o.Ask.Leader, o.Ask.LeaderEpoch)
	case monitor.ObsReply:
		s.observeReply(i, o)
	}
}

// observeReply handles the outcome of a SLAVEOF transaction, FAILOVER or
// CONFIG (fencing).
func (s *State) observeReply(i *instance, o monitor.Observation) {
	if s.fenceReply(i, o) {
		return
	}
	if _, ok := o.Request.(monitor.Failover); ok && !o.OK {
		// The coordinated switchover was refused (e.g. the replica is not
		// in sync): promote the chosen replica the way Redis Sentinel does.
		m := i.master
		if m.failoverState == foWaitPromotion && m.promoted != nil && i == m.inst {
			s.send(m.promoted, monitor.SlaveOf{})
		}
	}
}

// sendPing pings an instance. A peer sentinel's link is shared by every
// group that knows it: one PING serves them all, as in Redis where the
// ping timers belong to the link.
func (s *State) sendPing(i *instance) {
	shared := []*instance{i}
	if i.kind == view.KindSentinel {
		shared = s.byLinkKey(i.linkKey())
	}
	for _, x := range shared {
		x.lastPingSent = s.now
		if x.pingPending.IsZero() {
			x.pingPending = s.now
		}
	}
	s.send(i, monitor.Ping{})
}

func (s *State) sendInfo(i *instance) {
	i.infoSent = s.now
	s.send(i, monitor.InfoRequest{})
}

// observeInfo applies an INFO reply: Redis' sentinelRefreshInstanceInfo.
func (s *State) observeInfo(i *instance, info *monitor.Info) {
	now := s.now
	m := i.master
	i.infoRefresh = now
	i.infoSent = time.Time{}
	i.info = info
	s.dirty = true

	if info.RunID != "" && !validRunID(info.RunID) {
		s.reject(RejectInfo, i.name+" run_id "+quoteField(info.RunID))
	} else if info.RunID != "" && i.runID != info.RunID {
		if i.runID != "" {
			s.event(notify.LevelNotice, notify.KindReboot, i, "")
			if i.kind == view.KindMaster && m.rebootDownAfter > 0 {
				i.rebootSince = now
			}
		}
		i.runID = info.RunID
	}

	if i.kind == view.KindMaster && info.Role == "master" {
		over := info.ReplicasOmitted
		for _, e := range info.Replicas {
			if !s.validHost(e.IP) || !validPort(e.Port) {
				s.reject(RejectInfo, i.name+" replica "+quoteField(e.IP)+" port "+strconv.Itoa(e.Port))
				continue
			}
			if m.replica(e.IP, e.Port) != nil {
				continue
			}
			// Over the cap nothing is looked up: a hostile master could
			// list thousands of names on every INFO.
			if len(m.replicas) >= monitor.MaxReplicas {
				over++
				continue
			}
			if s.renamedReplica(m, e.IP, e.Port) {
				continue
			}
			if r, added := s.addReplica(m, e.IP, e.Port); added {
				s.event(notify.LevelNotice, notify.KindSlave, r, "")
				s.persist()
				s.linksChanged()
			}
		}
		m.replicasCapped = s.capReached(m, m.replicasCapped, over > 0, notify.KindMaxReplicasReached, monitor.MaxReplicas)
		s.readFence(m)
	}

	if info.Role == "slave" {
		i.masterLinkDownTime = info.MasterLinkDownSince
		i.masterLinkUp = info.MasterLinkUp
		masterHost, masterPort := info.MasterHost, info.MasterPort
		if masterHost != "" && (!s.validHost(masterHost) || !validPort(masterPort)) {
			// Kept as unknown: the replica is then repaired, never followed.
			s.reject(RejectInfo, i.name+" master_host "+quoteField(masterHost)+" master_port "+
				strconv.Itoa(masterPort))
			masterHost, masterPort = "", 0
		}
		if masterHost != i.slaveMasterHost || masterPort != i.slaveMasterPort {
			i.slaveMasterHost = masterHost
			i.slaveMasterPort = masterPort
			i.slaveConfChange = now
		}
		i.priority = info.SlavePriority
		i.replOffset = info.SlaveReplOffset
		i.replicaAnnounced = info.ReplicaAnnounced
	}

	if info.Role != "" && info.Role != i.roleReported {
		i.roleReported = info.Role
		i.roleReportedTime = now
		if info.Role == "slave" {
			i.slaveConfChange = now
		}
		kind := notify.KindRoleChangeCleared
		if (i.kind == view.KindMaster) == (info.Role == "master") {
			kind = notify.KindRoleChange
		}
		s.event(notify.LevelVerbose, kind, i, "new reported role is "+info.Role)
	}

	if s.tilt || i.kind != view.KindReplica {
		return
	}
	switch info.Role {
	case "master":
		s.replicaReportsMaster(i)
	case "slave":
		s.replicaReportsReplica(i)
	}
}

// replicaReportsMaster: a promotion we asked for, or an instance (typically
// the old master coming back) that must be turned into a replica.
func (s *State) replicaReportsMaster(i *instance) {
	m := i.master
	if i.promoted && m.failoverState == foWaitPromotion {
		s.promoted(m, i)
		return
	}
	// Redis waits 4×publish period (8 s) here so that a newer configuration
	// can arrive first. Our configurations spread by gossip within
	// milliseconds, so a short grace period is enough.
	wait := s.convertGrace()
	if !i.promoted && s.masterLooksSane(m) && !i.sdown() && s.now.Sub(i.roleReportedTime) > wait {
		s.send(i, monitor.SlaveOf{Host: s.shown(m.inst), Port: m.inst.port})
		s.event(notify.LevelNotice, notify.KindConvertToSlave, i, "")
	}
}

func (s *State) convertGrace() time.Duration { return s.opts.Timers.PingPeriod }

func (s *State) replicaReportsReplica(i *instance) {
	m := i.master
	if !i.promoted && !m.inst.isAt(i.slaveMasterHost, i.slaveMasterPort) {
		wait := m.failoverTimeout
		if s.masterLooksSane(m) && s.noDownFor(i, wait) && s.now.Sub(i.slaveConfChange) > wait &&
			m.failoverState == foNone {
			s.send(i, monitor.SlaveOf{Host: s.shown(m.inst), Port: m.inst.port})
			s.event(notify.LevelNotice, notify.KindFixSlaveConfig, i, "")
		}
	}
	p := m.promoted
	if p == nil || m.failoverState != foReconfSlaves {
		return
	}
	if i.reconfSent && p.isAt(i.slaveMasterHost, i.slaveMasterPort) {
		i.reconfSent = false
		i.reconfInprog = true
		s.event(notify.LevelNotice, notify.KindSlaveReconfInprog, i, "")
	}
	if i.reconfInprog && i.masterLinkUp {
		i.reconfInprog = false
		i.reconfDone = true
		s.event(notify.LevelNotice, notify.KindSlaveReconfDone, i, "")
	}
}

// masterLooksSane: Redis' sentinelMasterLooksSane.
func (s *State) masterLooksSane(m *master) bool {
	mi := m.inst
	return mi.roleReported == "master" && !mi.sdown() && !mi.odown() && !mi.infoRefresh.IsZero() &&
		s.now.Sub(mi.infoRefresh) < 2*s.opts.Timers.InfoPeriod
}

// noDownFor: the instance was not SDOWN/ODOWN in the last d.
func (s *State) noDownFor(i *instance, d time.Duration) bool {
	if i.sdown() || i.odown() {
		return false
	}
	return i.downEnded.IsZero() || s.now.Sub(i.downEnded) > d
}

// processHello applies a hello message (docs/behaviour.md §3.3). A hello that came by
// gossip carries the sender's gossip address, which may differ from the one
// its Redis links use, so it only updates sentinels already known and never
// their address.
func (s *State) processHello(payload string, viaGossip bool) {
	h, reason := s.parseHello(payload)
	if reason != "" {
		s.reject(RejectHello, reason)
		return
	}
	ip, port, runID, epoch := h.ip, h.port, h.runID, h.epoch
	masterIP, masterPort, configEpoch := h.masterHost, h.masterPort, h.configEpoch
	if runID == s.opts.MyID {
		return
	}
	m := s.master(h.master)
	if m == nil || s.isSelf(m, ip, port) {
		return
	}
	now := s.now
	si := m.sentinelByID(runID)
	if viaGossip && si == nil {
		return
	}
	if !viaGossip && (si == nil || si.host != ip || si.port != port) {
		full := si == nil && len(m.sentinels) >= monitor.MaxSentinels
		if m.sentinelsCapped = s.capReached(m, m.sentinelsCapped, full, notify.KindMaxSentinelsReached, monitor.MaxSentinels); full {
			return
		}
		s.addHelloSentinel(m, runID, ip, port)
		si = m.sentinelByID(runID)
	}
	if s.voter.ObserveEpoch(epoch) {
		s.persist()
		s.epochEvent(m, notify.KindNewEpoch, epoch, "")
		// A peer raised the epoch while this sentinel waits to stand: it
		// is most likely a candidate whose vote request is on its way.
		// Standing now, in the next epoch, would compete with it.
		if !m.candidateAt.IsZero() {
			m.candidateAt = maxTime(m.candidateAt, s.now.Add(electionRound))
		}
	}
	if configEpoch > m.configEpoch {
		m.configEpoch = configEpoch
		s.persist()
		if !m.inst.isAt(masterIP, masterPort) {
			s.event(notify.LevelWarning, notify.KindConfigUpdateFrom, si, "")
			oldHost, oldPort := s.shown(m.inst), m.inst.port
			s.switchMaster(m, masterIP, masterPort)
			// The new address as this sentinel reports it (a replica known
			// by name keeps it), not as the peer's hello spelled it.
			if argv := reconfigArgv(m, "observer", oldHost, oldPort, s.shown(m.inst), m.inst.port); argv != nil {
				s.out.Scripts = append(s.out.Scripts, argv)
			}
		}
	}
	si.lastHello = now
	s.dirty = true
}

// capReached raises kind once when a master group starts ignoring what is
// over one of its caps, and returns whether it still does.
func (s *State) capReached(m *master, warned, reached bool, kind notify.Kind, limit int) bool {
	if reached && !warned {
		s.event(notify.LevelWarning, kind, m.inst, "#max "+strconv.Itoa(limit))
	}
	return reached
}

// addHelloSentinel adds a sentinel learned from a hello to m, handling a
// run id that moved and an address taken over by another run id. As in
// Redis, this is per master group: each group hears the peer's own hellos.
func (s *State) addHelloSentinel(m *master, runID, ip string, port int) {
	old := m.sentinelByID(runID)
	if old != nil {
		m.removeSentinel(old)
		s.event(notify.LevelNotice, notify.KindSentinelAddressSwitch, m.inst,
			"ip "+ip+" port "+strconv.Itoa(port)+" for "+runID)
	} else {
		for _, other := range m.sentinels {
			if other.host == ip && other.port == port {
				s.event(notify.LevelNotice, notify.KindSentinelInvalidAddr, other, "")
				s.removeSentinelEverywhere(other.runID)
				break
			}
		}
	}
	si := s.addSentinel(m, runID, ip, port)
	if old == nil {
		s.event(notify.LevelNotice, notify.KindSentinel, si, "")
	}
	s.out.Join = append(s.out.Join, addr(ip, port))
	s.persist()
	s.linksChanged()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (s *State) removeSentinelEverywhere(runID string) {
	for _, mm := range s.masters {
		if x := mm.sentinelByID(runID); x != nil {
			mm.removeSentinel(x)
		}
	}
}

// recordReply stores a peer's answer about a master: its SDOWN opinion and
// its vote.
func (s *State) recordReply(si *instance, down bool, leader string, leaderEpoch uint64) {
	si.masterDown = down
	si.masterDownReply = s.now
	s.dirty = true
	if leader != "" {
		si.leader = leader
		si.leaderEpoch = leaderEpoch
	}
	// A reply for an older epoch answers an earlier request: it says
	// nothing about this candidacy.
	if c := si.master.candidacy; c != nil && leader != "" && leaderEpoch >= c.Epoch() {
		c.Record(si.runID, voteOf(leader, leaderEpoch))
	}
}

// handlePeer takes a message from a gossiping peer sentinel (the input
// Peer). Only messages from a sentinel known for that master count, and a
// vote reply only if this sentinel asked that peer (askedRecently).
func (s *State) handlePeer(msg peer.Message) {
	switch p := msg.(type) {
	case peer.Opinion:
		// A sender whose epoch predates the master's last failover speaks
		// of the old master, or is a replay from before it.
		if si := s.peerSender(p.Master, p.From); si != nil && p.Epoch >= si.master.configEpoch {
			si.masterDown = p.Down
			si.masterDownReply = s.now
			s.dirty = true
		}
	case peer.VoteRequest:
		si := s.peerSender(p.Master, p.From)
		switch {
		case si == nil:
			return
		case !validEpoch(p.Epoch):
			s.reject(RejectPeer, "vote request epoch "+strconv.FormatUint(p.Epoch, 10))
			return
		case p.Candidate != "" && p.Candidate != p.From:
			s.reject(RejectPeer, "vote request from "+p.From+" for another candidate")
			return
		}
		m := si.master
		reply := peer.VoteReply{From: s.opts.MyID, Master: p.Master}
		// Like IS-MASTER-DOWN-BY-ADDR, the question is about the master at
		// that address: a peer that still asks about an old address gets
		// no vote.
		if m.inst.isAt(p.MasterIP, p.MasterPort) {
			reply.Down, reply.Leader, reply.LeaderEpoch = s.voteRequest(m, p.Epoch, p.Candidate)
		}
		s.out.Peers = append(s.out.Peers, PeerSend{To: p.From, Msg: reply})
	case peer.VoteReply:
		si := s.peerSender(p.Master, p.From)
		switch {
		case si == nil:
			return
		case !validEpoch(p.LeaderEpoch) || (p.Leader != "" && !validRunID(p.Leader)):
			s.reject(RejectPeer, "vote reply from "+p.From+" with leader "+quoteField(p.Leader)+
				" epoch "+strconv.FormatUint(p.LeaderEpoch, 10))
			return
		case !s.askedRecently(si):
			s.reject(RejectPeer, "vote reply from "+p.From+" that was not asked")
			return
		}
		s.recordReply(si, p.Down, p.Leader, p.LeaderEpoch)
	case peer.Hello:
		s.processHello(p.Payload, true)
	}
}

// peerSender is the known sentinel runID of master name, or nil. A sender
// that is not even a well-formed run id is counted as invalid input.
func (s *State) peerSender(name, runID string) *instance {
	if !validRunID(runID) || !validName(name) {
		s.reject(RejectPeer, "sender "+quoteField(runID)+" master "+quoteField(name))
		return nil
	}
	m := s.master(name)
	if m == nil {
		return nil
	}
	return m.sentinelByID(runID)
}
