package core

import (
	"encoding/binary"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/election"
	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/notify"
)

// foState is the failover state of a master group (docs/behaviour.md §4).
type foState int

const (
	foNone foState = iota
	foWaitStart
	foSelectSlave
	foSendSlaveofNoone
	foWaitPromotion
	foReconfSlaves
	foUpdateConfig
)

var foNames = [...]string{"none", "wait_start", "select_slave", "send_slaveof_noone", "wait_promotion",
	"reconf_slaves", "update_config"}

func (f foState) String() string { return foNames[f] }

func voteOf(leader string, epoch uint64) election.Vote {
	return election.Vote{Leader: leader, Epoch: epoch}
}

// CandidacyDelay is the default Options.Desync, the step between the
// candidacies of sentinels that see ODOWN together (docs/elections.md,
// "Who stands first"). They rank the sentinels that hold the master down
// the same way, so the first stands at once, within a random half step,
// and its vote request reaches the others long before their turn. A
// sentinel whose view of the ranking differs may still collide; a split
// vote costs only a retry (retryBackoff).
const CandidacyDelay = 40 * time.Millisecond

// retryWindow is the first randomized back-off before a candidate whose
// election got no majority stands again in a new epoch, as in Raft; it
// doubles with every further failed round (up to retryMaxDoublings), so a
// candidate cut off from the majority does not raise the epoch fast.
const (
	retryWindow       = 150 * time.Millisecond
	retryMaxDoublings = 5
)

// otherLeaderGrace is added to the back-off when another sentinel may have
// won the lost epoch: about the time a leader needs to promote a replica
// (INFO is polled every 100 ms then) and announce it.
const otherLeaderGrace = 400 * time.Millisecond

// electionRound is how long a candidate waits for the votes it misses
// (re-asked every voteRetry) before it gives up on the epoch.
const electionRound = 300 * time.Millisecond

// maybeStartFailover: Redis' start gate (docs/elections.md),
// plus a short random delay before standing as a candidate so that
// sentinels which reach ODOWN together rarely split the vote.
func (s *State) maybeStartFailover(m *master) {
	if !m.inst.odown() || m.failoverState != foNone {
		m.candidateAt = time.Time{}
		if !m.inst.odown() {
			m.electionFails = 0
		}
		return
	}
	if !m.failoverStartTime.IsZero() && s.now.Sub(m.failoverStartTime) < 2*m.failoverTimeout {
		return
	}
	if m.candidateAt.IsZero() {
		m.candidateAt = s.now.Add(s.candidacyDelay(m))
	}
	if s.now.Before(m.candidateAt) {
		return
	}
	s.startFailover(m)
}

// candidacyDelay is this sentinel's rank among those that hold m down,
// times Desync, plus a random half step. The ranking changes with the
// epoch, so a sentinel that stands first and fails does not stand first
// in the next one too.
func (s *State) candidacyDelay(m *master) time.Duration {
	if s.opts.Desync <= 0 {
		return 0
	}
	epoch := s.voter.CurrentEpoch()
	mine := candidacyRank(s.opts.MyID, epoch)
	ahead := 0
	for _, si := range m.sentinels {
		if s.holdsDown(si) && candidacyRank(si.runID, epoch) < mine {
			ahead++
		}
	}
	return time.Duration(ahead)*s.opts.Desync + time.Duration(s.rng.Int63n(int64(s.opts.Desync/2)+1))
}

// candidacyRank orders run ids the same way on every sentinel of an epoch.
func candidacyRank(runID string, epoch uint64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(runID))
	h.Write(binary.BigEndian.AppendUint64(nil, epoch))
	return h.Sum64()
}

func (s *State) startFailover(m *master) {
	c, d := s.voter.StartCandidacy(m.inst.name, s.opts.MyID)
	if c == nil {
		return // the epoch is at its cap: no election can start
	}
	m.candidateAt = time.Time{}
	m.failoverState = foWaitStart
	m.failoverStateChange = s.now
	m.candidacy = c
	m.failoverEpoch = c.Epoch()
	s.epochEvent(m, notify.KindNewEpoch, c.Epoch(), "")
	s.event(notify.LevelWarning, notify.KindTryFailover, m.inst, "")
	s.applyDecision(m, d)
	m.failoverStartTime = s.now.Add(time.Duration(s.rng.Int63n(int64(time.Second))))
	s.askPeers(m, true)
}

// retryBackoff is the random wait before standing again after the
// fails-th election in a row that got no majority.
func (s *State) retryBackoff(fails int) time.Duration {
	window := retryWindow << min(max(fails-1, 0), retryMaxDoublings)
	return time.Duration(s.rng.Int63n(int64(window)))
}

// applyDecision emits the events of a voting step and persists it.
func (s *State) applyDecision(m *master, d election.Decision) {
	if d.Persist() {
		s.persist()
	}
	if d.Voted {
		s.epochEvent(m, notify.KindVoteForLeader, d.Vote.Epoch, d.Vote.Leader)
	}
}

// voteRequest handles a peer's request (IS-MASTER-DOWN-BY-ADDR or gossip)
// for master m; it returns our opinion and our stored vote.
func (s *State) voteRequest(m *master, epoch uint64, candidate string) (down bool, leader string, leaderEpoch uint64) {
	down = m.inst.sdown() && !s.tilt
	if candidate == "" {
		return down, "", 0
	}
	if m.failoverState >= foSelectSlave && candidate != s.opts.MyID {
		// This sentinel was elected and is failing the master over: a
		// candidate that missed the result must not start a second
		// failover in a newer epoch. It gets the stored vote.
		v := s.voter.VoteOf(m.inst.name)
		return down, v.Leader, v.Epoch
	}
	d := s.voter.HandleRequest(m.inst.name, epoch, candidate)
	if d.EpochRaised {
		s.epochEvent(m, notify.KindNewEpoch, s.voter.CurrentEpoch(), "")
	}
	s.applyDecision(m, d)
	if d.Voted && d.Vote.Leader != s.opts.MyID {
		// We voted for another: do not start our own failover for a while,
		// and stop standing in an older epoch, as a Raft candidate steps
		// down on a higher term: two leaders of different epochs would
		// both fail over.
		m.failoverStartTime = s.now.Add(time.Duration(s.rng.Int63n(int64(time.Second))))
		m.candidateAt = time.Time{}
		if m.failoverState == foWaitStart && !m.force {
			s.event(notify.LevelWarning, notify.KindAbortNotElected, m.inst, "")
			s.abortFailover(m)
		}
	}
	return down, d.Vote.Leader, d.Vote.Epoch
}

func (s *State) stepFailover(m *master) {
	switch m.failoverState {
	case foWaitStart:
		s.failoverWaitStart(m)
	case foSelectSlave:
		s.failoverSelectSlave(m)
	case foSendSlaveofNoone:
		s.failoverSendSlaveofNoone(m)
	case foWaitPromotion:
		s.failoverWaitPromotion(m)
	case foReconfSlaves:
		s.failoverReconfSlaves(m)
	}
}

func (s *State) setFailoverState(m *master, st foState) {
	m.failoverState = st
	m.failoverStateChange = s.now
	s.dirty = true
}

// failoverWaitStart counts the votes. A split vote, or a round in which
// the missing votes never came, is retried in a new epoch after a short
// random back-off; Redis' guard of 2 × failover-timeout between attempts
// stays only for a master another sentinel won (or this one promoted).
func (s *State) failoverWaitStart(m *master) {
	leader, ok := m.candidacy.Leader(m.known(), m.quorum)
	if !(ok && leader == s.opts.MyID) && !m.force {
		if ok {
			// Another sentinel has the majority: it fails over.
			s.event(notify.LevelWarning, notify.KindAbortNotElected, m.inst, "")
			s.abortFailover(m)
			return
		}
		round := min(s.opts.Timers.ElectionTimeout, m.failoverTimeout, electionRound)
		c := m.candidacy
		if !c.Lost(s.opts.MyID, m.known(), m.quorum) && s.now.Sub(m.failoverStateChange) <= round {
			return
		}
		wait := s.retryBackoff(m.electionFails + 1)
		if c.OtherMayWin(s.opts.MyID, m.known(), m.quorum) {
			// Votes are missing that could have elected another: give it
			// the time to promote and announce before a newer epoch.
			wait += otherLeaderGrace
		}
		s.event(notify.LevelWarning, notify.KindAbortNotElected, m.inst, "")
		s.abortFailover(m)
		m.electionFails++
		m.failoverStartTime = time.Time{}
		m.candidateAt = s.now.Add(wait)
		return
	}
	m.electionFails = 0
	s.event(notify.LevelWarning, notify.KindElectedLeader, m.inst, "")
	if s.simFlags&simCrashAfterElection != 0 {
		s.out.Exit = 99
	}
	s.event(notify.LevelWarning, notify.KindStateSelectSlave, m.inst, "")
	s.setFailoverState(m, foSelectSlave)
	s.failoverSelectSlave(m)
}

func (s *State) failoverSelectSlave(m *master) {
	r, reasons := s.selectReplica(m)
	if r == nil {
		s.event(notify.LevelWarning, notify.KindAbortNoGoodSlave, m.inst, reasons)
		s.abortFailover(m)
		return
	}
	s.event(notify.LevelWarning, notify.KindSelectedSlave, r, "")
	r.promoted = true
	m.promoted = r
	s.event(notify.LevelNotice, notify.KindStateSendSlaveofNoone, r, "")
	s.setFailoverState(m, foSendSlaveofNoone)
	s.failoverSendSlaveofNoone(m)
}

func (s *State) failoverSendSlaveofNoone(m *master) {
	r := m.promoted
	if !r.connected {
		if s.now.Sub(m.failoverStateChange) > m.failoverTimeout {
			s.event(notify.LevelWarning, notify.KindAbortSlaveTimeout, m.inst, "")
			s.abortFailover(m)
		}
		return
	}
	if m.force && m.inst.connected && !m.inst.sdown() {
		// Coordinated switchover: the master pauses writes until the
		// chosen replica caught up, then swaps roles with it.
		s.send(m.inst, monitor.Failover{Host: s.shown(r), Port: r.port, Timeout: m.failoverTimeout})
	} else {
		s.send(r, monitor.SlaveOf{})
	}
	s.event(notify.LevelNotice, notify.KindStateWaitPromotion, r, "")
	s.setFailoverState(m, foWaitPromotion)
}

// failoverWaitPromotion waits for the chosen replica to report role:master.
// A link's queue goes with its connection, so a SLAVEOF NO ONE sent just
// before the replica's link dropped may never have left: when the link has
// come back since, and an INFO on it still says role:slave (role:master
// would have promoted it), SLAVEOF NO ONE is sent again and its wait starts
// anew. It is idempotent. A forced failover (SENTINEL FAILOVER) is left as
// it was: its FAILOVER went to the master, whose link this does not follow.
func (s *State) failoverWaitPromotion(m *master) {
	r := m.promoted
	if s.now.Sub(m.failoverStateChange) > m.failoverTimeout {
		s.event(notify.LevelWarning, notify.KindAbortSlaveTimeout, m.inst, "")
		s.abortFailover(m)
		return
	}
	if !m.force && r.connected && r.connectedAt.After(m.failoverStateChange) && r.infoRefresh.After(r.connectedAt) {
		s.send(r, monitor.SlaveOf{})
		s.setFailoverState(m, foWaitPromotion)
	}
}

// promoted: the chosen replica reports role:master.
func (s *State) promoted(m *master, r *instance) {
	m.configEpoch = m.failoverEpoch
	s.setFailoverState(m, foReconfSlaves)
	s.persist()
	s.event(notify.LevelWarning, notify.KindPromotedSlave, r, "")
	if s.simFlags&simCrashAfterPromotion != 0 {
		s.out.Exit = 99
	}
	s.event(notify.LevelWarning, notify.KindStateReconfSlaves, m.inst, "")
	if argv := reconfigArgv(m, "leader", s.shown(m.inst), m.inst.port, s.shown(r), r.port); argv != nil {
		s.out.Scripts = append(s.out.Scripts, argv)
	}
	s.announceConfig(m)
	if m.inst.connected && !m.inst.sdown() {
		// A reachable old master (manual failover) is made a replica now,
		// not after the switch, and its clients are disconnected so they
		// rediscover the master instead of writing into a replica.
		s.send(m.inst, monitor.SlaveOf{Host: s.shown(r), Port: r.port})
	}
	s.failoverReconfSlaves(m)
}

func reconfigArgv(m *master, role, fromHost string, fromPort int, toHost string, toPort int) []string {
	if m.reconfigScript == "" {
		return nil
	}
	return notify.ReconfigArgv(m.reconfigScript, m.inst.name, role, fromHost, fromPort, toHost, toPort)
}

func (s *State) failoverReconfSlaves(m *master) {
	now := s.now
	p := m.promoted
	inProgress := 0
	for _, r := range m.replicas {
		if r.reconfSent || r.reconfInprog {
			inProgress++
		}
	}
	for _, r := range m.replicas {
		if r.reconfSent && now.Sub(r.reconfSentTime) > s.opts.Timers.SlaveReconfTimeout {
			s.event(notify.LevelNotice, notify.KindSlaveReconfSentTimeout, r, "")
			r.reconfSent = false
			r.reconfDone = true
			inProgress--
		}
	}
	for _, r := range m.replicas {
		if inProgress >= m.parallelSyncs {
			break
		}
		if r.promoted || r.reconfDone || r.reconfSent || r.reconfInprog || !r.connected {
			continue
		}
		s.send(r, monitor.SlaveOf{Host: s.shown(p), Port: p.port})
		r.reconfSent = true
		r.reconfSentTime = now
		s.event(notify.LevelNotice, notify.KindSlaveReconfSent, r, "")
		inProgress++
	}
	s.detectFailoverEnd(m)
}

func (s *State) detectFailoverEnd(m *master) {
	p := m.promoted
	if p == nil || p.sdown() {
		return
	}
	notDone := 0
	for _, r := range m.replicas {
		if !r.promoted && !r.reconfDone && !r.sdown() {
			notDone++
		}
	}
	timeout := s.now.Sub(m.failoverStateChange) > m.failoverTimeout
	if timeout {
		notDone = 0
		s.event(notify.LevelWarning, notify.KindFailoverEndForTimeout, m.inst, "")
	}
	if notDone == 0 {
		s.event(notify.LevelWarning, notify.KindFailoverEnd, m.inst, "")
		s.setFailoverState(m, foUpdateConfig)
	}
	if timeout {
		for _, r := range m.replicas {
			if r.promoted || r.reconfDone || r.reconfSent || !r.connected {
				continue
			}
			s.send(r, monitor.SlaveOf{Host: s.shown(p), Port: p.port})
			r.reconfSent = true
			s.event(notify.LevelNotice, notify.KindSlaveReconfSentBe, r, "")
		}
	}
}

// finishFailover: UPDATE_CONFIG, the leader switches to the promoted replica.
func (s *State) finishFailover(m *master) {
	p := m.promoted
	s.switchMaster(m, p.host, p.port)
}

func (s *State) abortFailover(m *master) {
	if m.promoted != nil {
		m.promoted.promoted = false
		m.promoted = nil
	}
	m.force = false
	m.candidacy = nil
	s.setFailoverState(m, foNone)
}

// switchMaster publishes +switch-master and resets the group around the new
// master address (docs/behaviour.md §4.4).
func (s *State) switchMaster(m *master, host string, port int) {
	// A replica known by name stays known by it (docs/hostnames.md).
	if r := m.replica(host, port); r != nil {
		host = r.host
	}
	oldHost, oldPort, oldShown := m.inst.host, m.inst.port, s.shown(m.inst)
	var keep [][2]string
	for _, r := range m.replicas {
		if r.host == host && r.port == port {
			continue
		}
		keep = append(keep, [2]string{r.host, strconv.Itoa(r.port)})
	}
	if oldHost != host || oldPort != port {
		keep = append(keep, [2]string{oldHost, strconv.Itoa(oldPort)})
	}
	m.inst.host, m.inst.port = host, port
	s.resolve(m.inst)
	s.emit(notify.Event{Kind: notify.KindSwitchMaster, Level: notify.LevelWarning, Master: m.inst.name,
		From: notify.Addr{Host: oldShown, Port: oldPort}, To: notify.Addr{Host: s.shown(m.inst), Port: port}})
	s.resetMaster(m, false)
	for _, k := range keep {
		p, _ := strconv.Atoi(k[1])
		if r, added := s.addReplica(m, k[0], p); added {
			s.event(notify.LevelNotice, notify.KindSlave, r, "")
		}
	}
	m.switchAt = s.now
	s.fenceSwitched(m, oldHost, oldPort)
	s.persist()
	s.announceConfig(m)
}

// resetMaster: Redis' sentinelResetMaster.
func (s *State) resetMaster(m *master, dropSentinels bool) {
	m.replicas = nil
	if dropSentinels {
		m.sentinels = nil
	}
	m.all = nil
	for _, si := range m.sentinels {
		si.masterDown = false
		si.leader = ""
	}
	mi := m.inst
	mi.resetLink()
	mi.link = s.newLink("master/" + mi.name)
	mi.pingPending = s.now
	mi.lastAvail = s.now
	mi.lastPingReply = s.now
	mi.roleReported = "master"
	mi.roleReportedTime = s.now
	m.force = false
	m.promoted = nil
	m.candidacy = nil
	m.candidateAt = time.Time{}
	m.failoverState = foNone
	m.failoverStateChange = time.Time{}
	m.failoverStartTime = time.Time{}
	s.voter.Reset(mi.name)
	s.linksChanged()
}

// ineligible says why replica selection (docs/behaviour.md §5) would skip r now, "" if
// it would not.
func (s *State) ineligible(m *master, r *instance) string {
	now := s.now
	t := s.opts.Timers
	switch {
	case r.sdown():
		return "s_down"
	case r.odown():
		return "o_down"
	case !r.connected:
		return "disconnected"
	case now.Sub(r.lastAvail) > 5*t.PingPeriod:
		return "no-recent-ping-reply"
	case r.priority == 0:
		return "replica-priority-0"
	}
	infoValidity := 3 * t.InfoPeriod
	if m.inst.sdown() {
		infoValidity = 5 * t.PingPeriod
	}
	if r.infoRefresh.IsZero() || now.Sub(r.infoRefresh) > infoValidity {
		return "stale-info"
	}
	maxLinkDown := 10 * m.downAfter
	if m.inst.sdown() {
		maxLinkDown += now.Sub(m.inst.sdownSince)
	}
	if r.masterLinkDownTime > maxLinkDown {
		return "master-link-down-too-long"
	}
	return ""
}

// selectReplica picks the replica to promote: eligible ones sorted by
// priority, then offset (higher first), then run id. With none it returns
// the reasons, one "ip:port=reason" per replica.
func (s *State) selectReplica(m *master) (*instance, string) {
	var ok []*instance
	var reasons []string
	for _, r := range m.replicas {
		if why := s.ineligible(m, r); why != "" {
			reasons = append(reasons, r.name+"="+why)
			continue
		}
		ok = append(ok, r)
	}
	if len(ok) == 0 {
		if len(reasons) == 0 {
			return nil, "no-replicas"
		}
		return nil, strings.Join(reasons, ",")
	}
	sort.SliceStable(ok, func(a, b int) bool { return betterReplica(ok[a], ok[b]) })
	return ok[0], ""
}

func betterReplica(a, b *instance) bool {
	if a.priority != b.priority {
		return a.priority < b.priority
	}
	if a.replOffset != b.replOffset {
		return a.replOffset > b.replOffset
	}
	if a.runID == "" || b.runID == "" {
		return b.runID == "" && a.runID != ""
	}
	return strings.ToLower(a.runID) < strings.ToLower(b.runID)
}
