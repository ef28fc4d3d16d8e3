package core

import (
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// Test shorthands: each feeds one input through Step, so the tests read as
// the sequence of what happens to the state machine.

// fromConfig builds a state machine from a config file's contents, as the
// daemon does.
func fromConfig(opts Options, myID string, cfg *config.Config, now time.Time) *State {
	cfg.MyID = myID
	return New(opts, cfg.State(), cfg.Settings(), now)
}

func (s *State) Observe(now time.Time, o monitor.Observation) { s.Step(now, Observe{Obs: o}) }
func (s *State) Tick(now time.Time)                           { s.Step(now, Tick{}) }
func (s *State) Hello(now time.Time, payload string)          { s.Step(now, Hello{Payload: payload}) }
func (s *State) HandlePeer(now time.Time, msg peer.Message) {
	s.Step(now, Peer{From: msg.Sender(), Msg: msg})
}
func (s *State) Saved(now time.Time, err error) { s.Step(now, Saved{Err: err}) }
func (s *State) Members(live ...string)         { s.Step(s.now, Members{Live: live}) }

func (s *State) Monitor(now time.Time, name, host string, port, quorum int) error {
	return s.Step(now, Monitor{Name: name, Host: host, Port: port, Quorum: quorum}).Err
}
func (s *State) Remove(now time.Time, name string) error { return s.Step(now, Remove{Name: name}).Err }
func (s *State) Set(now time.Time, name string, args []string) error {
	return s.Step(now, Set{Name: name, Args: args}).Err
}
func (s *State) Reset(now time.Time, pattern string) int {
	return s.Step(now, Reset{Pattern: pattern}).Reset
}
func (s *State) Failover(now time.Time, name string) error {
	return s.Step(now, Failover{Name: name}).Err
}
func (s *State) ConfigSet(now time.Time, param, value string) error {
	return s.Step(now, ConfigSet{Param: param, Value: value}).Err
}

// IsMasterDownByAddr takes the command's arguments as the server does,
// "*" for no candidate.
func (s *State) IsMasterDownByAddr(now time.Time, ip string, port int, epoch uint64, runID string) (bool, string, uint64) {
	if runID == "*" {
		runID = ""
	}
	v := s.Step(now, IsMasterDownByAddr{Vote: peer.VoteRequest{MasterIP: ip, MasterPort: port, Epoch: epoch, Candidate: runID}}).Vote
	return v.Down, v.Leader, v.LeaderEpoch
}
func (s *State) SimulateFailure(flags []string) error {
	return s.Step(s.now, SimulateFailure{Flags: flags}).Err
}
func (s *State) Debug(pairs []string) error { return s.Step(s.now, Debug{Pairs: pairs}).Err }

// Drain takes the next Ready and advances past it.
func (s *State) Drain() Ready {
	rd := s.Ready()
	s.Advance()
	return rd
}

// Config is the config file the daemon would save now.
func (s *State) Config() *config.Config {
	c := config.Default()
	c.Apply(s.hardState(), s.currentSettings())
	return c
}
