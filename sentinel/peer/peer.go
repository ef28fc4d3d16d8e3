// Package peer defines the messages sentinels exchange with each other,
// independent of the transport (memberlist gossip or the Redis protocol).
package peer

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
type VoteRequest struct {
	From       string
	Master     string
	MasterIP   string
	MasterPort int
	Epoch      uint64
	Candidate  string
}

// VoteReply answers a VoteRequest with the voter's opinion and its stored
// vote for that master (possibly for an older epoch).
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
