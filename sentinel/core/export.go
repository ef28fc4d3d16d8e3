package core

import (
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Snapshot renders the state for readers. Pending counts come from pending.
func (s *State) Snapshot(pending func(linkKey string) int) *view.Snapshot {
	s.dirty = false
	snap := &view.Snapshot{
		MyID:                 s.opts.MyID,
		Port:                 s.opts.Port,
		CurrentEpoch:         s.voter.CurrentEpoch(),
		Tilt:                 s.tilt,
		TiltSince:            s.tiltSince,
		TotalTilt:            s.totalTilt,
		Timers:               s.opts.Timers,
		SimulateFailureFlags: s.simFlags,
		SaveError:            s.saveErr,
		SaveFailedSince:      s.saveFailedSince,
		SaveFailures:         s.saveFailures,
		Rejected:             s.rejectedCounts(),
		Settings:             view.Settings{Global: s.opts.Global},
	}
	for _, m := range s.masters {
		vm := view.Master{
			Instance: s.viewInstance(m.inst, pending),
		}
		// Every answer names the same master: the promoted replica from
		// the moment it reported role:master.
		c := m.current()
		vm.AddrHost, vm.AddrPort = s.shown(c), c.port
		vm.IP, vm.Port = vm.AddrHost, c.port
		vm.Proxies = append([]view.Proxy(nil), m.proxies...)
		vm.ProxyMaxClients = m.proxyMaxClients
		switch {
		case m.inst.odown():
			vm.Status = "odown"
		case m.inst.sdown():
			vm.Status = "sdown"
		default:
			vm.Status = "ok"
		}
		for _, r := range m.replicas {
			vr := s.viewInstance(r, pending)
			vr.IneligibleReason = s.ineligible(m, r)
			vm.Replicas = append(vm.Replicas, vr)
		}
		for _, si := range m.sentinels {
			vm.Sentinels = append(vm.Sentinels, s.viewInstance(si, pending))
		}
		snap.Masters = append(snap.Masters, vm)
	}
	return snap
}

func (s *State) viewInstance(i *instance, pending func(string) int) view.Instance {
	m := i.master
	v := view.Instance{
		Kind:                i.kind,
		Name:                i.name,
		IP:                  s.shown(i),
		Port:                i.port,
		RunID:               i.runID,
		Flags:               i.flags(),
		LinkPendingCommands: pending(i.linkKey()),
		LinkRefcount:        1,
		PingPendingSince:    i.pingPending,
		LastOKPingReply:     i.lastOKPing,
		LastPingReply:       i.lastPingReply,
		SDownSince:          i.sdownSince,
		ODownSince:          i.odownSince,
		DownAfter:           m.downAfter,
		InfoRefresh:         i.infoRefresh,
		RoleReported:        i.roleReported,
		RoleReportedTime:    i.roleReportedTime,
	}
	if i.info != nil {
		v.InfoText = i.info.Text
	}
	switch i.kind {
	case view.KindMaster:
		if m.failoverState != foNone {
			v.FailoverState = m.failoverState.String()
		}
		v.ConfigEpoch = m.configEpoch
		v.Quorum = m.quorum
		v.FailoverTimeout = m.failoverTimeout
		v.ParallelSyncs = m.parallelSyncs
		v.NotificationScript = m.notifyScript
		v.ClientReconfigScript = m.reconfigScript
	case view.KindReplica:
		v.MasterLinkDownTime = i.masterLinkDownTime
		v.MasterLinkStatus = "err"
		if i.masterLinkUp {
			v.MasterLinkStatus = "ok"
		}
		v.MasterHost = i.slaveMasterHost
		if v.MasterHost == "" {
			v.MasterHost = "?"
		}
		v.MasterPort = i.slaveMasterPort
		v.SlavePriority = i.priority
		v.SlaveReplOffset = i.replOffset
		v.ReplicaAnnounced = i.replicaAnnounced
	case view.KindSentinel:
		v.LastHelloMessage = i.lastHello
		v.VotedLeader = i.leader
		if v.VotedLeader == "" {
			v.VotedLeader = "?"
		}
		v.VotedLeaderEpoch = i.leaderEpoch
		v.LinkRefcount = s.sentinelRefcount(i.runID)
	}
	return v
}

func (s *State) sentinelRefcount(runID string) int {
	n := 0
	for _, m := range s.masters {
		if m.sentinelByID(runID) != nil {
			n++
		}
	}
	return n
}

// Links lists the links the daemon must keep open.
func (s *State) Links(clientName string) []monitor.LinkSpec {
	var specs []monitor.LinkSpec
	seen := map[string]bool{}
	for _, m := range s.linked() {
		for _, i := range m.instances() {
			key := i.linkKey()
			if seen[key] {
				continue
			}
			seen[key] = true
			spec := monitor.LinkSpec{Key: key, Addr: i.addr(), ClientName: clientName, Timeout: s.linkTimeout(m)}
			switch i.kind {
			case view.KindMaster, view.KindReplica:
				spec.Kind = monitor.LinkReplica
				if i.kind == view.KindMaster {
					spec.Kind = monitor.LinkMaster
				}
				spec.Username, spec.Password = m.authUser, m.authPass
				spec.Rename = copyMap(m.rename)
				spec.Subscribe = true
			default:
				spec.Kind = monitor.LinkSentinel
				spec.Username, spec.Password = s.opts.SentinelUser, s.opts.SentinelPass
				if spec.Password == "" {
					spec.Username, spec.Password = "", s.opts.RequirePass
				}
			}
			specs = append(specs, spec)
		}
	}
	return specs
}

// linkTimeout keeps a stuck command well under the probe period.
func (s *State) linkTimeout(m *master) time.Duration {
	return min(500*time.Millisecond, max(m.downAfter/2, 50*time.Millisecond))
}

// Webhooks lists the webhook URLs of a master group.
func (s *State) Webhooks(masterName string) []string {
	if m := s.master(masterName); m != nil {
		return m.webhooks
	}
	return nil
}
