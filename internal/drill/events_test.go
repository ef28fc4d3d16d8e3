package drill

import (
	"strings"
	"testing"
	"time"
)

func TestDumpShowsEveryEventInOrderAndStaysBounded(t *testing.T) {
	var w watcher
	start := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	w.record(recordedEvent{at: start.Add(-200 * time.Millisecond), sentinel: "s1", channel: "+slave", payload: "slave …"})
	w.record(recordedEvent{at: start.Add(1003 * time.Millisecond), sentinel: "s2", channel: "+sdown", payload: "master mymaster 127.0.0.1 6379"})
	w.record(recordedEvent{at: start.Add(1100 * time.Millisecond), sentinel: "s1", channel: "+x", payload: strings.Repeat("p", 2*maxPayload)})
	got := w.dump(start, nil)
	want := []string{
		"--- events of every sentinel, ms since the 05:00:00.000",
		"     -200ms  s1  +slave slave …",
		"    +1003ms  s2  +sdown master mymaster 127.0.0.1 6379",
	}
	if len(got) != 4 || strings.Join(got[:3], "\n") != strings.Join(want, "\n") {
		t.Fatalf("dump:\n%s\nwant first lines:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(got[3]) > maxPayload+40 {
		t.Fatalf("a long payload is not cut: %d bytes", len(got[3]))
	}
	for i := range maxRecorded + 10 {
		w.record(recordedEvent{at: start.Add(time.Duration(i) * time.Millisecond), sentinel: "s1", channel: "+y"})
	}
	if n := len(w.recorded); n > maxRecorded {
		t.Fatalf("%d events kept, bound %d", n, maxRecorded)
	}
	if got := w.dump(start, nil); !strings.Contains(got[1], "older events dropped") {
		t.Fatalf("dropped events are not said: %q", got[1])
	}
}
