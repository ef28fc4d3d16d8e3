package ratelog

import (
	"testing"
	"time"
)

// TestOneLinePerKeyAndPeriod: the first occurrence is written at once, the
// rest of the period is held back and counted on the next line; keys are
// independent.
func TestOneLinePerKeyAndPeriod(t *testing.T) {
	l := New(10 * time.Second)
	t0 := time.Unix(1000, 0)
	if ok, held := l.Allow("a", t0); !ok || held != 0 {
		t.Fatalf("first = %v %d", ok, held)
	}
	for i := range 3 {
		if ok, _ := l.Allow("a", t0.Add(time.Duration(i+1)*time.Second)); ok {
			t.Fatalf("occurrence %d within the period allowed", i+2)
		}
	}
	if ok, held := l.Allow("b", t0.Add(time.Second)); !ok || held != 0 {
		t.Fatalf("another key = %v %d", ok, held)
	}
	if ok, held := l.Allow("a", t0.Add(10*time.Second)); !ok || held != 3 {
		t.Fatalf("after the period = %v %d, want true 3", ok, held)
	}
}
