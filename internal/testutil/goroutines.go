package testutil

import (
	"runtime"
	"testing"
	"time"
)

// NoGoroutinesLeft registers a check, run after the test's later cleanups,
// that the goroutine count returns to what it was when called.
func NoGoroutinesLeft(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		Eventually(t, 5*time.Second, "goroutines to return to baseline", func() bool {
			return runtime.NumGoroutine() <= base
		})
	})
}
