package election

import (
	"fmt"
	"testing"
)

// This file holds the simulated cluster shared by the timed simulation (sim_test.go) and the
// fuzzer (fuzz_test.go): sentinels that persist before they reply, a network hook the driver
// implements, and the safety invariants checked after every step.

var simMasters = []string{"m1", "m2"}

type msgKind uint8

const (
	msgRequest msgKind = iota // is-master-down-by-addr with a run id
	msgReply                  // its answer: the voter's stored vote
	msgHello                  // a hello carrying the sender's current epoch
)

type simMsg struct {
	kind     msgKind
	from, to int
	master   string
	epoch    uint64 // request and reply: the candidacy's epoch; hello: sender's current epoch
	vote     Vote   // reply only
}

// simCandidacy is a node's election in progress for one master.
type simCandidacy struct {
	c       *Candidacy
	started int64
	lastAsk int64
	gen     int // partition generation when it started
}

type simNode struct {
	id    string
	up    bool
	voter *Voter // nil while down

	// What survives a crash, written whenever a Decision or ObserveEpoch says so.
	diskEpoch        uint64
	diskLeaderEpochs map[string]uint64

	cands     map[string]*simCandidacy
	holdUntil map[string]int64 // no own candidacy before this time (Redis' failover_start_time gate)
	nextHello int64

	// What the checker saw last, kept across restarts.
	seenEpoch        uint64
	seenLeaderEpochs []uint64 // by index in simMasters
}

type grantKey struct {
	voter  int
	master string
	epoch  uint64
}

type termKey struct {
	master string
	epoch  uint64
}

type simStats struct {
	votes, elections, restarts, resets, minorityCandidacies int
}

type simCluster struct {
	tb     testing.TB
	label  string // printed with every failure so it reproduces
	nodes  []*simNode
	quorum int
	now    int64
	send   func(simMsg)

	// holdAfterVote keeps a node that voted for another from starting its own candidacy at once,
	// as Redis does after a vote; 0 in the untimed fuzzer.
	holdAfterVote int64

	side []int // partition side of each node; all equal = no partition
	gen  int   // bumped on every partition change

	granted map[grantKey]string // every vote ever cast
	leaders map[termKey]string  // every leader ever elected
	stats   simStats
}

func newSimCluster(tb testing.TB, label string, n, quorum int, send func(simMsg)) *simCluster {
	c := &simCluster{
		tb: tb, label: label, quorum: quorum, send: send,
		side:    make([]int, n),
		granted: make(map[grantKey]string),
		leaders: make(map[termKey]string),
	}
	for i := range n {
		c.nodes = append(c.nodes, &simNode{
			id:               fmt.Sprintf("s%d", i),
			up:               true,
			voter:            NewVoter(0, nil),
			cands:            make(map[string]*simCandidacy),
			holdUntil:        make(map[string]int64),
			seenLeaderEpochs: make([]uint64, len(simMasters)),
		})
	}
	return c
}

func (c *simCluster) fatalf(format string, args ...any) {
	c.tb.Helper()
	c.tb.Fatalf("%s t=%dms: %s", c.label, c.now, fmt.Sprintf(format, args...))
}

func (c *simCluster) cut(a, b int) bool { return c.side[a] != c.side[b] }

func (c *simCluster) sideSize(i int) int {
	n := 0
	for _, s := range c.side {
		if s == c.side[i] {
			n++
		}
	}
	return n
}

func (c *simCluster) partitioned() bool {
	for _, s := range c.side {
		if s != c.side[0] {
			return true
		}
	}
	return false
}

func (c *simCluster) setPartition(side []int) {
	copy(c.side, side)
	c.gen++
}

func (c *simCluster) persist(i int) {
	n := c.nodes[i]
	n.diskEpoch = n.voter.CurrentEpoch()
	n.diskLeaderEpochs = n.voter.LeaderEpochs()
}

// apply records and persists what a step decided, before the caller sends anything.
func (c *simCluster) apply(i int, master string, d Decision, candidate string) {
	if d.Voted {
		if d.Vote.Leader != candidate {
			c.fatalf("%s voted for %q, asked for %q", c.nodes[i].id, d.Vote.Leader, candidate)
		}
		k := grantKey{i, master, d.Vote.Epoch}
		if prev, ok := c.granted[k]; ok {
			c.fatalf("%s granted a second vote for %s in epoch %d: %s, earlier %s",
				c.nodes[i].id, master, d.Vote.Epoch, candidate, prev)
		}
		c.granted[k] = candidate
		c.stats.votes++
	}
	if d.Persist() {
		c.persist(i)
	}
}

func (c *simCluster) startCandidacy(i int, master string) {
	n := c.nodes[i]
	cand, d := n.voter.StartCandidacy(master, n.id)
	c.apply(i, master, d, n.id)
	n.cands[master] = &simCandidacy{c: cand, started: c.now, gen: c.gen}
	if c.sideSize(i) < Required(len(c.nodes), c.quorum) {
		c.stats.minorityCandidacies++
	}
	c.ask(i, master)
}

func (c *simCluster) ask(i int, master string) {
	sc := c.nodes[i].cands[master]
	sc.lastAsk = c.now
	for j := range c.nodes {
		if j != i {
			c.send(simMsg{kind: msgRequest, from: i, to: j, master: master, epoch: sc.c.Epoch()})
		}
	}
}

func (c *simCluster) hello(i int) {
	for j := range c.nodes {
		if j != i {
			c.send(simMsg{kind: msgHello, from: i, to: j, epoch: c.nodes[i].voter.CurrentEpoch()})
		}
	}
}

// deliver hands m to its receiver; messages to a down node or across the partition are lost.
func (c *simCluster) deliver(m simMsg) {
	n := c.nodes[m.to]
	if !n.up || c.cut(m.from, m.to) {
		return
	}
	switch m.kind {
	case msgRequest:
		candidate := c.nodes[m.from].id
		d := n.voter.HandleRequest(m.master, m.epoch, candidate)
		c.apply(m.to, m.master, d, candidate)
		if d.Voted {
			n.holdUntil[m.master] = max(n.holdUntil[m.master], c.now+c.holdAfterVote)
		}
		c.send(simMsg{kind: msgReply, from: m.to, to: m.from, master: m.master, epoch: m.epoch, vote: d.Vote})
	case msgReply:
		if sc := n.cands[m.master]; sc != nil && sc.c.Epoch() == m.epoch {
			sc.c.Record(c.nodes[m.from].id, m.vote)
		}
	case msgHello:
		if n.voter.ObserveEpoch(m.epoch) {
			c.persist(m.to)
		}
	}
}

// count tallies node i's candidacy for master; it reports whether the election is decided.
func (c *simCluster) count(i int, master string) bool {
	n := c.nodes[i]
	sc := n.cands[master]
	leader, ok := sc.c.Leader(len(c.nodes), c.quorum)
	if !ok {
		return false
	}
	k := termKey{master, sc.c.Epoch()}
	if prev, found := c.leaders[k]; found && prev != leader {
		c.fatalf("two leaders for %s in epoch %d: %s (seen by %s) and %s", master, k.epoch, leader, n.id, prev)
	}
	c.leaders[k] = leader
	if leader == n.id {
		c.stats.elections++
		if sc.gen == c.gen && c.sideSize(i) < Required(len(c.nodes), c.quorum) {
			c.fatalf("%s won %s epoch %d from a minority side of %d", n.id, master, k.epoch, c.sideSize(i))
		}
	}
	delete(n.cands, master)
	return true
}

// reset is SENTINEL RESET of master on node i: its vote is forgotten and its election abandoned.
func (c *simCluster) reset(i int, master string) {
	n := c.nodes[i]
	n.voter.Reset(master)
	delete(n.cands, master)
	c.stats.resets++
}

func (c *simCluster) crash(i int) {
	n := c.nodes[i]
	n.up, n.voter = false, nil
	clear(n.cands)
	c.stats.restarts++
}

func (c *simCluster) recover(i int) {
	n := c.nodes[i]
	n.up, n.voter = true, NewVoter(n.diskEpoch, n.diskLeaderEpochs)
}

// check verifies the per-node invariants after every step.
func (c *simCluster) check() {
	for _, n := range c.nodes {
		if !n.up {
			continue
		}
		e := n.voter.CurrentEpoch()
		if e < n.seenEpoch {
			c.fatalf("%s current epoch went from %d down to %d", n.id, n.seenEpoch, e)
		}
		n.seenEpoch = e
		for mi, m := range simMasters {
			le := n.voter.VoteOf(m).Epoch
			if le < n.seenLeaderEpochs[mi] {
				c.fatalf("%s leader epoch of %s went from %d down to %d", n.id, m, n.seenLeaderEpochs[mi], le)
			}
			if le > e {
				c.fatalf("%s leader epoch of %s is %d, beyond current epoch %d", n.id, m, le, e)
			}
			n.seenLeaderEpochs[mi] = le
		}
	}
}
