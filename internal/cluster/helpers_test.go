package cluster

import (
	"context"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// needBinaries skips when the Redis binaries these tests run are missing.
func needBinaries(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			t.Skipf("%s not installed: %v", name, err)
		}
	}
}

func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// gone reports whether neither the process nor its process group exists.
func gone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) && errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH)
}

// dumpOnFailure prints every process's log tail if the test failed; register
// it after Stop so it runs first.
func dumpOnFailure(t *testing.T, topo *Topology) {
	t.Helper()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, r := range topo.instances() {
			t.Logf("--- redis %s log:\n%s", r.Addr(), r.LogTail(30))
		}
		for _, s := range topo.Sentinels {
			t.Logf("--- sentinel %s log:\n%s", s.Addr(), s.LogTail(40))
		}
	})
}
