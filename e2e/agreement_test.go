package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// TestAllSentinelsReachODownAndElectOneLeaderPerEpoch: after the master is
// killed every sentinel publishes +odown, and across the three at most one
// +elected-leader appears in any epoch.
func TestAllSentinelsReachODownAndElectOneLeaderPerEpoch(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 60*time.Second, cluster.Options{
		Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
	})
	old := g.topo.Master
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	for i := range g.topo.Sentinels {
		ev := g.waitEvent(10*time.Second, fmt.Sprintf("sentinel %d: +odown", i), on(i, "+odown", masterRef(old.Port)))
		t.Logf("sentinel %d: %s %q %v after the kill", i, ev.Channel, ev.Payload, ev.At.Sub(killed).Round(time.Millisecond))
	}
	for i := range g.topo.Sentinels {
		ev := g.waitEvent(electionWait, fmt.Sprintf("sentinel %d: +switch-master", i), on(i, "+switch-master", switchRef(old.Port)))
		t.Logf("sentinel %d: kill -> +switch-master %v", i, ev.At.Sub(killed).Round(time.Millisecond))
	}

	leaders := g.leadersByEpoch(old.Port)
	t.Logf("%d failover attempts, %d not elected", g.count(on(-1, "+try-failover", "")), g.count(on(-1, "-failover-abort-not-elected", "")))
	if len(leaders) == 0 {
		t.Fatal("a failover completed but no +elected-leader was published")
	}
	var final uint64
	for epoch, who := range leaders {
		if len(who) != 1 || epoch == 0 {
			t.Errorf("epoch %d: +elected-leader from sentinels %v, want exactly one", epoch, who)
		}
		final = max(final, epoch)
	}
	for _, s := range g.topo.Sentinels {
		m, err := s.Client().Master(g.ctx, masterName).Result()
		if err != nil {
			t.Fatal(err)
		}
		if m["config-epoch"] != fmt.Sprint(final) {
			t.Errorf("sentinel %s: config-epoch %s after the failover, want the leader's epoch %d", s.Addr(), m["config-epoch"], final)
		}
	}
}

// leadersByEpoch lists, per epoch, the sentinels that published
// +elected-leader for the master on port. The epoch of an election is the
// one of the leader's latest vote for itself, which precedes it.
func (g *group) leadersByEpoch(port int) map[uint64][]int {
	selfVote := make([]uint64, len(g.ids))
	leaders := map[uint64][]int{}
	elected := on(-1, "+elected-leader", masterRef(port))
	for _, ev := range g.events.All() {
		switch {
		case ev.Channel == "+vote-for-leader" && strings.HasPrefix(ev.Payload, g.ids[ev.Sentinel]+" "):
			selfVote[ev.Sentinel] = epochOf(ev)
		case elected(ev):
			leaders[selfVote[ev.Sentinel]] = append(leaders[selfVote[ev.Sentinel]], ev.Sentinel)
		}
	}
	return leaders
}

// TestMinorityNeverElects: with two of three sentinels dead the survivor
// never wins an election, whether or not it can reach ODOWN alone.
func TestMinorityNeverElects(t *testing.T) {
	t.Parallel()
	for _, quorum := range []int{2, 1} {
		t.Run(fmt.Sprintf("Quorum%d", quorum), func(t *testing.T) {
			t.Parallel()
			g := startGroup(t, 45*time.Second, cluster.Options{
				Replicas: 1, Sentinels: 3, Quorum: quorum, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
			})
			for _, s := range g.topo.Sentinels[1:] {
				if err := s.Kill(); err != nil {
					t.Fatal(err)
				}
			}
			old := g.topo.Master
			if err := old.Kill(); err != nil {
				t.Fatal(err)
			}
			g.waitEvent(5*time.Second, "+sdown of the master on the survivor", on(0, "+sdown", masterRef(old.Port)))
			if quorum == 1 {
				// Quorum 1 lets it see ODOWN and try; only the majority rule stops it.
				g.waitEvent(5*time.Second, "+try-failover on the survivor", on(0, "+try-failover", masterRef(old.Port)))
			}
			g.expectNone(3*downAfter, "election by a minority", func(ev cluster.Event) bool {
				return on(0, "+elected-leader", "")(ev) || on(0, "+switch-master", "")(ev)
			})
			if err := g.masterAddrIs(old.Addr())(g.ctx); err != nil {
				t.Error(err)
			}
			if err := hasRole(g.topo.Replicas[0], "slave")(g.ctx); err != nil {
				t.Errorf("replica promoted without an election: %v", err)
			}
		})
	}
}

// TestUnreachableQuorumNeverODown: with quorum 3 and one sentinel down, the
// two others see the master SDOWN but never ODOWN.
func TestUnreachableQuorumNeverODown(t *testing.T) {
	t.Parallel()
	g := startGroup(t, 45*time.Second, cluster.Options{
		Replicas: 1, Sentinels: 3, Quorum: 3, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
	})
	if err := g.topo.Sentinels[2].Kill(); err != nil {
		t.Fatal(err)
	}
	old := g.topo.Master
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		g.waitEvent(5*time.Second, fmt.Sprintf("sentinel %d: +sdown of the master", i), on(i, "+sdown", masterRef(old.Port)))
	}
	g.expectNone(3*downAfter, "ODOWN without quorum", func(ev cluster.Event) bool {
		return on(-1, "+odown", "")(ev) || on(-1, "+try-failover", "")(ev)
	})
}
