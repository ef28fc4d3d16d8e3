package gossip

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/sentinel/gossip/gossiptest"
	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// recorder collects what a Group hands to its callbacks.
type recorder struct {
	mu      sync.Mutex
	msgs    []received
	changes []received
}

type received struct {
	from string
	msg  any // a peer.Message, or a bool for a membership change
}

func (r *recorder) onMessage(from string, msg peer.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, received{from, msg})
}

func (r *recorder) onMembership(name string, alive bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, received{name, alive})
}

func (r *recorder) got(from string, msg peer.Message) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.msgs, received{from, msg})
}

func (r *recorder) saw(name string, alive bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.changes, received{name, alive})
}

// waitFor polls cond until it holds or the deadline passes. Inside a
// synctest bubble both the sleep and the deadline are on fake time.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testLogger(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).With().Timestamp().Logger()
}

// memCluster starts n groups on an in-memory network, not yet joined, all
// with the given secrets (none: unauthenticated).
func memCluster(t *testing.T, n int, keys ...[]byte) (*gossiptest.Network, []*Group, []*recorder) {
	t.Helper()
	network := gossiptest.NewNetwork()
	groups := make([]*Group, n)
	recs := make([]*recorder, n)
	for i := range n {
		groups[i], recs[i] = memNode(t, network, i, fmt.Sprintf("node%d", i), keys)
	}
	return network, groups, recs
}

// memNode starts one group at gossiptest.Addr(i).
func memNode(t *testing.T, network *gossiptest.Network, i int, name string, keys [][]byte) (*Group, *recorder) {
	t.Helper()
	ip, port, _ := gossiptest.Addr(i)
	rec := &recorder{}
	cfg := Config{
		Name:         name,
		BindAddr:     ip,
		Port:         port,
		Label:        "test",
		Keys:         keys,
		Log:          testLogger(t).With().Str("node", name).Logger(),
		OnMessage:    rec.onMessage,
		OnMembership: rec.onMembership,
	}
	g, err := newGroup(cfg, network.Transport(ip, port))
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return g, rec
}

// closeAll closes groups inside a synctest bubble, then lets memberlist's
// in-flight probes and streams (which Shutdown does not wait for) run out:
// fake time stops when the bubble's root goroutine returns.
func closeAll(t *testing.T, groups ...*Group) {
	t.Helper()
	for _, g := range groups {
		if err := g.Close(); err != nil {
			t.Errorf("close %s: %v", g.name, err)
		}
	}
	time.Sleep(2 * tcpTimeout)
}

// listed reports whether g.Members lists name, alive or failed.
func listed(g *Group, name string) bool {
	return slices.ContainsFunc(g.Members(), func(m Member) bool { return m.Name == name })
}

// sees reports whether g considers each of names alive (want) or not.
func sees(g *Group, want bool, names ...string) bool {
	for _, n := range names {
		if g.Alive(n) != want {
			return false
		}
	}
	return true
}

func TestGroupSpreadsAndDetectsFailuresOnFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network, groups, recs := memCluster(t, 3)
		defer closeAll(t, groups...)
		_, _, seed := gossiptest.Addr(0)
		groups[1].Join(seed)
		groups[2].Join(seed, seed) // duplicates and repeats are harmless
		groups[2].Join(seed)

		waitFor(t, 5*time.Second, "all three to see each other", func() bool {
			return sees(groups[0], true, "node1", "node2") &&
				sees(groups[1], true, "node0", "node2") &&
				sees(groups[2], true, "node0", "node1")
		})
		// OnMembership runs on the notifier goroutine, after memberlist's view.
		waitFor(t, time.Second, "OnMembership(alive) at node0 for its peers", func() bool {
			return recs[0].saw("node1", true) && recs[0].saw("node2", true)
		})

		// A broadcast reaches everyone within a few gossip rounds.
		op := peer.Opinion{From: "node0", Master: "mymaster", Down: true}
		sent := time.Now()
		groups[0].Broadcast(op)
		waitFor(t, time.Second, "the opinion at node1 and node2", func() bool {
			return recs[1].got("node0", op) && recs[2].got("node0", op)
		})
		if took := time.Since(sent); took > 4*gossipInterval {
			t.Fatalf("opinion took %s to spread, want within a few gossip rounds", took)
		}

		// A direct send reaches only its addressee.
		reply := peer.VoteReply{From: "node1", Master: "mymaster", Down: true, Leader: "node1", LeaderEpoch: 3}
		if err := groups[1].Send("node2", reply); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Second, "the vote reply at node2", func() bool { return recs[2].got("node1", reply) })
		if recs[0].got("node1", reply) {
			t.Fatal("a direct send reached a third node")
		}

		// Isolate node2: both sides declare the other failed.
		_, _, a0 := gossiptest.Addr(0)
		_, _, a1 := gossiptest.Addr(1)
		_, _, a2 := gossiptest.Addr(2)
		network.Partition(a0, a2)
		network.Partition(a1, a2)
		cut := time.Now()
		waitFor(t, 10*time.Second, "node2 and the majority to see each other failed", func() bool {
			return sees(groups[0], false, "node2") && sees(groups[1], false, "node2") &&
				sees(groups[2], false, "node0", "node1")
		})
		t.Logf("partition detected after %s of fake time", time.Since(cut))
		if !sees(groups[0], true, "node1") {
			t.Fatal("node0 lost node1, which stayed reachable")
		}
		waitFor(t, time.Second, "OnMembership(failed) for the partitioned nodes", func() bool {
			return recs[0].saw("node2", false) && recs[2].saw("node0", false)
		})
		want := Member{Name: "node2", Addr: "10.0.0.3", Port: 7946, Alive: false}
		if !slices.Contains(groups[0].Members(), want) {
			t.Fatalf("node0 members %+v, want failed %+v listed", groups[0].Members(), want)
		}

		network.Heal()
		waitFor(t, 10*time.Second, "everyone alive again after heal", func() bool {
			return sees(groups[0], true, "node1", "node2") &&
				sees(groups[1], true, "node0", "node2") &&
				sees(groups[2], true, "node0", "node1")
		})

		// A graceful leave is not a failure: node2 vanishes from Members.
		if err := groups[2].Close(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "node0 to drop node2 after its leave", func() bool { return !listed(groups[0], "node2") })
	})
}

func TestRejoinAfterPartitionOutlivesGossipToTheDead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network, groups, _ := memCluster(t, 2)
		defer closeAll(t, groups...)
		_, _, a0 := gossiptest.Addr(0)
		_, _, a1 := gossiptest.Addr(1)
		groups[1].Join(a0)
		waitFor(t, 5*time.Second, "join", func() bool { return groups[0].Alive("node1") && groups[1].Alive("node0") })

		network.Partition(a0, a1)
		waitFor(t, 10*time.Second, "failure", func() bool { return !groups[0].Alive("node1") && !groups[1].Alive("node0") })
		// Long enough that memberlist alone has stopped gossiping to the dead.
		time.Sleep(3 * gossipToTheDead)
		network.Heal()
		waitFor(t, 2*reconnectInterval+5*time.Second, "reconnect", func() bool {
			return groups[0].Alive("node1") && groups[1].Alive("node0")
		})
	})
}

func TestJoinRetriesUntilSeedAppears(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network := gossiptest.NewNetwork()
		ip, port, _ := gossiptest.Addr(0)
		g0, err := newGroup(Config{Name: "node0", BindAddr: ip, Port: port, Log: testLogger(t).Level(zerolog.Disabled)},
			network.Transport(ip, port))
		if err != nil {
			t.Fatal(err)
		}
		_, _, seed := gossiptest.Addr(1)
		g0.Join(seed) // nobody there yet
		time.Sleep(3 * time.Second)

		ip1, port1, _ := gossiptest.Addr(1)
		g1, err := newGroup(Config{Name: "node1", BindAddr: ip1, Port: port1, Log: testLogger(t)},
			network.Transport(ip1, port1))
		if err != nil {
			t.Fatal(err)
		}
		defer closeAll(t, g0, g1)
		waitFor(t, joinMaxBackoff+time.Second, "the background join to succeed", func() bool {
			return g0.Alive("node1") && g1.Alive("node0")
		})
	})
}

func TestSendAndBroadcastRefuseWhatTheyCannotSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, groups, _ := memCluster(t, 1)
		defer closeAll(t, groups...)
		g := groups[0]
		if err := g.Send("nobody", peer.Opinion{From: "node0"}); !errors.Is(err, ErrUnknownMember) {
			t.Fatalf("Send to a stranger: %v, want ErrUnknownMember", err)
		}
		if err := g.Send("node0", peer.Opinion{From: "node0"}); !errors.Is(err, ErrUnknownMember) {
			t.Fatalf("Send to itself: %v, want ErrUnknownMember", err)
		}
		g.Broadcast(peer.Opinion{From: "node0", Master: strings.Repeat("m", peer.MaxString+1)}) // logged and dropped, no panic
	})
}

// OnMembership runs outside memberlist's node lock, so it may query the Group.
func TestOnMembershipMayQueryGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network := gossiptest.NewNetwork()
		var (
			g0       *Group
			mu       sync.Mutex
			observed []Member
		)
		ready := make(chan struct{})
		ip, port, seed := gossiptest.Addr(0)
		g0, err := newGroup(Config{Name: "node0", BindAddr: ip, Port: port, Log: testLogger(t),
			OnMembership: func(name string, alive bool) {
				<-ready // g0 is assigned
				mu.Lock()
				defer mu.Unlock()
				observed = g0.Members()
			}}, network.Transport(ip, port))
		if err != nil {
			t.Fatal(err)
		}
		close(ready)
		ip1, port1, _ := gossiptest.Addr(1)
		g1, err := newGroup(Config{Name: "node1", BindAddr: ip1, Port: port1, Log: testLogger(t)}, network.Transport(ip1, port1))
		if err != nil {
			t.Fatal(err)
		}
		defer closeAll(t, g0, g1)
		g1.Join(seed)
		waitFor(t, 5*time.Second, "the callback to see node1 through Members", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(observed) == 1 && observed[0].Name == "node1" && observed[0].Alive
		})
	})
}

// Join remembers a bounded number of addresses, however many it is given.
func TestJoinBoundsRememberedAddresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, groups, _ := memCluster(t, 1)
		defer closeAll(t, groups...)
		g := groups[0]
		for i := range maxWanted + 10 {
			g.Join(fmt.Sprintf("10.9.%d.%d:7946", i/256, i%256))
		}
		g.Join("10.9.0.0:7946") // already known: no change
		g.mu.Lock()
		wanted, seeds := len(g.wanted), len(g.seeds)
		g.mu.Unlock()
		if wanted != maxWanted || seeds > maxWanted {
			t.Fatalf("remembers %d addresses and %d seeds, want at most %d", wanted, seeds, maxWanted)
		}
	})
}
