package config

import (
	"maps"
	"slices"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

// The state machine knows nothing of the file: it starts from a HardState
// and Settings and hands them back when they change. State, Settings and
// Apply convert between the two (docs/design.md "Persistence").

// State is the persisted state in c.
func (c *Config) State() view.HardState {
	hs := view.HardState{MyID: c.MyID, CurrentEpoch: c.CurrentEpoch}
	for _, m := range c.Masters {
		hs.Masters = append(hs.Masters, view.MasterState{
			Name: m.Name, Host: m.Host, Port: m.Port, Quorum: m.Quorum,
			ConfigEpoch: m.ConfigEpoch, LeaderEpoch: m.LeaderEpoch,
			KnownReplicas:  slices.Clone(m.KnownReplicas),
			KnownSentinels: slices.Clone(m.KnownSentinels),
		})
	}
	return hs
}

// Settings are the tunables in c, global and per master.
func (c *Config) Settings() view.Settings {
	st := view.Settings{Global: view.Global{
		ResolveHostnames: c.ResolveHostnames, AnnounceHostnames: c.AnnounceHostnames,
		AnnounceIP: c.AnnounceIP, AnnouncePort: c.AnnouncePort,
		SentinelUser: c.SentinelUser, SentinelPass: c.SentinelPass,
	}}
	for _, m := range c.Masters {
		st.Masters = append(st.Masters, view.MasterSettings{
			Name: m.Name, DownAfter: m.DownAfter, FailoverTimeout: m.FailoverTimeout, ParallelSyncs: m.ParallelSyncs,
			AuthPass: m.AuthPass, AuthUser: m.AuthUser,
			NotificationScript: m.NotificationScript, ClientReconfigScript: m.ClientReconfigScript,
			MasterRebootDownAfter: m.MasterRebootDownAfter, RenameCommands: maps.Clone(m.RenameCommands),
			Webhooks: slices.Clone(m.Webhooks), NoFenceWrites: m.NoFenceWrites,
			Proxies: slices.Clone(m.Proxies), ProxyMaxClients: m.ProxyMaxClients,
		})
	}
	return st
}

// Apply replaces the state and tunables in c: the master groups are those
// of hs, in its order, each with its settings from st (defaults if st has
// none for it). Everything else in c is kept.
func (c *Config) Apply(hs view.HardState, st view.Settings) {
	c.MyID, c.CurrentEpoch = hs.MyID, hs.CurrentEpoch
	c.AnnounceIP, c.AnnouncePort = st.AnnounceIP, st.AnnouncePort
	c.ResolveHostnames, c.AnnounceHostnames = st.ResolveHostnames, st.AnnounceHostnames
	c.SentinelUser, c.SentinelPass = st.SentinelUser, st.SentinelPass
	c.Masters = make([]*Master, 0, len(hs.Masters))
	for _, ms := range hs.Masters {
		m := NewMaster(ms.Name, ms.Host, ms.Port, ms.Quorum)
		m.ConfigEpoch, m.LeaderEpoch = ms.ConfigEpoch, ms.LeaderEpoch
		m.KnownReplicas = slices.Clone(ms.KnownReplicas)
		m.KnownSentinels = slices.Clone(ms.KnownSentinels)
		if s := st.Master(ms.Name); s != nil {
			m.DownAfter, m.FailoverTimeout, m.ParallelSyncs = s.DownAfter, s.FailoverTimeout, s.ParallelSyncs
			m.AuthPass, m.AuthUser = s.AuthPass, s.AuthUser
			m.NotificationScript, m.ClientReconfigScript = s.NotificationScript, s.ClientReconfigScript
			m.MasterRebootDownAfter = s.MasterRebootDownAfter
			if s.RenameCommands != nil {
				m.RenameCommands = maps.Clone(s.RenameCommands)
			}
			m.Webhooks, m.NoFenceWrites = slices.Clone(s.Webhooks), s.NoFenceWrites
			m.Proxies, m.ProxyMaxClients = slices.Clone(s.Proxies), s.ProxyMaxClients
		}
		c.Masters = append(c.Masters, m)
	}
}
