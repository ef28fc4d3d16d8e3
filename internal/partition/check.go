package partition

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// promotionEvents are the events of a sentinel that decided a failover.
var promotionEvents = []string{"+elected-leader", "+failover-state-select-slave", "+selected-slave",
	"+failover-state-send-slaveof-noone", "+promoted-slave", "+switch-master"}

// leadersPerEpoch maps each failover epoch to the sentinels that published
// +elected-leader in it. A sentinel's failover epoch is the +new-epoch it
// published just before its +try-failover (Redis and ours both do so).
func leadersPerEpoch(events []cluster.Event) map[uint64][]int {
	lastEpoch := map[int]uint64{}
	candidacy := map[int]uint64{}
	leaders := map[uint64][]int{}
	for _, ev := range events {
		switch ev.Channel {
		case "+new-epoch":
			if e, err := strconv.ParseUint(strings.TrimSpace(ev.Payload), 10, 64); err == nil {
				lastEpoch[ev.Sentinel] = e
			}
		case "+try-failover":
			candidacy[ev.Sentinel] = lastEpoch[ev.Sentinel]
		case "+elected-leader":
			e := candidacy[ev.Sentinel]
			if !slices.Contains(leaders[e], ev.Sentinel) {
				leaders[e] = append(leaders[e], ev.Sentinel)
			}
		}
	}
	return leaders
}

// checkOneLeaderPerEpoch reports every epoch with more than one leader.
func checkOneLeaderPerEpoch(events []cluster.Event) []string {
	var bad []string
	for epoch, who := range leadersPerEpoch(events) {
		if len(who) > 1 {
			bad = append(bad, fmt.Sprintf("epoch %d has %d leaders: sentinels %v", epoch, len(who), who))
		}
	}
	slices.Sort(bad)
	return bad
}

// checkNoMinorityPromotion reports promotion steps that sentinels in
// minority published between from and to (while they were cut off).
func checkNoMinorityPromotion(events []cluster.Event, minority []int, from, to time.Time) []string {
	var bad []string
	for _, ev := range events {
		if !slices.Contains(minority, ev.Sentinel) || ev.At.Before(from) || ev.At.After(to) {
			continue
		}
		if slices.Contains(promotionEvents, ev.Channel) {
			bad = append(bad, fmt.Sprintf("minority sentinel %d published %s %q %v after the cut",
				ev.Sentinel, ev.Channel, ev.Payload, ev.At.Sub(from).Round(time.Millisecond)))
		}
	}
	return bad
}
