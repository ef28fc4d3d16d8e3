package election

import (
	"fmt"
	"maps"
	"testing"
)

func TestRequired(t *testing.T) {
	tests := []struct{ known, quorum, want int }{
		{1, 1, 1},
		{2, 1, 2}, {2, 2, 2},
		{3, 1, 2}, {3, 2, 2}, {3, 3, 3},
		{4, 1, 3}, {4, 2, 3}, {4, 3, 3}, {4, 4, 4},
		{5, 1, 3}, {5, 2, 3}, {5, 3, 3}, {5, 4, 4}, {5, 5, 5},
		{7, 1, 4}, {7, 3, 4}, {7, 4, 4}, {7, 5, 5}, {7, 7, 7},
		{3, 4, 4}, // a quorum above the known sentinels can never be met
	}
	for _, tt := range tests {
		if got := Required(tt.known, tt.quorum); got != tt.want {
			t.Errorf("Required(%d, %d) = %d, want %d", tt.known, tt.quorum, got, tt.want)
		}
	}
}

// tally builds a candidacy in epoch 10 holding votes, keyed by voter.
func tally(votes map[string]Vote) *Candidacy {
	c := &Candidacy{epoch: 10, votes: make(map[string]Vote)}
	for voter, vote := range votes {
		c.Record(voter, vote)
	}
	return c
}

func TestLeader(t *testing.T) {
	a, b, c := Vote{"a", 10}, Vote{"b", 10}, Vote{"c", 10}
	none := Vote{"", 10}
	tests := []struct {
		name          string
		known, quorum int
		votes         map[string]Vote
		want          string
		ok            bool
	}{
		{"1 sentinel, own vote", 1, 1, map[string]Vote{"a": a}, "a", true},
		{"1 sentinel, no vote", 1, 1, map[string]Vote{"a": none}, "", false},
		{"2 sentinels need both", 2, 1, map[string]Vote{"a": a}, "", false},
		{"2 sentinels, both", 2, 1, map[string]Vote{"a": a, "b": a}, "a", true},
		{"3 sentinels, majority", 3, 2, map[string]Vote{"a": a, "b": a}, "a", true},
		{"3 sentinels, quorum 3 not met", 3, 3, map[string]Vote{"a": a, "b": a, "c": c}, "", false},
		{"3 sentinels, quorum 3 met", 3, 3, map[string]Vote{"a": a, "b": a, "c": a}, "a", true},
		{"3 sentinels, split", 3, 1, map[string]Vote{"a": a, "b": b, "c": c}, "", false},
		{"4 sentinels, 2 of 4 is not a majority", 4, 2, map[string]Vote{"a": a, "b": a, "c": c, "d": c}, "", false},
		{"4 sentinels, 3 of 4", 4, 2, map[string]Vote{"a": a, "b": a, "c": a, "d": c}, "a", true},
		{"5 sentinels, winner is not the asker", 5, 2, map[string]Vote{"a": a, "b": b, "c": b, "d": b}, "b", true},
		{"5 sentinels, 2 answering cannot elect", 5, 1, map[string]Vote{"a": a, "b": a}, "", false},
		{"5 sentinels, quorum 4", 5, 4, map[string]Vote{"a": a, "b": a, "c": a}, "", false},
		{"7 sentinels, 4 votes", 7, 3, map[string]Vote{"a": a, "b": a, "c": a, "d": a, "e": b}, "a", true},
		{"7 sentinels, 3 votes", 7, 3, map[string]Vote{"a": a, "b": a, "c": a, "e": b}, "", false},
		{"7 sentinels, quorum 5", 7, 5, map[string]Vote{"a": a, "b": a, "c": a, "d": a}, "", false},
		{"other epochs not counted", 3, 2, map[string]Vote{"a": a, "b": {"a", 9}, "c": {"a", 11}}, "", false},
		{"forgotten votes not counted", 3, 2, map[string]Vote{"a": a, "b": none}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tally(tt.votes).Leader(tt.known, tt.quorum)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Leader(%d, %d) = %q, %v; want %q, %v", tt.known, tt.quorum, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// A tie can only reach the required count when more voters replied than the caller says it knows; the
// winner must still not depend on map order.
func TestLeaderTieBreaksOnSmallestRunID(t *testing.T) {
	votes := map[string]Vote{"v1": {"b", 10}, "v2": {"b", 10}, "v3": {"a", 10}, "v4": {"a", 10}}
	for i := range 50 { // map iteration order varies between runs
		if got, ok := tally(votes).Leader(4, 1); got != "" || ok {
			t.Fatalf("run %d: a 2-2 tie among 4 elected %q", i, got)
		}
		if got, ok := tally(votes).Leader(3, 1); got != "a" || !ok {
			t.Fatalf("run %d: Leader = %q, %v; want a, true", i, got, ok)
		}
	}
}

// Spec §3.5: at most one vote per master and epoch, first come first served.
func TestOneVotePerEpoch(t *testing.T) {
	v := NewVoter(4, nil)
	d := v.HandleRequest("m", 5, "a")
	want := Decision{Vote: Vote{"a", 5}, EpochRaised: true, Voted: true}
	if d != want {
		t.Fatalf("first request: %+v, want %+v", d, want)
	}
	d = v.HandleRequest("m", 5, "b")
	if want := (Decision{Vote: Vote{"a", 5}}); d != want {
		t.Fatalf("second request in the same epoch: %+v, want %+v", d, want)
	}
	if d.Persist() {
		t.Fatal("a refused request must not ask to persist")
	}
}

func TestVotesOfMastersAreIndependent(t *testing.T) {
	v := NewVoter(0, nil)
	v.HandleRequest("m1", 3, "a")
	d := v.HandleRequest("m2", 3, "b")
	if !d.Voted || d.Vote != (Vote{"b", 3}) {
		t.Fatalf("vote for m2 in the epoch m1 voted in: %+v", d)
	}
	if got := v.VoteOf("m1"); got != (Vote{"a", 3}) {
		t.Fatalf("m1 vote = %+v", got)
	}
}

// Spec §3.5: a request adopts a higher epoch and then votes in it.
func TestRequestAdoptsHigherEpoch(t *testing.T) {
	v := NewVoter(2, map[string]uint64{"m": 2})
	d := v.HandleRequest("m", 9, "a")
	if !d.EpochRaised || !d.Voted || !d.Persist() || d.Vote != (Vote{"a", 9}) {
		t.Fatalf("decision %+v", d)
	}
	if v.CurrentEpoch() != 9 {
		t.Fatalf("current epoch %d, want 9", v.CurrentEpoch())
	}
}

// Spec §3.5: a request from an epoch behind ours gets no vote, only our stored (possibly older) vote.
func TestStaleRequestGetsStoredVote(t *testing.T) {
	v := NewVoter(0, nil)
	v.HandleRequest("m", 3, "a")
	v.ObserveEpoch(7)
	d := v.HandleRequest("m", 5, "b")
	if want := (Decision{Vote: Vote{"a", 3}}); d != want {
		t.Fatalf("decision %+v, want %+v", d, want)
	}
}

func TestOpinionOnlyRequestChangesNothing(t *testing.T) {
	v := NewVoter(3, map[string]uint64{"m": 2})
	if d := v.HandleRequest("m", 8, ""); d != (Decision{}) {
		t.Fatalf("decision %+v, want the zero Decision", d)
	}
	if v.CurrentEpoch() != 3 || v.VoteOf("m") != (Vote{Epoch: 2}) {
		t.Fatalf("state changed: epoch %d, vote %+v", v.CurrentEpoch(), v.VoteOf("m"))
	}
}

func TestEpochsNeverDecrease(t *testing.T) {
	v := NewVoter(5, nil)
	if v.ObserveEpoch(4) || v.ObserveEpoch(5) {
		t.Fatal("a lower or equal epoch was reported as raised")
	}
	if !v.ObserveEpoch(6) || v.CurrentEpoch() != 6 {
		t.Fatalf("epoch 6 not adopted: %d", v.CurrentEpoch())
	}
	v.HandleRequest("m", 2, "a")
	if v.CurrentEpoch() != 6 || v.VoteOf("m") != (Vote{}) {
		t.Fatalf("old request changed state: epoch %d, vote %+v", v.CurrentEpoch(), v.VoteOf("m"))
	}
}

// The leader run id is not persisted, yet a restarted voter must not vote again in an epoch it voted in.
func TestVoteSurvivesRestart(t *testing.T) {
	v := NewVoter(0, nil)
	d := v.HandleRequest("m", 4, "a")
	if !d.Persist() {
		t.Fatal("a vote must ask to be persisted")
	}
	restarted := NewVoter(v.CurrentEpoch(), v.LeaderEpochs())
	d = restarted.HandleRequest("m", 4, "b")
	if want := (Decision{Vote: Vote{Epoch: 4}}); d != want {
		t.Fatalf("after restart: %+v, want %+v", d, want)
	}
	if d = restarted.HandleRequest("m", 5, "b"); !d.Voted {
		t.Fatalf("no vote in the next epoch: %+v", d)
	}
}

func TestLeaderEpochsIsACopy(t *testing.T) {
	in := map[string]uint64{"m": 3}
	v := NewVoter(3, in)
	in["m"] = 0
	out := v.LeaderEpochs()
	out["m"] = 0
	if want := map[string]uint64{"m": 3}; !maps.Equal(v.LeaderEpochs(), want) {
		t.Fatalf("LeaderEpochs = %v, want %v", v.LeaderEpochs(), want)
	}
}

// SENTINEL RESET forgets whom we voted for but keeps the epoch fence (as Redis does).
func TestResetForgetsLeaderKeepsEpoch(t *testing.T) {
	v := NewVoter(0, nil)
	v.HandleRequest("m", 6, "a")
	v.Reset("m")
	v.Reset("never-voted")
	if got := v.VoteOf("m"); got != (Vote{Epoch: 6}) {
		t.Fatalf("vote after reset %+v", got)
	}
	if d := v.HandleRequest("m", 6, "b"); d.Voted {
		t.Fatalf("voted twice in epoch 6 after reset: %+v", d)
	}
	if want := map[string]uint64{"m": 6}; !maps.Equal(v.LeaderEpochs(), want) {
		t.Fatalf("LeaderEpochs = %v, want %v", v.LeaderEpochs(), want)
	}
}

// Spec §3.5: a failover start raises the epoch and the candidate votes for itself.
func TestStartCandidacyVotesForSelf(t *testing.T) {
	v := NewVoter(6, map[string]uint64{"m": 6})
	c, d := v.StartCandidacy("m", "me")
	want := Decision{Vote: Vote{"me", 7}, EpochRaised: true, Voted: true}
	if d != want || c.Epoch() != 7 || v.CurrentEpoch() != 7 {
		t.Fatalf("decision %+v epoch %d current %d; want %+v, 7, 7", d, c.Epoch(), v.CurrentEpoch(), want)
	}
	if got, ok := c.Leader(1, 1); got != "me" || !ok {
		t.Fatalf("lone sentinel: Leader = %q, %v", got, ok)
	}
	if _, ok := c.Leader(3, 2); ok {
		t.Fatal("own vote alone elected among 3")
	}
	c.Record("b", v.HandleRequest("m", 7, "b").Vote) // our own voter already voted for us
	c.Record("c", Vote{"other", 7})
	if got, ok := c.Leader(3, 2); got != "me" || !ok {
		t.Fatalf("Leader = %q, %v; want me, true", got, ok)
	}
}

func TestStartCandidacyCannotVoteInAnAlreadyVotedEpoch(t *testing.T) {
	v := NewVoter(1, map[string]uint64{"m": 5}) // hand-edited: leader epoch ahead of current epoch
	c, d := v.StartCandidacy("m", "me")
	if d.Voted || !d.EpochRaised || d.Vote != (Vote{Epoch: 5}) || c.Epoch() != 2 {
		t.Fatalf("decision %+v, epoch %d", d, c.Epoch())
	}
	if _, ok := c.Leader(1, 1); ok {
		t.Fatal("elected without a vote")
	}
}

func TestRecordReplacesDuplicates(t *testing.T) {
	c := tally(map[string]Vote{"a": {"a", 10}, "b": {"a", 10}})
	c.Record("b", Vote{"a", 10}) // a duplicated reply counts once
	if _, ok := c.Leader(4, 1); ok {
		t.Fatal("a duplicated reply was counted twice")
	}
	c.Record("b", Vote{"x", 11}) // the voter moved on to a later epoch
	if got, ok := c.Leader(1, 1); got != "a" || !ok {
		t.Fatalf("Leader = %q, %v", got, ok)
	}
	if c.votes["b"] != (Vote{"x", 11}) {
		t.Fatalf("later reply did not replace: %+v", c.votes["b"])
	}
}

func TestMinorityCannotElect(t *testing.T) {
	for _, known := range []int{2, 3, 4, 5, 7} {
		for quorum := 1; quorum <= known; quorum++ {
			c := &Candidacy{epoch: 1, votes: make(map[string]Vote)}
			for i := range known / 2 { // the largest group that is not a majority
				c.Record(fmt.Sprint("s", i), Vote{"s0", 1})
			}
			if got, ok := c.Leader(known, quorum); ok {
				t.Errorf("known %d quorum %d: %d votes elected %q", known, quorum, len(c.votes), got)
			}
		}
	}
}

func TestDecisionPersist(t *testing.T) {
	tests := []struct {
		d    Decision
		want bool
	}{
		{Decision{}, false},
		{Decision{Vote: Vote{"a", 3}}, false},
		{Decision{EpochRaised: true}, true},
		{Decision{Voted: true}, true},
		{Decision{EpochRaised: true, Voted: true}, true},
	}
	for _, tt := range tests {
		if got := tt.d.Persist(); got != tt.want {
			t.Errorf("%+v.Persist() = %v, want %v", tt.d, got, tt.want)
		}
	}
}

// TestLostAsSoonAsTheRepliesSplit: a candidate knows it lost once the votes
// it still misses could not lift it to a majority, so a split vote is
// retried at once rather than after a timeout.
func TestLostAsSoonAsTheRepliesSplit(t *testing.T) {
	tests := []struct {
		name          string
		known, quorum int
		votes         map[string]Vote
		lost          bool
	}{
		{"alone, nothing answered", 3, 2, map[string]Vote{"a": {"a", 10}}, false},
		{"one for another, one missing", 3, 2, map[string]Vote{"a": {"a", 10}, "b": {"b", 10}}, false},
		{"three-way split", 3, 2, map[string]Vote{"a": {"a", 10}, "b": {"b", 10}, "c": {"c", 10}}, true},
		{"another won", 3, 2, map[string]Vote{"a": {"a", 10}, "b": {"c", 10}, "c": {"c", 10}}, true},
		{"a voter ahead of us counts as answered", 3, 2, map[string]Vote{"a": {"a", 10}, "b": {"b", 11}, "c": {"c", 10}}, true},
		{"won", 3, 2, map[string]Vote{"a": {"a", 10}, "b": {"a", 10}}, false},
		{"5: 2-2 with one missing", 5, 3, map[string]Vote{"a": {"a", 10}, "b": {"a", 10}, "c": {"c", 10}, "d": {"c", 10}}, false},
		{"5: 2-2-1", 5, 3, map[string]Vote{"a": {"a", 10}, "b": {"a", 10}, "c": {"c", 10}, "d": {"c", 10}, "e": {"e", 10}}, true},
		{"quorum above the majority", 5, 5, map[string]Vote{"a": {"a", 10}, "b": {"b", 10}}, true},
	}
	for _, tt := range tests {
		if got := tally(tt.votes).Lost("a", tt.known, tt.quorum); got != tt.lost {
			t.Errorf("%s: Lost = %v, want %v", tt.name, got, tt.lost)
		}
	}
}

// TestEpochsNeverWrap: an epoch beyond MaxEpoch is neither adopted nor
// voted in, and at MaxEpoch no candidacy starts, so the epoch can not wrap
// to 0.
func TestEpochsNeverWrap(t *testing.T) {
	v := NewVoter(7, map[string]uint64{"m": 7})
	for _, e := range []uint64{MaxEpoch + 1, ^uint64(0)} {
		if v.ObserveEpoch(e) {
			t.Fatalf("epoch %d adopted", e)
		}
		if d := v.HandleRequest("m", e, "b"); d.Persist() || d.Vote != (Vote{Epoch: 7}) {
			t.Fatalf("request in epoch %d: %+v", e, d)
		}
	}
	if v.CurrentEpoch() != 7 {
		t.Fatalf("epoch %d", v.CurrentEpoch())
	}
	if !v.ObserveEpoch(MaxEpoch) {
		t.Fatal("MaxEpoch itself refused")
	}
	if c, d := v.StartCandidacy("m", "a"); c != nil || d.Persist() || v.CurrentEpoch() != MaxEpoch {
		t.Fatalf("candidacy past the cap: %v %+v epoch %d", c, d, v.CurrentEpoch())
	}
}

// TestOtherMayWin: a candidate that lost an epoch waits longer before the
// next one when the votes it misses could have elected another sentinel.
func TestOtherMayWin(t *testing.T) {
	tests := []struct {
		name          string
		known, quorum int
		votes         map[string]Vote
		want          bool
	}{
		{"three-way split: nobody", 3, 2, map[string]Vote{"a": {"a", 10}, "b": {"b", 10}, "c": {"c", 10}}, false},
		{"b may have c's vote", 3, 2, map[string]Vote{"a": {"a", 10}, "b": {"b", 10}}, true},
		{"b has won", 3, 2, map[string]Vote{"a": {"a", 10}, "b": {"b", 10}, "c": {"b", 10}}, true},
		{"nobody answered, 5 known", 5, 3, map[string]Vote{"a": {"a", 10}}, true},
		{"2-2 with one missing", 5, 3, map[string]Vote{"a": {"a", 10}, "b": {"a", 10}, "c": {"c", 10}, "d": {"c", 10}}, true},
		{"2-1-1 with one missing", 5, 3, map[string]Vote{"a": {"a", 10}, "b": {"a", 10}, "c": {"c", 10}, "d": {"d", 10}}, false},
		{"votes for older epochs do not count", 3, 2, map[string]Vote{"a": {"a", 10}, "b": {"b", 9}, "c": {"c", 10}}, false},
	}
	for _, tt := range tests {
		if got := tally(tt.votes).OtherMayWin("a", tt.known, tt.quorum); got != tt.want {
			t.Errorf("%s: OtherMayWin = %v, want %v", tt.name, got, tt.want)
		}
	}
}
