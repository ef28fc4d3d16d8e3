package gossip

import (
	"bytes"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/gossip/gossiptest"
	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// Each test here replays an attack on the gossip port in-process and shows
// it refused: nothing reaches OnMessage, membership does not change, and the
// refusal is counted by reason.

var testKey = bytes.Repeat([]byte{7}, 32)

// joinedCluster starts n groups with the given secrets and waits until they
// all see each other.
func joinedCluster(t *testing.T, n int, keys ...[]byte) (*gossiptest.Network, []*Group, []*recorder) {
	t.Helper()
	network, groups, recs := memCluster(t, n, keys...)
	_, _, seed := gossiptest.Addr(0)
	for _, g := range groups[1:] {
		g.Join(seed)
	}
	waitFor(t, 10*time.Second, "the group to form", func() bool {
		for _, g := range groups {
			if len(g.ml.Members()) != n {
				return false
			}
		}
		return true
	})
	return network, groups, recs
}

// stranger is a raw sender on the network at gossiptest.Addr(i), outside the group.
func stranger(t *testing.T, network *gossiptest.Network, i int) *gossiptest.Transport {
	t.Helper()
	ip, port, _ := gossiptest.Addr(i)
	s := network.Transport(ip, port)
	t.Cleanup(func() { _ = s.Shutdown() })
	return s
}

func mustSeal(t *testing.T, s sealer, e envelope) []byte {
	t.Helper()
	b, err := s.encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitDropped waits until g has refused want datagrams for reason.
func waitDropped(t *testing.T, g *Group, reason string, want uint64) {
	t.Helper()
	waitFor(t, 5*time.Second, "a "+reason+" refusal at "+g.name, func() bool { return g.Dropped()[reason] >= want })
}

func (r *recorder) count(from string, msg peer.Message) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if m == (received{from, msg}) {
			n++
		}
	}
	return n
}

func (r *recorder) none(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) != 0 {
		t.Fatalf("refused input was delivered: %+v", r.msgs)
	}
}

// eavesdrop has node1 send op to node0, waits for its delivery and returns
// the datagram as captured on the wire.
func eavesdrop(t *testing.T, network *gossiptest.Network, groups []*Group, recs []*recorder, op peer.Opinion) []byte {
	t.Helper()
	_, _, a0 := gossiptest.Addr(0)
	captured := make(chan []byte, 1)
	network.Tap(func(_, to string, b []byte) {
		if to == a0 && b[0] == packetMagic && len(captured) == 0 {
			captured <- b
		}
	})
	defer network.Tap(nil)
	if err := groups[1].Send("node0", op); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the genuine opinion", func() bool { return recs[0].got("node1", op) })
	return <-captured
}

// The 110-byte datagram of the issue: a hello switching the master, sent by
// a process that knows no secret and is no member.
func TestForgedHelloFromStrangerRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, groups, recs := joinedCluster(t, 2, testKey)
		defer closeAll(t, groups...)
		network := groups[0].net.(*gossiptest.Transport).Network()
		evil := stranger(t, network, 9)
		_, _, to := gossiptest.Addr(0)
		hello := peer.Hello{Payload: "10.0.0.2,7946,node1,9,mymaster,6.6.6.6,6379,9"}
		forged := envelope{kind: kindPeer, from: "node1", seq: 1 << 62, msg: hello}

		unsigned := mustSeal(t, sealer{label: "test"}, forged)
		otherKey := mustSeal(t, sealer{label: "test", keys: macKeys{derive(bytes.Repeat([]byte{9}, 32), infoMAC)}}, forged)
		otherLabel := mustSeal(t, sealer{label: "other", keys: groups[1].sealer.keys}, forged)
		for _, b := range [][]byte{unsigned, otherKey, otherLabel, {packetMagic}, {packetMagic, kindPeer, 0xff}} {
			if _, err := evil.WriteTo(b, to); err != nil {
				t.Fatal(err)
			}
		}
		waitDropped(t, groups[0], dropUnauthenticated, 5)
		recs[0].none(t)

		// The member holding the secret still gets through.
		genuine := peer.Hello{Payload: "10.0.0.2,7946,node1,1,mymaster,10.0.0.9,6379,1"}
		if err := groups[1].Send("node0", genuine); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Second, "the genuine hello", func() bool { return recs[0].got("node1", genuine) })
		if recs[0].got("node1", hello) {
			t.Fatal("the forged hello was delivered")
		}
	})
}

// Without a secret a message counts only from the member's own address.
func TestUnauthenticatedGossipChecksSenderAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, groups, recs := joinedCluster(t, 2)
		defer closeAll(t, groups...)
		network := groups[0].net.(*gossiptest.Transport).Network()
		evil := stranger(t, network, 9)
		_, _, to := gossiptest.Addr(0)
		plain := sealer{label: "test"}
		op := peer.Opinion{From: "node1", Master: "mymaster", Down: true}
		if _, err := evil.WriteTo(mustSeal(t, plain, envelope{kind: kindPeer, from: "node1", seq: 1, msg: op}), to); err != nil {
			t.Fatal(err)
		}
		waitDropped(t, groups[0], dropWrongAddress, 1)
		self := peer.Opinion{From: "evil", Master: "mymaster", Down: true}
		if _, err := evil.WriteTo(mustSeal(t, plain, envelope{kind: kindPeer, from: "evil", seq: 1, msg: self}), to); err != nil {
			t.Fatal(err)
		}
		waitDropped(t, groups[0], dropUnknownSender, 1)
		// A reflected datagram of node0's own is no member's either.
		mine := peer.Opinion{From: "node0", Master: "mymaster", Down: true}
		if _, err := evil.WriteTo(mustSeal(t, plain, envelope{kind: kindPeer, from: "node0", seq: 1, msg: mine}), to); err != nil {
			t.Fatal(err)
		}
		waitDropped(t, groups[0], dropUnknownSender, 2)
		recs[0].none(t)

		if err := groups[1].Send("node0", op); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Second, "node1's own opinion", func() bool { return recs[0].got("node1", op) })
	})
}

// Without the secret a node can neither join, nor list the members.
func TestJoinWithoutSecretRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network, groups, _ := joinedCluster(t, 2, testKey)
		plain, _ := memNode(t, network, 5, "plain", nil)
		other, _ := memNode(t, network, 6, "other", [][]byte{bytes.Repeat([]byte{9}, 32)})
		defer closeAll(t, append(groups, plain, other)...)
		_, _, seed := gossiptest.Addr(0)
		plain.Join(seed)
		other.Join(seed)
		// Each refused join (and its retries) is a refused stream at node0.
		waitDropped(t, groups[0], dropMemberlist, 4)
		for _, g := range []*Group{plain, other} {
			if n := g.ml.NumMembers(); n != 1 {
				t.Fatalf("%s, without the secret, sees %d members", g.name, n)
			}
		}
		for _, g := range groups {
			if g.Alive("plain") || g.Alive("other") || len(g.Members()) != 1 {
				t.Fatalf("%s admitted a node without the secret: %+v", g.name, g.Members())
			}
		}
	})
}

// A datagram captured on the wire and sent again is refused, however
// genuine: at once (a repeat), and later (older than the replay window).
func TestReplayedDatagramRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network, groups, recs := joinedCluster(t, 2, testKey)
		defer closeAll(t, groups...)
		_, _, a0 := gossiptest.Addr(0)
		op := peer.Opinion{From: "node1", Master: "mymaster", Down: true, Epoch: 4}
		b := eavesdrop(t, network, groups, recs, op)

		evil := stranger(t, network, 9)
		if _, err := evil.WriteTo(b, a0); err != nil {
			t.Fatal(err)
		}
		waitDropped(t, groups[0], dropReplayed, 1)

		// A long-running sender moves on by more than the window.
		groups[1].seq.Add(windowSize)
		later := peer.Opinion{From: "node1", Master: "mymaster", Down: false, Epoch: 4}
		if err := groups[1].Send("node0", later); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Second, "the later opinion", func() bool { return recs[0].got("node1", later) })
		if _, err := evil.WriteTo(b, a0); err != nil {
			t.Fatal(err)
		}
		waitDropped(t, groups[0], dropStale, 1)
		if n := recs[0].count("node1", op); n != 1 {
			t.Fatalf("the captured opinion was delivered %d times, want once", n)
		}
	})
}

// A datagram captured before its sender restarted is refused afterwards,
// though the restart emptied the receiver's replay window for it.
func TestReplayFromBeforeSenderRestartRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network, groups, recs := joinedCluster(t, 2, testKey)
		_, _, a0 := gossiptest.Addr(0)
		op := peer.Opinion{From: "node1", Master: "mymaster", Down: true}
		b := eavesdrop(t, network, groups, recs, op)

		if err := groups[1].Close(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "node1's leave", func() bool { return !listed(groups[0], "node1") })
		restarted, _ := memNode(t, network, 1, "node1", [][]byte{testKey})
		defer closeAll(t, groups[0], restarted)
		restarted.Join(a0)
		waitFor(t, 30*time.Second, "node1 back", func() bool { return groups[0].Alive("node1") })

		if _, err := stranger(t, network, 9).WriteTo(b, a0); err != nil {
			t.Fatal(err)
		}
		waitDropped(t, groups[0], dropStale, 1)
		if n := recs[0].count("node1", op); n != 1 {
			t.Fatalf("the opinion from before the restart was delivered %d times, want once", n)
		}
	})
}

// A datagram captured before its sender announced a higher floor is
// refused by a receiver that restarted since, with nothing in its window.
func TestReplayToRestartedReceiverRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network, groups, recs := joinedCluster(t, 2, testKey)
		_, _, a0 := gossiptest.Addr(0)
		_, _, a1 := gossiptest.Addr(1)
		b := eavesdrop(t, network, groups, recs, peer.Opinion{From: "node1", Master: "mymaster", Down: true})

		if err := groups[0].Close(); err != nil {
			t.Fatal(err)
		}
		// The floor is announced every floorRefresh; here at once.
		groups[1].raiseFloor()
		restarted, rec := memNode(t, network, 0, "node0", [][]byte{testKey})
		defer closeAll(t, restarted, groups[1])
		restarted.Join(a1)
		waitFor(t, 30*time.Second, "node0 back", func() bool { return restarted.Alive("node1") })

		if _, err := stranger(t, network, 9).WriteTo(b, a0); err != nil {
			t.Fatal(err)
		}
		waitDropped(t, restarted, dropStale, 1)
		rec.none(t)
	})
}

// A member may speak only for itself: the envelope's sender must be the
// message's.
func TestSenderMismatchRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, groups, recs := joinedCluster(t, 3, testKey)
		defer closeAll(t, groups...)
		for _, msg := range []peer.Message{
			peer.Opinion{From: "node2", Master: "mymaster", Down: true},
			peer.VoteReply{From: "node2", Master: "mymaster", Down: true, Leader: "node1", LeaderEpoch: 3},
			peer.VoteRequest{From: "node2", Master: "mymaster", MasterIP: "10.0.0.9", MasterPort: 6379, Epoch: 3, Candidate: "node2"},
			peer.Hello{Payload: "10.0.0.3,7946,node2,9,mymaster,6.6.6.6,6379,9"},
			peer.Hello{Payload: "not a hello"},
		} {
			if err := groups[1].Send("node0", msg); err != nil {
				t.Fatal(err)
			}
		}
		waitDropped(t, groups[0], dropSenderMismatch, 5)
		recs[0].none(t)
	})
}

// A member that fails is redialled for minutes, not hours, unless Join was
// given its address (configured or discovered sentinels).
func TestFailedMemberForgottenInMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network, groups, _ := joinedCluster(t, 3)
		defer closeAll(t, groups...)
		_, _, a0 := gossiptest.Addr(0)
		_, _, a1 := gossiptest.Addr(1)
		_, _, a2 := gossiptest.Addr(2)
		network.Partition(a0, a2)
		network.Partition(a1, a2)
		waitFor(t, 10*time.Second, "node2 to fail", func() bool { return !groups[0].Alive("node2") && listed(groups[0], "node2") })
		failed := time.Now()
		waitFor(t, reconnectTimeout+2*reconnectInterval+time.Second, "node0 to forget node2", func() bool {
			return !listed(groups[0], "node2")
		})
		t.Logf("forgotten after %s of fake time", time.Since(failed))
		// node2 joined through node0's address, so it keeps redialling it.
		if !listed(groups[2], "node0") {
			t.Fatal("node2 forgot node0, whose address it was given to join")
		}
	})
}

// Two sentinels sharing a password form their group with no gossip-key;
// one with another password cannot join them.
func TestGroupsFromOnePasswordTalk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, groups, recs := joinedCluster(t, 2, KeyFromPassword("s3cret"))
		network := groups[0].net.(*gossiptest.Transport).Network()
		other, _ := memNode(t, network, 2, "other", [][]byte{KeyFromPassword("another")})
		defer closeAll(t, append(groups, other)...)
		op := peer.Opinion{From: "node1", Master: "mymaster", Down: true}
		if err := groups[1].Send("node0", op); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Second, "the opinion", func() bool { return recs[0].got("node1", op) })

		_, _, seed := gossiptest.Addr(0)
		other.Join(seed)
		waitDropped(t, groups[0], dropMemberlist, 1)
		if other.ml.NumMembers() != 1 || groups[0].Alive("other") {
			t.Fatal("a node with another password joined")
		}
	})
}
