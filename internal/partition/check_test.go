package partition

import (
	"slices"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

var t0 = time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)

func ev(ms int, sentinel int, channel, payload string) cluster.Event {
	return cluster.Event{At: t0.Add(time.Duration(ms) * time.Millisecond), Sentinel: sentinel, Channel: channel, Payload: payload}
}

func TestOneLeaderPerEpochAttributesTheCandidacyEpoch(t *testing.T) {
	events := []cluster.Event{
		ev(0, 1, "+new-epoch", "1"), ev(1, 1, "+try-failover", "master m 10.0.0.1 6379"),
		ev(2, 2, "+new-epoch", "1"), ev(3, 2, "+vote-for-leader", "id1 1"),
		// A higher epoch learned after standing does not move the candidacy.
		ev(4, 1, "+new-epoch", "2"), ev(5, 1, "+elected-leader", "master m 10.0.0.1 6379"),
		ev(6, 2, "+new-epoch", "2"), ev(7, 2, "+try-failover", "master m 10.0.0.1 6379"),
		ev(8, 2, "+elected-leader", "master m 10.0.0.1 6379"),
	}
	got := leadersPerEpoch(events)
	if !slices.Equal(got[1], []int{1}) || !slices.Equal(got[2], []int{2}) || len(got) != 2 {
		t.Fatalf("leaders per epoch = %v, want 1:[1] 2:[2]", got)
	}
	if bad := checkOneLeaderPerEpoch(events); len(bad) != 0 {
		t.Fatalf("violations %v, want none", bad)
	}
}

func TestTwoLeadersInOneEpochIsAViolation(t *testing.T) {
	events := []cluster.Event{
		ev(0, 0, "+new-epoch", "3"), ev(1, 0, "+try-failover", "x"),
		ev(0, 2, "+new-epoch", "3"), ev(1, 2, "+try-failover", "x"),
		ev(5, 0, "+elected-leader", "x"), ev(6, 2, "+elected-leader", "x"),
		// The same sentinel announcing twice is one leader.
		ev(7, 2, "+elected-leader", "x"),
	}
	bad := checkOneLeaderPerEpoch(events)
	if len(bad) != 1 || bad[0] != "epoch 3 has 2 leaders: sentinels [0 2]" {
		t.Fatalf("violations = %q", bad)
	}
}

func TestMinorityPromotionOnlyCountsTheCutOffSentinelsDuringTheCut(t *testing.T) {
	events := []cluster.Event{
		ev(500, 0, "+elected-leader", "before the cut"),
		ev(1500, 1, "+elected-leader", "majority"),
		ev(1600, 0, "+sdown", "master m"),
		ev(2000, 0, "+promoted-slave", "minority"),
		ev(9000, 0, "+switch-master", "after the heal"),
	}
	bad := checkNoMinorityPromotion(events, []int{0}, t0.Add(time.Second), t0.Add(8*time.Second))
	if len(bad) != 1 {
		t.Fatalf("violations = %q, want only the +promoted-slave", bad)
	}
}

func TestLostWritesAreAcknowledgedValuesMissingFromTheFinalList(t *testing.T) {
	acks := []ack{{value: "h1:1", host: 0}, {value: "h1:2", host: 0}, {value: "h2:1", host: 1}}
	lost := lostWrites(acks, []string{"h2:1", "h1:1", "never-acked"})
	if len(lost) != 1 || lost[0].value != "h1:2" {
		t.Fatalf("lost = %+v, want only h1:2", lost)
	}
	if !isFenced(refusal{err: "NOREPLICAS Not enough good replicas to write."}) || isFenced(refusal{err: "READONLY You can't write against a read only replica."}) {
		t.Fatal("isFenced misclassifies Redis' replies")
	}
}
