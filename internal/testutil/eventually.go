package testutil

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds, failing the test if it does not
// within the given time. Tests wait on conditions, never on fixed sleeps.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
