package core

import (
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// Input is everything that can happen to the state machine: observations
// from links, messages from peers, time, the outcome of a save, and the
// commands. The set is sealed; Step is the one door in.
type Input interface{ isInput() }

type (
	// Observe is one observation from a link.
	Observe struct{ Obs monitor.Observation }
	// Tick runs the timers: periodic requests, failure detection and the
	// failover state machine. The shell ticks often (every few tens of ms).
	Tick struct{}
	// Hello is a hello PUBLISHed to us by a peer over the Redis protocol.
	Hello struct{ Payload string }
	// Peer is a message from a gossiping peer sentinel.
	Peer struct {
		From string // the envelope's sender, checked against Msg.Sender() by gossip
		Msg  peer.Message
	}
	// Members is the latest set of live gossip members (run ids); it
	// replaces the previous set.
	Members struct{ Live []string }
	// Saved is the outcome of the save of a Ready's HardState and Settings.
	Saved struct{ Err error }

	// Monitor starts monitoring a new master (SENTINEL MONITOR). The
	// caller checked that port and quorum are integers.
	Monitor struct {
		Name, Host   string
		Port, Quorum int
	}
	// Remove stops monitoring a master (SENTINEL REMOVE).
	Remove struct{ Name string }
	// Set changes per-master options (SENTINEL SET name opt value ...).
	Set struct {
		Name string
		Args []string
	}
	// Reset forgets the replicas, sentinels and failover state of every
	// master matching Pattern (SENTINEL RESET); Result.Reset counts them.
	Reset struct{ Pattern string }
	// Failover forces a failover without an election (SENTINEL FAILOVER).
	Failover struct{ Name string }
	// ConfigSet changes a global setting (SENTINEL CONFIG SET).
	ConfigSet struct{ Param, Value string }
	// IsMasterDownByAddr is a peer's SENTINEL IS-MASTER-DOWN-BY-ADDR, the
	// same vote request as over gossip but only MasterIP, MasterPort, Epoch
	// and Candidate ("" for "*") are known; Result.Vote answers it.
	IsMasterDownByAddr struct{ Vote peer.VoteRequest }
	// SimulateFailure sets SENTINEL SIMULATE-FAILURE flags.
	SimulateFailure struct{ Flags []string }
	// Debug tunes timers (SENTINEL DEBUG param value ...); not persisted.
	Debug struct{ Pairs []string }
)

func (Observe) isInput()            {}
func (Tick) isInput()               {}
func (Hello) isInput()              {}
func (Peer) isInput()               {}
func (Members) isInput()            {}
func (Saved) isInput()              {}
func (Monitor) isInput()            {}
func (Remove) isInput()             {}
func (Set) isInput()                {}
func (Reset) isInput()              {}
func (Failover) isInput()           {}
func (ConfigSet) isInput()          {}
func (IsMasterDownByAddr) isInput() {}
func (SimulateFailure) isInput()    {}
func (Debug) isInput()              {}

// Result is the answer to a command; other inputs have none.
type Result struct {
	Err   error
	Reset int            // Reset: the masters reset
	Vote  peer.VoteReply // IsMasterDownByAddr: Down, Leader ("" for none), LeaderEpoch
}

// Step feeds one input at now. What it asks the shell to do accumulates
// in the next Ready.
func (s *State) Step(now time.Time, in Input) Result {
	s.now = now
	var err error
	switch in := in.(type) {
	case Observe:
		s.observeLink(in.Obs)
	case Tick:
		s.tick(now)
	case Hello:
		s.processHello(in.Payload, false)
	case Peer:
		s.handlePeer(in.Msg)
	case Members:
		s.gossipPeers = make(map[string]bool, len(in.Live))
		for _, id := range in.Live {
			s.gossipPeers[id] = true
		}
	case Saved:
		s.saved(now, in.Err)
	case Monitor:
		err = s.monitor(in.Name, in.Host, in.Port, in.Quorum)
	case Remove:
		err = s.remove(in.Name)
	case Set:
		err = s.set(in.Name, in.Args)
	case Reset:
		return Result{Reset: s.reset(in.Pattern)}
	case Failover:
		err = s.failover(in.Name)
	case ConfigSet:
		err = s.configSet(in.Param, in.Value)
	case IsMasterDownByAddr:
		return Result{Vote: s.isMasterDownByAddr(in.Vote)}
	case SimulateFailure:
		err = s.simulateFailure(in.Flags)
	case Debug:
		err = s.debug(in.Pairs)
	}
	return Result{Err: err}
}
