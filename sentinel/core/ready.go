package core

import (
	"reflect"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Ready is one batch of what the state machine asks the shell to do, as in
// etcd's raft. The contract (docs/design.md "Persist before send"):
//
//   - the shell saves HardState and Settings, when set, before it sends
//     anything of the same Ready;
//   - it reports the outcome of that save as the input Saved;
//   - while the last save failed it sends the Ready only after Withhold;
//   - it calls Advance once the Ready was carried out, and does not Step
//     between Ready and Advance.
type Ready struct {
	// HardState is set when the state to save changed since the last
	// Advance; Settings likewise. Both are complete, not deltas.
	HardState *view.HardState
	Settings  *view.Settings
	// Timers is set when SENTINEL DEBUG changed them, for the parts outside
	// the core that they tune (the script runner's limits).
	Timers *view.Timers

	LinksChanged bool // Links has a new answer
	Changed      bool // something visible changed since the last Snapshot
	Events       []notify.Event
	Requests     []LinkRequest
	Peers        []PeerSend
	Scripts      [][]string
	// Join lists sentinel addresses (host:port) discovered from hellos, for
	// the gossip group to join.
	Join []string
	// Exit asks the process to exit with this code (SIMULATE-FAILURE); 0 = no.
	Exit int
	// Rejected lists the network input dropped as invalid since the last
	// Advance.
	Rejected []Rejection
}

// MustSave reports whether the Ready carries something to save.
func (rd *Ready) MustSave() bool { return rd.HardState != nil || rd.Settings != nil }

// Withhold removes what carries unsaved state, for a Ready sent while the
// last save failed: vote replies and requests, hellos (they carry the
// current epoch and the master's config epoch) and IS-MASTER-DOWN-BY-ADDR
// requests that ask for a vote. Opinions, PINGs, INFO and replica commands
// still go: they carry nothing persisted. Otherwise a restarted sentinel
// could vote twice in one epoch or announce a configuration it then forgets.
func (rd *Ready) Withhold() {
	peers := rd.Peers[:0]
	for _, p := range rd.Peers {
		if _, ok := p.Msg.(peer.Opinion); ok {
			peers = append(peers, p)
		}
	}
	rd.Peers = peers
	reqs := rd.Requests[:0]
	for _, r := range rd.Requests {
		switch q := r.Req.(type) {
		case monitor.Hello:
			continue
		case monitor.AskMasterDown:
			if q.Vote.Candidate != "" {
				continue
			}
		}
		reqs = append(reqs, r)
	}
	rd.Requests = reqs
}

// Ready returns what accumulated since the last Advance. The state to save
// is compared with what was last handed out only when a step asked for it.
func (s *State) Ready() Ready {
	rd := s.out
	rd.Changed = s.dirty
	if s.persistDue {
		if hs := s.hardState(); !reflect.DeepEqual(hs, s.hard) {
			rd.HardState = &hs
		}
		if st := s.currentSettings(); !reflect.DeepEqual(st, s.settings) {
			rd.Settings = &st
		}
	}
	s.inReady = &rd
	return rd
}

// Advance confirms that the last Ready was carried out (or, for its
// messages, deliberately withheld) and starts the next batch.
func (s *State) Advance() {
	if rd := s.inReady; rd != nil {
		if rd.HardState != nil {
			s.hard = *rd.HardState
		}
		if rd.Settings != nil {
			s.settings = *rd.Settings
		}
	}
	s.inReady = nil
	s.out = Ready{}
	s.persistDue = false
}

// hardState is what must survive a crash, as it stands.
func (s *State) hardState() view.HardState {
	hs := view.HardState{MyID: s.opts.MyID, CurrentEpoch: s.voter.CurrentEpoch()}
	leaderEpochs := s.voter.LeaderEpochs()
	for _, m := range s.masters {
		cur := m.current()
		ms := view.MasterState{
			Name: m.inst.name, Host: cur.host, Port: cur.port, Quorum: m.quorum,
			ConfigEpoch: m.configEpoch, LeaderEpoch: leaderEpochs[m.inst.name],
		}
		for _, r := range m.replicas {
			host, port := r.host, r.port
			// Mid-failover the promoted replica holds the master address;
			// Redis writes the old master there instead.
			if r == cur {
				host, port = m.inst.host, m.inst.port
			}
			ms.KnownReplicas = append(ms.KnownReplicas, view.Addr{Host: host, Port: port})
		}
		for _, si := range m.sentinels {
			ms.KnownSentinels = append(ms.KnownSentinels, view.KnownSentinel{Host: si.host, Port: si.port, RunID: si.runID})
		}
		hs.Masters = append(hs.Masters, ms)
	}
	return hs
}

// currentSettings are the tunables as they stand.
func (s *State) currentSettings() view.Settings {
	st := view.Settings{Global: s.opts.Global}
	for _, m := range s.masters {
		st.Masters = append(st.Masters, view.MasterSettings{
			Name: m.inst.name, DownAfter: m.downAfter, FailoverTimeout: m.failoverTimeout, ParallelSyncs: m.parallelSyncs,
			AuthPass: m.authPass, AuthUser: m.authUser,
			NotificationScript: m.notifyScript, ClientReconfigScript: m.reconfigScript,
			MasterRebootDownAfter: m.rebootDownAfter, RenameCommands: copyMap(m.rename),
			Webhooks: append([]string(nil), m.webhooks...), NoFenceWrites: m.fence.off,
			Proxies: append([]view.Proxy(nil), m.proxies...), ProxyMaxClients: m.proxyMaxClients,
		})
	}
	return st
}
