package election

// MaxEpoch is the highest epoch a sentinel adopts. Epochs never wrap: a
// request or hello beyond it is refused, so a forged epoch of 2^64-1 can
// neither be saved nor make the next epoch 0. The cap is 2^63-1 so that an
// epoch fits every signed 64-bit reader (config files, Redis' long long).
const MaxEpoch uint64 = 1<<63 - 1

// Vote is a sentinel's vote for a master's failover leader.
type Vote struct {
	Leader string // run id voted for; "" = none, or forgotten by a restart or reset
	Epoch  uint64 // the master's leader epoch: the epoch this vote was cast in
}

// Voter is one sentinel's election state. CurrentEpoch and each master's
// leader epoch are what gets persisted (`sentinel current-epoch`,
// `sentinel leader-epoch <master> <n>`); the leader run id is not persisted,
// as in Redis, so after a restart a vote's epoch is known but not its leader.
type Voter struct {
	currentEpoch uint64
	votes        map[string]Vote // by master name
}

// NewVoter restores a voter from its persisted state. Masters missing from
// leaderEpochs start with leader epoch 0. The map is copied.
func NewVoter(currentEpoch uint64, leaderEpochs map[string]uint64) *Voter {
	v := &Voter{currentEpoch: currentEpoch, votes: make(map[string]Vote, len(leaderEpochs))}
	for master, epoch := range leaderEpochs {
		v.votes[master] = Vote{Epoch: epoch}
	}
	return v
}

// CurrentEpoch is the highest epoch this sentinel has started or seen.
func (v *Voter) CurrentEpoch() uint64 { return v.currentEpoch }

// VoteOf is the stored vote for master (the zero Vote if it never voted).
func (v *Voter) VoteOf(master string) Vote { return v.votes[master] }

// LeaderEpochs returns a copy of every master's leader epoch, for persisting.
// Masters that never voted are absent (leader epoch 0).
func (v *Voter) LeaderEpochs() map[string]uint64 {
	out := make(map[string]uint64, len(v.votes))
	for master, vote := range v.votes {
		out[master] = vote.Epoch
	}
	return out
}

// Decision says what a step changed. When Persist is true the caller must
// persist CurrentEpoch and LeaderEpochs before any reply leaves; it emits
// +new-epoch <CurrentEpoch> when EpochRaised and
// +vote-for-leader <Vote.Leader> <Vote.Epoch> when Voted.
type Decision struct {
	Vote        Vote // the vote to reply with: the stored one, possibly older
	EpochRaised bool // the current epoch was raised by this step
	Voted       bool // a vote was cast by this step
}

// Persist reports whether the step changed persisted state.
func (d Decision) Persist() bool { return d.EpochRaised || d.Voted }

// HandleRequest answers a vote request from candidate for master in epoch
// (SENTINEL IS-MASTER-DOWN-BY-ADDR, docs/behaviour.md §3.5). A higher epoch is adopted
// first; then the vote goes to candidate if this master's leader epoch is
// older than epoch and the current epoch is not ahead of it, so votes are
// first-come and at most one per master and epoch. The reply is the stored
// vote, which may be older than epoch or for another candidate.
//
// candidate "" asks for the down-state opinion only (runid "*" on the wire):
// nothing changes and the reply is the zero Vote, as Redis replies "*" 0.
//
// A request for an epoch beyond MaxEpoch changes nothing and gets the stored
// vote.
func (v *Voter) HandleRequest(master string, epoch uint64, candidate string) Decision {
	if candidate == "" {
		return Decision{}
	}
	if epoch > MaxEpoch {
		return Decision{Vote: v.votes[master]}
	}
	return v.vote(master, epoch, candidate)
}

func (v *Voter) vote(master string, epoch uint64, candidate string) Decision {
	d := Decision{EpochRaised: v.ObserveEpoch(epoch)}
	stored := v.votes[master]
	if stored.Epoch < epoch && v.currentEpoch <= epoch {
		stored = Vote{Leader: candidate, Epoch: v.currentEpoch}
		v.votes[master] = stored
		d.Voted = true
	}
	d.Vote = stored
	return d
}

// ObserveEpoch adopts epoch if it is higher than the current one, as when a
// hello carries it (docs/behaviour.md §3.3). It reports whether the epoch was raised; if
// so the caller persists and emits +new-epoch. Epochs beyond MaxEpoch are
// ignored.
func (v *Voter) ObserveEpoch(epoch uint64) bool {
	if epoch <= v.currentEpoch || epoch > MaxEpoch {
		return false
	}
	v.currentEpoch = epoch
	return true
}

// Reset forgets whom this sentinel voted for as master's leader, for
// SENTINEL RESET or REMOVE. The leader epoch stays, as in Redis: forgetting
// it would let this sentinel vote twice in that epoch.
func (v *Voter) Reset(master string) {
	if vote, ok := v.votes[master]; ok {
		v.votes[master] = Vote{Epoch: vote.Epoch}
	}
}

// Candidacy is a candidate's tally of votes for one master in one epoch.
type Candidacy struct {
	epoch uint64
	votes map[string]Vote // by voter run id
}

// StartCandidacy starts an election for master: it raises the current epoch
// by one and votes for self in it. The self-vote fails only if this master
// already has a vote in that epoch (a leader epoch ahead of the current
// epoch, which only a hand-edited config produces); the Decision says so.
// self must be this sentinel's run id. The caller persists per the Decision
// and asks every known sentinel for its vote in c.Epoch(). At MaxEpoch no
// new epoch exists: the candidacy is nil and nothing changes.
func (v *Voter) StartCandidacy(master, self string) (*Candidacy, Decision) {
	if v.currentEpoch >= MaxEpoch {
		return nil, Decision{}
	}
	c := &Candidacy{epoch: v.currentEpoch + 1, votes: make(map[string]Vote)}
	d := v.vote(master, c.epoch, self)
	c.Record(self, d.Vote)
	return c, d
}

// Epoch is the epoch this candidacy asks votes in.
func (c *Candidacy) Epoch() uint64 { return c.epoch }

// Record stores voter's reply. A later reply from the same voter replaces the
// earlier one; votes for other epochs are kept but not counted. Callers
// record only sentinels they know, under their run ids.
func (c *Candidacy) Record(voter string, vote Vote) { c.votes[voter] = vote }

// Leader counts the votes cast in c.Epoch(), this sentinel's own included,
// and returns the run id with the most of them (ties go to the smallest run
// id). ok is true only if it has at least Required(known, quorum) votes.
// known is every sentinel known for this master since the last reset, this
// one included, never only those answering now: a partition's minority side
// must not be able to reach a majority of itself.
func (c *Candidacy) Leader(known, quorum int) (leader string, ok bool) {
	counts := make(map[string]int)
	for _, vote := range c.votes {
		if vote.Epoch == c.epoch && vote.Leader != "" {
			counts[vote.Leader]++
		}
	}
	best := 0
	for runID, n := range counts {
		if n > best || (n == best && runID < leader) {
			leader, best = runID, n
		}
	}
	if best == 0 || best < Required(known, quorum) {
		return "", false
	}
	return leader, true
}

// Lost reports whether self can no longer win this candidacy: even if every
// known sentinel that has not answered yet voted for it, it would stay below
// Required(known, quorum). A split vote is lost as soon as the replies are
// in, so the candidate can retry in a new epoch at once instead of waiting
// for a timeout.
func (c *Candidacy) Lost(self string, known, quorum int) bool {
	return !c.mayWin(self, known, quorum)
}

// OtherMayWin reports whether a sentinel other than self may have been
// elected in this epoch, for all this candidacy knows: its votes here plus
// those of the sentinels that have not answered reach the majority. A
// candidate that retries while another may be failing over could start a
// second failover, so it waits longer.
func (c *Candidacy) OtherMayWin(self string, known, quorum int) bool {
	if c.mayWin("", known, quorum) {
		return true // the unanswered alone could elect someone
	}
	for _, vote := range c.votes {
		if vote.Epoch == c.epoch && vote.Leader != self && vote.Leader != "" && c.mayWin(vote.Leader, known, quorum) {
			return true
		}
	}
	return false
}

// mayWin: candidate's votes in this epoch plus every unanswered sentinel
// reach Required.
func (c *Candidacy) mayWin(candidate string, known, quorum int) bool {
	n := 0
	for _, vote := range c.votes {
		if candidate != "" && vote.Epoch == c.epoch && vote.Leader == candidate {
			n++
		}
	}
	unanswered := max(known-len(c.votes), 0)
	return n+unanswered >= Required(known, quorum)
}

// Required is the number of votes a leader needs: a majority of the known
// sentinels (this one included) and at least quorum.
func Required(known, quorum int) int {
	return max(quorum, Majority(known))
}

// Majority is the smallest majority of known sentinels (this one included).
// CKQUORUM, readiness and metrics use it too, so they agree with elections.
func Majority(known int) int { return known/2 + 1 }
