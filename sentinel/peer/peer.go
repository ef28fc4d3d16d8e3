// Package peer defines the messages sentinels exchange with each other,
// independent of the transport (memberlist gossip or the Redis protocol).
package peer

import "strings"

// Message is one of Opinion, VoteRequest, VoteReply and Hello; the set is
// sealed. Sender is the sentinel the message says it comes from, which a
// transport checks against who actually sent it.
type Message interface {
	Sender() string
	isMessage()
}

func (m Opinion) Sender() string     { return m.From }
func (m VoteRequest) Sender() string { return m.From }
func (m VoteReply) Sender() string   { return m.From }

// Sender of a hello is its run id (field 3 of 8), or "" if it has none.
func (m Hello) Sender() string {
	if f := strings.Split(m.Payload, ","); len(f) == 8 {
		return f[2]
	}
	return ""
}

func (Opinion) isMessage()     {}
func (VoteRequest) isMessage() {}
func (VoteReply) isMessage()   {}
func (Hello) isMessage()       {}

// Opinion is a sentinel's subjective view of one master: is it SDOWN there.
// Broadcast when it changes and refreshed periodically. Epoch is the
// sender's current epoch, so an opinion from before a failover of the
// master (replayed, or from a sentinel that missed it) can be told apart.
type Opinion struct {
	From   string // sender run id
	Master string
	Down   bool
	Epoch  uint64
}

// VoteRequest asks for a vote for Candidate as failover leader of Master in
// Epoch. Candidate "" only asks for the SDOWN opinion (Redis' runid "*").
// Over the Redis port (SENTINEL IS-MASTER-DOWN-BY-ADDR) only MasterIP,
// MasterPort, Epoch and Candidate travel, and "*" is turned into "" at the
// edge that reads the command.
type VoteRequest struct {
	From       string
	Master     string
	MasterIP   string
	MasterPort int
	Epoch      uint64
	Candidate  string
}

// VoteReply answers a VoteRequest with the voter's opinion and its stored
// vote for that master (possibly for an older epoch). Over the Redis port
// only Down, Leader and LeaderEpoch travel.
type VoteReply struct {
	From        string
	Master      string
	Down        bool
	Leader      string // "" for none ("*")
	LeaderEpoch uint64
}

// Hello carries a hello payload (the 8-field format of the
// __sentinel__:hello channel) so a new configuration spreads at once.
type Hello struct {
	Payload string
}
