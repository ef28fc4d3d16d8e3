package main

import (
	"strings"
	"testing"
	"time"
)

// TestTLSRowsKeepSeriesApart checks that each series lands in its own row
// and column: plaintext and TLS, ours and redis-sentinel.
func TestTLSRowsKeepSeriesApart(t *testing.T) {
	samples := map[tlsSeries][]drillSample{
		{nameOurs, false}:  {{toSwitch: 1010, toWrite: 1100}},
		{nameOurs, true}:   {{toSwitch: 1020, toWrite: 1200}, {toSwitch: 1040, toWrite: 1300}},
		{nameRedis, false}: {{toSwitch: 1900, toWrite: 2000}},
	}
	rows := tlsRows(time.Second, samples)
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	sw := rows[2]
	if sw.Section != sectionTLS || !strings.Contains(sw.Metric, "+switch-master, TLS") {
		t.Fatalf("row 3: section %q metric %q", sw.Section, sw.Metric)
	}
	if sw.Ours == nil || sw.Ours.N != 2 || sw.Ours.Median != 1030 || sw.Redis != nil {
		t.Errorf("TLS +switch-master: ours %+v, redis %+v", sw.Ours, sw.Redis)
	}
	if plain := rows[0]; plain.Ours.Median != 1010 || plain.Redis.Median != 1900 || !strings.Contains(plain.Metric, "plaintext") {
		t.Errorf("plaintext +switch-master: %+v", plain)
	}
	if len(sw.Checks) != 2 {
		t.Errorf("TLS +switch-master has %d checks, want the plaintext drills' 2", len(sw.Checks))
	}
}
