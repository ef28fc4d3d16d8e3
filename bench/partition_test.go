package main

import (
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/partition"
)

func TestPartitionRowsCompareLossesAndCheckTheFence(t *testing.T) {
	ours := []partition.Result{
		{LostOld: 90, LastOldAck: 1500 * time.Millisecond, FirstRefusal: 1400 * time.Millisecond},
		{LostOld: 110, LastOldAck: 1900 * time.Millisecond, FirstRefusal: 1800 * time.Millisecond},
	}
	redis := []partition.Result{
		{LostOld: 800, LastOldAck: 8 * time.Second, FirstRefusal: -1},
		{LostOld: 820, LastOldAck: 8 * time.Second, FirstRefusal: -1, LostNew: 3, Violations: []string{"x"}},
	}
	rows := partitionRows(8*time.Second, 1.0/3, ours, redis)
	byMetric := map[string]Row{}
	for _, r := range rows {
		byMetric[r.Metric] = r
	}
	lost := byMetric["acked writes lost, cut-off master, cut 8 s"]
	if lost.Ratio == nil || *lost.Ratio != 100.0/810 || !met(t, lost.Checks[0]) {
		t.Fatalf("lost row = %+v", lost)
	}
	ack := byMetric["cut → old master's last ack, cut 8 s"]
	if ack.Ours.Max != 1900 || !met(t, ack.Checks[0]) {
		t.Fatalf("last-ack row = %+v", ack)
	}
	// A master that never refused gives no sample rather than a fake one.
	if ref := byMetric["cut → old master refuses writes, cut 8 s"]; ref.Redis != nil || ref.Ours.N != 2 {
		t.Fatalf("refusal row = %+v", ref)
	}
	if broken := byMetric["broken invariants per run, cut 8 s"]; broken.Redis.Max != 1 || !met(t, broken.Checks[0]) {
		t.Fatalf("broken row = %+v", broken)
	}
	if nf := byMetric["runs in which no replica was promoted, cut 8 s"]; nf.Ours.Median != 2 || nf.Redis.Median != 2 {
		t.Fatalf("no-failover row = %+v (every result above has FinalHost 0)", nf)
	}
	if worse := partitionRows(30*time.Second, 0.1, ours, redis)[0]; met(t, worse.Checks[0]) {
		t.Fatalf("ratio 0.12 passed a ≤ 0.1 target: %+v", worse)
	}
}

func TestPlanOverrideOnlyTakesPositiveCounts(t *testing.T) {
	p := planFor(false).override(config{loadedDrills: 7})
	if p.loadedDrills != 7 || p.partitionRuns != 5 {
		t.Fatalf("plan = %+v", p)
	}
}
