// Package view holds the read-only snapshot of a sentinel's state that the
// Redis-protocol server renders replies from. The daemon loop builds a new
// Snapshot after every change and publishes it atomically, so every read of
// one command comes from one consistent view. Nothing here is mutated after
// it is published.
package view

import (
	"time"
)

// Kind is the type of a monitored instance.
type Kind int

const (
	KindMaster Kind = iota
	KindReplica
	KindSentinel
)

func (k Kind) String() string {
	switch k {
	case KindMaster:
		return "master"
	case KindReplica:
		return "slave"
	default:
		return "sentinel"
	}
}

// Instance is one master, replica or peer sentinel as seen by this sentinel.
// Times are absolute; the renderer turns them into "ms since" at reply time.
// A zero time means "never".
type Instance struct {
	Kind  Kind
	Name  string // master name; replica "ip:port"; sentinel run id
	IP    string
	Port  int
	RunID string
	Flags Flags

	LinkPendingCommands int
	LinkRefcount        int
	FailoverState       string // "" unless a failover is in progress (masters only)

	PingPendingSince time.Time // oldest unanswered PING (zero if none)
	LastOKPingReply  time.Time
	LastPingReply    time.Time
	SDownSince       time.Time // zero unless SDOWN
	ODownSince       time.Time // zero unless ODOWN
	DownAfter        time.Duration

	// Masters and replicas.
	InfoRefresh      time.Time // zero if never
	RoleReported     string    // "master" or "slave"
	RoleReportedTime time.Time
	InfoText         string // last INFO reply, "" if none (SENTINEL INFO-CACHE)

	// Masters.
	ConfigEpoch          uint64
	Quorum               int
	FailoverTimeout      time.Duration
	ParallelSyncs        int
	NotificationScript   string
	ClientReconfigScript string

	// Replicas.
	MasterLinkDownTime time.Duration
	MasterLinkStatus   string // "ok" or "err"
	MasterHost         string // "?" if unknown
	MasterPort         int
	SlavePriority      int
	SlaveReplOffset    int64
	ReplicaAnnounced   bool
	IneligibleReason   string // why replica selection would skip it now; "" if eligible

	// Sentinels.
	LastHelloMessage time.Time
	VotedLeader      string // "?" if none
	VotedLeaderEpoch uint64
}

// Master is one monitored master group.
type Master struct {
	Instance
	Status    string // "ok", "sdown" or "odown" (INFO masterN: status)
	Replicas  []Instance
	Sentinels []Instance // the other sentinels, not this one

	// Addr is what GET-MASTER-ADDR-BY-NAME answers: the promoted replica's
	// address once a failover reached RECONF_SLAVES, else the master's.
	AddrHost string
	AddrPort int

	Proxies         []Proxy // the `sentinel proxy` listeners of this group
	ProxyMaxClients int     // 0 = DefaultProxyMaxClients
}

// Timers are the SENTINEL DEBUG tunables, in Redis' order.
type Timers struct {
	InfoPeriod             time.Duration
	PingPeriod             time.Duration
	AskPeriod              time.Duration
	PublishPeriod          time.Duration
	DefaultDownAfter       time.Duration
	DefaultFailoverTimeout time.Duration
	TiltTrigger            time.Duration
	TiltPeriod             time.Duration
	SlaveReconfTimeout     time.Duration
	MinLinkReconnectPeriod time.Duration
	ElectionTimeout        time.Duration
	ScriptMaxRuntime       time.Duration
	ScriptRetryDelay       time.Duration
}

// Proxy is one `sentinel proxy <master> <role> <addr>` listener (docs/proxy.md).
type Proxy struct {
	Role string // ProxyMaster or ProxyReplicas
	Addr string // bind host:port
}

// Proxy roles: where a `sentinel proxy` listener forwards connections.
const (
	ProxyMaster   = "master"
	ProxyReplicas = "replicas"
)

// DefaultProxyMaxClients is Redis' default maxclients.
const DefaultProxyMaxClients = 10000

// Per-master defaults of Redis Sentinel 7.0 (docs/behaviour.md §3.1); the
// config file format takes them from here.
const (
	DefaultDownAfter       = 30 * time.Second
	DefaultFailoverTimeout = 180 * time.Second
	DefaultParallelSyncs   = 1
)

// DefaultTimers are Redis Sentinel 7.0's values (docs/behaviour.md §3.1).
func DefaultTimers() Timers {
	return Timers{
		InfoPeriod:             10 * time.Second,
		PingPeriod:             time.Second,
		AskPeriod:              time.Second,
		PublishPeriod:          2 * time.Second,
		DefaultDownAfter:       DefaultDownAfter,
		DefaultFailoverTimeout: DefaultFailoverTimeout,
		TiltTrigger:            2 * time.Second,
		TiltPeriod:             30 * time.Second,
		SlaveReconfTimeout:     10 * time.Second,
		MinLinkReconnectPeriod: 15 * time.Second,
		ElectionTimeout:        10 * time.Second,
		ScriptMaxRuntime:       60 * time.Second,
		ScriptRetryDelay:       30 * time.Second,
	}
}

// Settings are the tunables that are saved with the state but are not
// state: the SENTINEL CONFIG SET parameters and, per master group, the
// SENTINEL SET options.
type Settings struct {
	Global
	Masters []MasterSettings // in configuration order
}

// Global are the SENTINEL CONFIG GET/SET parameters.
type Global struct {
	ResolveHostnames  bool
	AnnounceHostnames bool
	AnnounceIP        string
	AnnouncePort      int
	SentinelUser      string
	SentinelPass      string
}

// Snapshot is the whole state at one instant.
type Snapshot struct {
	MyID         string
	Port         int
	CurrentEpoch uint64
	Tilt         bool
	TiltSince    time.Time // zero if never
	TotalTilt    int       // times TILT was entered since start
	Masters      []Master  // in configuration order
	Timers       Timers
	Settings     Settings // Global only: the per master tunables are in Masters

	SimulateFailureFlags int

	// SaveError is why the last save of the config failed, "" when it
	// succeeded; votes and announcements are withheld meanwhile.
	SaveError       string
	SaveFailedSince time.Time // zero unless SaveError is set
	SaveFailures    uint64    // failed saves since start
	// Rejected counts network input dropped as invalid, by source (hello,
	// peer, info, vote).
	Rejected map[string]uint64
}

// Master returns the master group with that name, or nil.
func (s *Snapshot) Master(name string) *Master {
	for i := range s.Masters {
		if s.Masters[i].Name == name {
			return &s.Masters[i]
		}
	}
	return nil
}
