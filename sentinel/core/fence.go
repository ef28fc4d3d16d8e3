package core

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/notify"
)

// Write fencing (docs/fencing.md): the sentinels keep min-replicas-to-write
// and min-replicas-max-lag on the master in step with its healthy replicas,
// so a master cut off from them refuses writes by itself, with or without
// a sentinel that still reaches it.

const (
	paramToWrite = "min-replicas-to-write"
	paramMaxLag  = "min-replicas-max-lag"
	// fenceSettle is how long a returning replica must be up before it
	// counts: it ACKs once a second and the master recounts once a second,
	// so raising at once would fence the master for up to that long.
	fenceSettle = 2 * time.Second
	// retireGrace keeps a removed group's master link open long enough for
	// the restore to be sent.
	retireGrace = 5 * time.Second
)

// redisDefaults are Redis' own min-replicas-to-write and -max-lag.
var redisDefaults = fenceSettings{toWrite: 0, maxLag: 10}

type fenceSettings struct{ toWrite, maxLag int }

// fence is the fencing state of one master group.
type fence struct {
	off bool // sentinel fence-writes <master> no

	cur        fenceSettings // the master's, as last read or set
	orig       fenceSettings // the master's own, from before any sentinel changed them
	gotToWrite bool          // the first half of the current read arrived
	known      bool          // cur was read from the master
	origKnown  bool
	changed    bool      // the sentinels changed the master: orig must be restored
	failed     bool      // CONFIG refused; reported once
	getAt      time.Time // last CONFIG GET sent
	setAt      time.Time // last CONFIG SET sent: a GET sent before it answers stale values
	lowSince   time.Time // since when fewer replicas are healthy than the master requires
	retiredAt  time.Time // the group was removed; its link stays open for the restore

	// Old masters demoted by a failover, by address, with the settings to
	// give back once they report role:slave.
	demoted map[string]fenceSettings
}

// setSwitch applies SENTINEL SET <master> fence-writes yes|no.
func (f *fence) setSwitch(v string) bool {
	switch strings.ToLower(v) {
	case "yes":
		f.off = false
	case "no":
		f.off = true
	default:
		return false
	}
	return true
}

// fenceLag is the min-replicas-max-lag that fences a cut-off master within
// down-after + 1 s: Redis counts lag in whole seconds from the last ACK
// (sent every second) and recounts good replicas once a second, so the
// master refuses writes at most lag + 2 s after the cut.
func fenceLag(downAfter time.Duration) int {
	return min(max(1, int(downAfter/time.Second)-1), math.MaxInt32) // Redis takes an int
}

// looksFenced: settings a sentinel of this group set, whole or half way
// (max-lag is set before to-write). A sentinel that first reads them cannot
// know the master's own, and assumes Redis' defaults.
func (m *master) looksFenced(v fenceSettings) bool {
	return v.maxLag == fenceLag(m.downAfter)
}

// watching: the master is fenced on its replicas, so its INFO is read every
// second: a replica that stopped replicating without going SDOWN (its link
// to the master broke) shows there first, and fences the master until the
// requirement is lowered.
func (f *fence) watching() bool { return !f.off && f.cur.toWrite > 0 }

// readFence asks the master for its settings once per INFO period, so that
// a change by another sentinel or a restart is seen within one.
func (s *State) readFence(m *master) {
	f := &m.fence
	if (f.off && !f.changed) || (f.known && s.now.Sub(f.getAt) < s.opts.Timers.InfoPeriod) {
		return
	}
	m.fence.gotToWrite = false
	m.fence.getAt = s.now
	s.send(m.inst, monitor.ConfigGet{Param: paramToWrite})
	s.send(m.inst, monitor.ConfigGet{Param: paramMaxLag})
}

// fenceReply handles the answer to a CONFIG GET or SET; false if o is not one.
func (s *State) fenceReply(i *instance, o monitor.Observation) bool {
	f := &i.master.fence
	var param string
	switch r := o.Request.(type) {
	case monitor.ConfigGet:
		param = r.Param
	case monitor.ConfigSet:
		if !o.OK {
			s.fenceFailed(i, o.Reply)
		}
		return true
	default:
		return false
	}
	n, err := strconv.Atoi(o.Reply)
	if !o.OK || err != nil || n < 0 || i != i.master.inst || !f.getAt.After(f.setAt) {
		if !o.OK {
			s.fenceFailed(i, o.Reply)
		}
		return true
	}
	switch {
	case param == paramToWrite:
		f.cur.toWrite, f.gotToWrite = n, true
	case param == paramMaxLag && f.gotToWrite:
		f.cur.maxLag, f.known = n, true
		if !f.origKnown {
			f.orig, f.origKnown = f.cur, true
			if i.master.looksFenced(f.cur) {
				f.orig, f.changed = redisDefaults, true
			}
		}
	}
	return true
}

func (s *State) fenceFailed(i *instance, reply string) {
	f := &i.master.fence
	f.known = false
	if !f.failed {
		f.failed = true
		s.event(notify.LevelWarning, notify.KindFenceFailed, i, reply)
	}
}

// healthyReplicas counts the replicas that can take writes: not SDOWN, up
// for fenceSettle, and reported online by the master's last INFO with a
// lag at most one second above what the master accepts (a late ACK fences
// the master only until the next one; it must not make sentinels flap).
func (s *State) healthyReplicas(m *master) int {
	info := m.inst.info
	if info == nil {
		return 0
	}
	lag := int64(fenceLag(m.downAfter)) + 1
	n := 0
	for _, r := range m.replicas {
		if r.sdown() || (!r.downEnded.IsZero() && s.now.Sub(r.downEnded) < fenceSettle) {
			continue
		}
		for _, e := range info.Replicas {
			if r.isAt(e.IP, e.Port) && e.State == "online" && e.Lag <= lag {
				n++
				break
			}
		}
	}
	return n
}

// fenceTarget is the pure rule: require every healthy replica, raise at
// once, and only go down (replicas died) when this sentinel has evidence
// that it is on the side that can elect (majority). A master that lost
// every replica stays fenced (never below 1) until one is back.
func fenceTarget(cur, healthy, known int, majority bool) (int, bool) {
	switch {
	case healthy >= cur:
		return healthy, healthy != cur
	case !majority:
		return cur, false
	case known > 0:
		healthy = max(healthy, 1)
	}
	return healthy, healthy != cur
}

// heardMajoritySince: a majority of the group's sentinels, this one
// included, answered or said hello after since. A sentinel cut off with the
// master hears none of them after its replicas went silent.
func (s *State) heardMajoritySince(m *master, since time.Time) bool {
	n := 1
	for _, si := range m.sentinels {
		if si.lastOKPing.After(since) || si.lastHello.After(since) {
			n++
		}
	}
	return n >= m.known()/2+1
}

// stepFence keeps the master's settings in step (called from Tick, outside
// TILT).
func (s *State) stepFence(m *master) {
	f := &m.fence
	s.restoreDemoted(m)
	if m.failoverState != foNone || !m.inst.connected || !f.known || !s.masterLooksSane(m) {
		return
	}
	if f.off {
		if f.changed {
			s.restoreFence(m.inst, f.orig)
			f.changed, f.cur, f.setAt = false, f.orig, s.now
		}
		return
	}
	healthy := s.healthyReplicas(m)
	if healthy >= f.cur.toWrite {
		f.lowSince = time.Time{}
	} else if f.lowSince.IsZero() {
		f.lowSince = s.now
	}
	n, change := fenceTarget(f.cur.toWrite, healthy, len(m.replicas), !f.lowSince.IsZero() && s.heardMajoritySince(m, f.lowSince))
	lag := fenceLag(m.downAfter)
	if n > 0 && f.cur.maxLag != lag {
		s.send(m.inst, monitor.ConfigSet{Param: paramMaxLag, Value: strconv.Itoa(lag)})
		f.cur.maxLag, change = lag, true
	}
	if !change {
		return
	}
	if n != f.cur.toWrite {
		s.send(m.inst, monitor.ConfigSet{Param: paramToWrite, Value: strconv.Itoa(n)})
		f.cur.toWrite = n
	}
	f.setAt = s.now
	f.changed = true
	f.lowSince = time.Time{}
	s.event(notify.LevelNotice, notify.KindFenceUpdate, m.inst, settingsText(f.cur))
}

// restoreFence gives an instance its own settings back.
func (s *State) restoreFence(i *instance, v fenceSettings) {
	s.send(i, monitor.ConfigSet{Param: paramToWrite, Value: strconv.Itoa(v.toWrite)})
	s.send(i, monitor.ConfigSet{Param: paramMaxLag, Value: strconv.Itoa(v.maxLag)})
	s.event(notify.LevelNotice, notify.KindFenceRestore, i, settingsText(v))
}

func settingsText(v fenceSettings) string {
	return paramToWrite + " " + strconv.Itoa(v.toWrite) + " " + paramMaxLag + " " + strconv.Itoa(v.maxLag)
}

// restoreDemoted gives a demoted old master its own settings once it
// reports role:slave, when its writes are refused anyway.
func (s *State) restoreDemoted(m *master) {
	if len(m.fence.demoted) == 0 {
		return
	}
	for _, r := range m.replicas {
		v, ok := m.fence.demoted[r.addr()]
		if ok && r.connected && r.info != nil && r.info.Role == "slave" {
			s.restoreFence(r, v)
			delete(m.fence.demoted, r.addr())
		}
	}
}

// fenceSwitched: the master moved (failover or config update); the old one
// gets its settings back once demoted, the new one is read afresh.
func (s *State) fenceSwitched(m *master, oldHost string, oldPort int) {
	f := &m.fence
	if f.changed && f.origKnown && (oldHost != m.inst.host || oldPort != m.inst.port) {
		if f.demoted == nil {
			f.demoted = map[string]fenceSettings{}
		}
		f.demoted[addr(oldHost, oldPort)] = f.orig
	}
	delete(f.demoted, m.inst.addr()) // a former master promoted back is read afresh
	*f = fence{off: f.off, demoted: f.demoted}
}

// retireFence restores a removed group's master and keeps its link until
// the restore is sent (see linked).
func (s *State) retireFence(m *master) {
	f := &m.fence
	if !f.changed || !f.origKnown || !m.inst.connected {
		return
	}
	s.restoreFence(m.inst, f.orig)
	m.replicas, m.sentinels, m.all = nil, nil, nil
	f.retiredAt = s.now
	s.retired = append(s.retired, m)
}

// expireRetired closes the links of removed groups once restored.
func (s *State) expireRetired() {
	keep := s.retired[:0]
	for _, m := range s.retired {
		if s.now.Sub(m.fence.retiredAt) < retireGrace {
			keep = append(keep, m)
		}
	}
	if len(keep) != len(s.retired) {
		s.linksChanged()
	}
	s.retired = keep
}

// linked lists the groups whose links stay open: the monitored ones and
// removed ones still restoring.
func (s *State) linked() []*master {
	if len(s.retired) == 0 {
		return s.masters
	}
	return append(s.masters[:len(s.masters):len(s.masters)], s.retired...)
}
