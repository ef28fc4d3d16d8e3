package election

import (
	"container/heap"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
)

// A deterministic simulation of sentinels electing failover leaders over a faulty network, on a fake
// clock with every random choice drawn from one seeded source. Time is in milliseconds; the timers are
// Redis' (docs/behaviour.md §3.1) scaled down so that a run covers many elections.

var simSeed = flag.Int64("sim.seed", -1, "run only this simulation seed (the seed a failure printed)")

const (
	tickPeriod      = 100  // sentinel timer
	askPeriod       = 300  // re-ask every sentinel while a candidacy lasts (ask_period)
	helloPeriod     = 2000 // hello with our current epoch
	electionTimeout = 2000 // give up a candidacy not elected by then
	maxDesync       = 1000 // random offset spreading candidacies (SENTINEL_MAX_DESYNC)
	holdAfterVote   = 4000 // a voter waits this long before its own candidacy
)

type simConfig struct {
	n, quorum  int
	duration   int64
	candidacy  float64 // chance per tick that a node wants a failover of a master
	reset      float64 // chance per tick that a node gets SENTINEL RESET for a master
	drop, dup  float64 // per message
	maxDelay   int64
	restarts   bool
	partitions bool // random partitions that come and go
	fixedMinor int  // if > 0, this many nodes are cut off for the whole run
}

type evKind uint8

const (
	evDeliver evKind = iota
	evTick
	evCrash
	evRecover
	evPartition
)

type simEvent struct {
	at   int64
	seq  uint64
	kind evKind
	node int
	msg  simMsg
}

type eventQueue []simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type sim struct {
	cfg   simConfig
	rng   *rand.Rand
	c     *simCluster
	queue eventQueue
	seq   uint64
}

func (s *sim) at(delay int64, e simEvent) {
	e.at, e.seq = s.c.now+delay, s.seq
	s.seq++
	heap.Push(&s.queue, e)
}

// send puts m on the simulated network: partitions and drops lose it, random delays reorder it,
// and it may arrive twice.
func (s *sim) send(m simMsg) {
	if s.c.cut(m.from, m.to) || s.rng.Float64() < s.cfg.drop {
		return
	}
	s.at(1+s.rng.Int64N(s.cfg.maxDelay), simEvent{kind: evDeliver, msg: m})
	if s.rng.Float64() < s.cfg.dup {
		s.at(1+s.rng.Int64N(s.cfg.maxDelay), simEvent{kind: evDeliver, msg: m})
	}
}

// tick is one run of node i's sentinel timer: what the failover state machine does with this package.
func (s *sim) tick(i int) {
	n := s.c.nodes[i]
	for _, m := range simMasters {
		if s.rng.Float64() < s.cfg.reset {
			s.c.reset(i, m)
		}
		sc := n.cands[m]
		switch {
		case sc != nil && s.c.count(i, m):
			n.holdUntil[m] = s.c.now + holdAfterVote + s.rng.Int64N(maxDesync) // decided: the winner's failover runs
		case sc != nil && s.c.now-sc.started > electionTimeout:
			delete(n.cands, m) // -failover-abort-not-elected, retry after a back-off
			n.holdUntil[m] = s.c.now + s.rng.Int64N(2*electionTimeout)
		case sc != nil && s.c.now-sc.lastAsk >= askPeriod:
			s.c.ask(i, m)
		case sc == nil && s.c.now >= n.holdUntil[m] && s.rng.Float64() < s.cfg.candidacy:
			s.c.startCandidacy(i, m)
		}
	}
	if s.c.now >= n.nextHello {
		s.c.hello(i)
		n.nextHello = s.c.now + helloPeriod
	}
}

// partition splits a healed cluster at random, or heals a split one.
func (s *sim) partition() {
	side := make([]int, s.cfg.n)
	if !s.c.partitioned() {
		for i := range side {
			side[i] = s.rng.IntN(2)
		}
	}
	s.c.setPartition(side)
	s.at(3000+s.rng.Int64N(10000), simEvent{kind: evPartition})
}

func runSim(tb testing.TB, seed uint64, cfg simConfig) *simCluster {
	tb.Helper()
	s := &sim{cfg: cfg, rng: rand.New(rand.NewPCG(seed, uint64(cfg.n)))}
	label := fmt.Sprintf("seed %d (go test ./election -run '^%s$' -sim.seed %d), n=%d quorum=%d",
		seed, tb.Name(), seed, cfg.n, cfg.quorum)
	s.c = newSimCluster(tb, label, cfg.n, cfg.quorum, s.send)
	s.c.holdAfterVote = holdAfterVote
	if cfg.fixedMinor > 0 {
		side := make([]int, cfg.n)
		for i := range cfg.fixedMinor {
			side[i] = 1
		}
		s.c.setPartition(side)
	}
	for i, n := range s.c.nodes {
		for _, m := range simMasters {
			n.holdUntil[m] = s.rng.Int64N(maxDesync)
		}
		s.at(s.rng.Int64N(tickPeriod), simEvent{kind: evTick, node: i})
		if cfg.restarts {
			s.at(s.rng.Int64N(cfg.duration), simEvent{kind: evCrash, node: i})
		}
	}
	if cfg.partitions {
		s.at(s.rng.Int64N(5000), simEvent{kind: evPartition})
	}
	for s.queue.Len() > 0 {
		e := heap.Pop(&s.queue).(simEvent)
		if e.at > cfg.duration {
			break
		}
		s.c.now = e.at
		switch e.kind {
		case evDeliver:
			s.c.deliver(e.msg)
		case evTick:
			if s.c.nodes[e.node].up {
				s.tick(e.node)
			}
			s.at(tickPeriod-10+s.rng.Int64N(20), simEvent{kind: evTick, node: e.node})
		case evCrash:
			s.c.crash(e.node)
			s.at(s.rng.Int64N(3000), simEvent{kind: evRecover, node: e.node})
		case evRecover:
			s.c.recover(e.node)
			s.at(s.rng.Int64N(cfg.duration/2), simEvent{kind: evCrash, node: e.node})
		case evPartition:
			s.partition()
		}
		s.c.check()
	}
	return s.c
}

// seeds yields the simulation seeds: many by default, fewer with -short, one with -sim.seed.
func seeds(count int) []uint64 {
	if *simSeed >= 0 {
		return []uint64{uint64(*simSeed)}
	}
	if testing.Short() {
		count /= 10
	}
	out := make([]uint64, count)
	for i := range out {
		out[i] = uint64(i)
	}
	return out
}

var clusterSizes = []int{3, 5, 7}

// Under drops, duplicates, reordering, partitions and restarts: never two leaders for a master in an
// epoch, never a second vote in an epoch (even after a restart), epochs never decrease, and a node cut
// off on a minority side never wins.
func TestSimSafetyUnderFaults(t *testing.T) {
	t.Parallel()
	var total simStats
	for _, seed := range seeds(500) {
		n := clusterSizes[seed%3]
		c := runSim(t, seed, simConfig{
			n: n, quorum: 1 + int(seed/3)%n, duration: 30_000, candidacy: 0.05, reset: 0.01,
			drop: 0.1, dup: 0.05, maxDelay: 400, restarts: true, partitions: true,
		})
		total.votes += c.stats.votes
		total.elections += c.stats.elections
		total.restarts += c.stats.restarts
		total.resets += c.stats.resets
		total.minorityCandidacies += c.stats.minorityCandidacies
	}
	if total.elections == 0 || total.restarts == 0 || total.resets == 0 || total.minorityCandidacies == 0 {
		t.Fatalf("the simulation exercised too little: %+v", total)
	}
	t.Logf("%+v", total)
}

// Spec §3.5: without faults, some sentinel is elected for every master.
func TestSimElectsLeaderWithoutFaults(t *testing.T) {
	t.Parallel()
	for _, seed := range seeds(200) {
		n := clusterSizes[seed%3]
		c := runSim(t, seed, simConfig{
			n: n, quorum: 1 + int(seed/3)%(n/2+1), duration: 15_000, candidacy: 1, maxDelay: 20,
		})
		for _, m := range simMasters {
			if !electedAny(c, m) {
				t.Fatalf("%s: no leader elected for %s (%+v)", c.label, m, c.stats)
			}
		}
	}
}

// A fixed partition: the minority side keeps trying and never wins; the majority side elects.
func TestSimMinorityPartitionNeverElects(t *testing.T) {
	t.Parallel()
	for _, seed := range seeds(200) {
		n := clusterSizes[seed%3]
		minor := (n - 1) / 2
		c := runSim(t, seed, simConfig{
			n: n, quorum: 1 + int(seed/3)%(n/2+1), duration: 20_000, candidacy: 0.3,
			drop: 0.05, dup: 0.05, maxDelay: 100, fixedMinor: minor,
		})
		if c.stats.minorityCandidacies == 0 {
			t.Fatalf("%s: the minority side never stood", c.label)
		}
		for k, leader := range c.leaders {
			if c.side[leaderIndex(c, leader)] != 0 {
				t.Fatalf("%s: minority node %s elected for %s epoch %d", c.label, leader, k.master, k.epoch)
			}
		}
		for _, m := range simMasters {
			if !electedAny(c, m) {
				t.Fatalf("%s: majority side elected no leader for %s", c.label, m)
			}
		}
	}
}

func electedAny(c *simCluster, master string) bool {
	for k := range c.leaders {
		if k.master == master {
			return true
		}
	}
	return false
}

func leaderIndex(c *simCluster, id string) int {
	for i, n := range c.nodes {
		if n.id == id {
			return i
		}
	}
	c.fatalf("unknown leader %q", id)
	return -1
}
