package view

import "time"

// HardState is what must survive a crash, and what a sentinel must have
// saved before it says anything that reflects it (docs/design.md "Persist
// before send"): its run id, the current epoch and, per master, where it is,
// the epochs and who else is known to be in the group.
type HardState struct {
	MyID         string
	CurrentEpoch uint64
	Masters      []MasterState // in configuration order
}

// MasterState is the persisted state of one master group.
type MasterState struct {
	Name           string
	Host           string
	Port           int
	Quorum         int
	ConfigEpoch    uint64
	LeaderEpoch    uint64 // the epoch of this sentinel's last vote
	KnownReplicas  []Addr
	KnownSentinels []KnownSentinel
}

// Addr is a host (IP, or hostname with resolve-hostnames) and port.
type Addr struct {
	Host string
	Port int
}

// KnownSentinel is another sentinel monitoring the same master.
type KnownSentinel struct {
	Host  string
	Port  int
	RunID string
}

// MasterSettings are the tunables of one master group (SENTINEL SET).
// Zero durations and counts mean the defaults.
type MasterSettings struct {
	Name                  string
	DownAfter             time.Duration
	FailoverTimeout       time.Duration
	ParallelSyncs         int
	AuthPass, AuthUser    string
	NotificationScript    string
	ClientReconfigScript  string
	MasterRebootDownAfter time.Duration     // 0 = off
	RenameCommands        map[string]string // lower-cased original -> new name
	Webhooks              []string
	NoFenceWrites         bool    // docs/fencing.md
	Proxies               []Proxy // at most one per role
	ProxyMaxClients       int     // 0 = DefaultProxyMaxClients
}

// Master returns the settings of the master group with that name, or nil.
func (s *Settings) Master(name string) *MasterSettings {
	for i := range s.Masters {
		if s.Masters[i].Name == name {
			return &s.Masters[i]
		}
	}
	return nil
}

// Master returns the state of the master group with that name, or nil.
func (h *HardState) Master(name string) *MasterState {
	for i := range h.Masters {
		if h.Masters[i].Name == name {
			return &h.Masters[i]
		}
	}
	return nil
}
