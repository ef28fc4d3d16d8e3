package core

import (
	"strconv"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// maxPending is how many requests may wait on a link before this sentinel
// stops queueing periodic ones (Redis: 100 per link).
const maxPending = 100

// tick runs the timers (the input Tick).
func (s *State) tick(now time.Time) {
	gap := now.Sub(s.lastTick)
	s.lastTick = now
	s.now = now
	if gap < 0 || gap > s.opts.Timers.TiltTrigger {
		s.enterTilt()
	}
	var switched []*master
	for _, m := range s.masters {
		for _, i := range m.instances() {
			s.periodic(i)
		}
		if s.tilt {
			continue
		}
		for _, i := range m.instances() {
			s.checkSDown(i)
		}
		s.checkODown(m)
		s.askPeers(m, false)
		s.maybeStartFailover(m)
		s.stepFailover(m)
		s.stepFence(m)
		if m.failoverState == foUpdateConfig {
			switched = append(switched, m)
		}
	}
	// Redis switches after the instance loop so the replica table it
	// iterates stays intact.
	for _, m := range switched {
		s.finishFailover(m)
	}
	s.expireRetired()
	if s.tilt && now.Sub(s.tiltSince) > s.opts.Timers.TiltPeriod {
		s.tilt = false
		s.plainEvent(notify.KindTiltExited, "#tilt mode exited")
	}
}

func (s *State) enterTilt() {
	s.tiltSince = s.now
	if !s.tilt {
		s.tilt = true
		s.totalTilt++
		s.plainEvent(notify.KindTilt, "#tilt mode entered")
	}
}

// periodic queues the PING, INFO and hello an instance is due.
func (s *State) periodic(i *instance) {
	if !i.connected || i.pending >= maxPending {
		return
	}
	now := s.now
	t := s.opts.Timers
	m := i.master
	if i.kind != view.KindSentinel {
		period := s.infoPeriod(i)
		if (i.infoRefresh.IsZero() || now.Sub(i.infoRefresh) >= period) &&
			(i.infoSent.IsZero() || now.Sub(i.infoSent) >= period) {
			s.sendInfo(i)
		}
	}
	pingPeriod := min(m.downAfter, t.PingPeriod)
	if now.Sub(i.lastPingReply) > pingPeriod && now.Sub(i.lastPingSent) > pingPeriod/2 {
		s.sendPing(i)
	}
	if now.Sub(i.lastHelloSent) >= t.PublishPeriod {
		s.sendHello(i)
	}
}

// infoPeriod: 10 s normally; faster while the group is in trouble or an
// instance is changing role, so that decisions use fresh data.
func (s *State) infoPeriod(i *instance) time.Duration {
	t := s.opts.Timers
	m := i.master
	fast := min(t.InfoPeriod, time.Second)
	if i.kind == view.KindMaster && m.fence.watching() {
		return fast
	}
	if i.kind != view.KindReplica {
		return t.InfoPeriod
	}
	switch {
	case i.reconfSent || i.reconfInprog || (i.promoted && m.failoverState == foWaitPromotion):
		return min(fast, 100*time.Millisecond)
	case i.roleReported == "master" && !i.promoted:
		return min(fast, t.PingPeriod/2)
	case m.inst.sdown() || m.failoverState != foNone || i.masterLinkDownTime != 0:
		return fast
	}
	return t.InfoPeriod
}

func (s *State) helloPayload(m *master, ip string) string {
	c := m.current()
	return ip + "," + strconv.Itoa(s.announcedPort()) + "," + s.opts.MyID + "," +
		strconv.FormatUint(s.voter.CurrentEpoch(), 10) + "," + m.inst.name + "," +
		s.shown(c) + "," + strconv.Itoa(c.port) + "," + strconv.FormatUint(m.configEpoch, 10)
}

func (s *State) sendHello(i *instance) {
	i.lastHelloSent = s.now
	full := s.helloPayload(i.master, "")
	s.send(i, monitor.Hello{AnnounceIP: s.opts.AnnounceIP, Rest: full[1:]})
}

// announceConfig pushes this sentinel's view of m to every gossiping peer
// at once and makes every link send a hello on the next tick.
func (s *State) announceConfig(m *master) {
	for _, i := range m.instances() {
		i.lastHelloSent = time.Time{}
	}
	ip := s.opts.AnnounceIP
	if ip == "" {
		ip = s.opts.SelfIP
	}
	if ip != "" {
		s.out.Peers = append(s.out.Peers, PeerSend{Msg: peer.Hello{Payload: s.helloPayload(m, ip)}})
	}
}

// checkSDown: docs/behaviour.md §3.4.
func (s *State) checkSDown(i *instance) {
	now := s.now
	m := i.master
	var elapsed time.Duration
	switch {
	case !i.pingPending.IsZero():
		elapsed = now.Sub(i.pingPending)
	case !i.connected:
		elapsed = now.Sub(i.lastAvail)
	}
	down := elapsed > m.downAfter
	if i.kind == view.KindMaster {
		if i.roleReported == "slave" && now.Sub(i.roleReportedTime) > m.downAfter+2*s.opts.Timers.InfoPeriod {
			down = true
		}
		if !i.rebootSince.IsZero() && now.Sub(i.rebootSince) > m.rebootDownAfter {
			down = true
		}
	}
	switch {
	case down && !i.sdown():
		i.sdownSince = now
		s.event(notify.LevelWarning, notify.KindSDown, i, "")
		if i.kind == view.KindMaster {
			s.broadcastOpinion(m)
			// Fresh replica data for the replica selection that may follow.
			for _, r := range m.replicas {
				if r.connected {
					s.sendInfo(r)
				}
			}
		}
	case !down && i.sdown():
		i.sdownSince = time.Time{}
		i.downEnded = now
		i.scriptKilled = false
		s.event(notify.LevelWarning, notify.KindSDownCleared, i, "")
		if i.kind == view.KindMaster {
			s.broadcastOpinion(m)
		}
	}
}

func (s *State) broadcastOpinion(m *master) {
	m.lastOpinion = s.now
	s.out.Peers = append(s.out.Peers, PeerSend{Msg: peer.Opinion{From: s.opts.MyID, Master: m.inst.name, Down: m.inst.sdown(),
		Epoch: s.voter.CurrentEpoch()}})
}

// staleAfter is how long a peer's opinion counts (Redis: 5 × ask period).
func (s *State) staleAfter() time.Duration { return 5 * s.opts.Timers.AskPeriod }

// holdsDown: the peer sentinel si's recent opinion is that its master is
// down.
func (s *State) holdsDown(si *instance) bool {
	return si.masterDown && s.now.Sub(si.masterDownReply) <= s.staleAfter()
}

// checkODown: docs/behaviour.md §3.4, counting this sentinel and every peer whose recent
// opinion is "down".
func (s *State) checkODown(m *master) {
	now := s.now
	votes := 0
	if m.inst.sdown() {
		votes = 1
		for _, si := range m.sentinels {
			if s.holdsDown(si) {
				votes++
			}
		}
	}
	odown := m.inst.sdown() && votes >= m.quorum
	switch {
	case odown && !m.inst.odown():
		m.inst.odownSince = now
		s.event(notify.LevelWarning, notify.KindODown, m.inst, "#quorum "+strconv.Itoa(votes)+"/"+strconv.Itoa(m.quorum))
	case !odown && m.inst.odown():
		m.inst.odownSince = time.Time{}
		m.inst.downEnded = now
		s.event(notify.LevelWarning, notify.KindODownCleared, m.inst, "")
	}
}

// askPeers asks the peers' opinions and, during an election, their votes:
// over gossip for peers that gossip, with IS-MASTER-DOWN-BY-ADDR otherwise.
// Redis does this once per ask period while the master is SDOWN; force asks
// everyone now (failover start).
func (s *State) askPeers(m *master, force bool) {
	now := s.now
	for _, si := range m.sentinels {
		if si.masterDown && now.Sub(si.masterDownReply) > s.staleAfter() {
			si.masterDown = false
			si.leader = ""
			s.dirty = true
		}
	}
	if !m.inst.sdown() {
		return
	}
	if now.Sub(m.lastOpinion) >= s.opts.Timers.AskPeriod {
		s.broadcastOpinion(m)
	}
	candidate := ""
	if m.failoverState != foNone {
		candidate = s.opts.MyID
	}
	// One request, over gossip or as IS-MASTER-DOWN-BY-ADDR.
	ask := peer.VoteRequest{From: s.opts.MyID, Master: m.inst.name, MasterIP: s.shown(m.inst), MasterPort: m.inst.port,
		Epoch: s.voter.CurrentEpoch(), Candidate: candidate}
	for _, si := range m.sentinels {
		if !force && !s.dueForAsk(m, si, candidate != "") {
			continue
		}
		if s.gossipPeers[si.runID] {
			if candidate == "" {
				continue // opinions arrive by broadcast
			}
			si.lastAsk = now
			s.out.Peers = append(s.out.Peers, PeerSend{To: si.runID, Msg: ask})
			continue
		}
		if !si.connected || si.pending >= maxPending {
			continue
		}
		si.lastAsk = now
		s.send(si, monitor.AskMasterDown{Vote: ask})
	}
}

// voteRetry is how often a candidate re-asks a peer whose vote for the
// current epoch has not arrived: a lost packet must not lose the election.
const voteRetry = 100 * time.Millisecond

// dueForAsk: opinions are asked once per ask period unless one arrived
// meanwhile; during an election each peer is asked until its vote for this
// epoch arrived, since gossiped opinions carry no vote.
func (s *State) dueForAsk(m *master, si *instance, election bool) bool {
	since := s.now.Sub(si.lastAsk)
	if election {
		return si.leaderEpoch != m.failoverEpoch && since >= voteRetry
	}
	period := s.opts.Timers.AskPeriod
	return since >= period && s.now.Sub(si.masterDownReply) >= period
}

// urgentPing is how long an unanswered PING may be outstanding before the
// instance counts as possibly failing.
const urgentPing = 20 * time.Millisecond

// Urgent reports whether a decision may be due soon, so the daemon should
// run timers often: a master is down or failing over, or an instance that is
// not SDOWN yet stopped answering. Otherwise a slow tick is enough.
func (s *State) Urgent() bool {
	for _, m := range s.masters {
		if m.inst.sdown() || m.failoverState != foNone {
			return true
		}
		for _, i := range m.instances() {
			if i.sdown() {
				continue
			}
			if !i.connected || (!i.pingPending.IsZero() && s.now.Sub(i.pingPending) > urgentPing) {
				return true
			}
		}
	}
	return false
}

// NextWake is when a timer must run regardless of the tick: the moment a
// desynchronised candidacy starts. Ticks are aligned across sentinels (they
// all speed up on the same event), so rounding that moment to a tick would
// make candidates collide. Zero when nothing is scheduled.
func (s *State) NextWake() time.Time {
	var next time.Time
	for _, m := range s.masters {
		if c := m.candidateAt; !c.IsZero() && (next.IsZero() || c.Before(next)) {
			next = c
		}
	}
	return next
}
