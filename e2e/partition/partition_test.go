package partition

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9/logging"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/netns"
	"github.com/seed877ff415/sentinel/internal/partition"
)

// scenarioTimeout is the budget of one scenario, start-up included.
const scenarioTimeout = 60 * time.Second

// sentinelCommand runs our sentinel, built once by TestMain.
var sentinelCommand string

// unavailable is why the lab cannot be built here; tests skip on it.
var unavailable error

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// The writers' clients log every refused dial to a killed master.
	logging.Disable()
	if unavailable = netns.Available(); unavailable != nil {
		// Every test skips; there is nothing to build for.
		return m.Run()
	}
	// What a killed earlier run left behind.
	if err := netns.Sweep(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "sweep leftover namespaces:", err)
	}
	dir, err := os.MkdirTemp("", "sentinel-partition-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "sentinel")
	build := exec.Command("go", "build", "-o", bin, "github.com/seed877ff415/sentinel/cmd/sentinel")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sentinel:", err)
		return 1
	}
	sentinelCommand = bin + " run {conf}"
	return m.Run()
}

// need skips when the lab or the binaries are unavailable.
func need(t *testing.T, binaries ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("partition test starts processes in network namespaces")
	}
	if unavailable != nil {
		t.Skipf("partition tests need network namespaces: %v", unavailable)
	}
	for _, b := range append([]string{"redis-server"}, binaries...) {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed: %v", b, err)
		}
	}
}

// runScenario starts a fresh three-host cluster, runs sc on it and fails
// the test on any broken invariant.
func runScenario(t *testing.T, command string, sc partition.Scenario) partition.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), scenarioTimeout)
	t.Cleanup(cancel)
	c, err := partition.Start(ctx, partition.Options{SentinelCommand: command, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("process logs:\n%s", c.LogTails(25))
		}
		c.Close()
	})
	res, err := c.Run(ctx, sc)
	t.Logf("seed %d", res.Seed)
	for _, v := range res.Violations {
		t.Error(v)
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// needFailover fails unless a replica was promoted and the election was
// seen: the per-epoch check is only worth something if leaders were recorded.
func needFailover(t *testing.T, res partition.Result) {
	t.Helper()
	if res.FinalHost <= 0 {
		t.Errorf("final master %q: no replica was promoted", res.FinalMaster)
	}
	if len(res.Leaders) == 0 {
		t.Error("no +elected-leader recorded")
	}
}

// TestCutMasterHost: host 1 is cut off for 8 s. The majority fails over,
// the cut-off sentinel promotes nothing, and after the heal all agree. With
// fencing the old master stops acknowledging writes within down-after + 1 s.
func TestCutMasterHost(t *testing.T) {
	need(t)
	res := runScenario(t, sentinelCommand, partition.Scenario{Fault: partition.FaultCut, Duration: 8 * time.Second})
	needFailover(t, res)
	if res.Fencing && res.FirstFence < 0 {
		t.Error("fencing is on but the cut-off master never answered -NOREPLICAS")
	}
}

// TestSigstopMaster: the master is frozen for 5 s, then resumes and must
// end up a replica of the new master.
func TestSigstopMaster(t *testing.T) {
	need(t)
	needFailover(t, runScenario(t, sentinelCommand, partition.Scenario{Fault: partition.FaultStop, Duration: 5 * time.Second}))
}

// TestKillMaster: kill -9 of the master, restarted 4 s later.
func TestKillMaster(t *testing.T) {
	need(t)
	needFailover(t, runScenario(t, sentinelCommand, partition.Scenario{Fault: partition.FaultKill, Duration: 4 * time.Second}))
}

// TestLossOnMasterHost: a third of host 1's frames vanish for 8 s. Whether
// or not that causes a failover, the invariants hold.
func TestLossOnMasterHost(t *testing.T) {
	need(t)
	runScenario(t, sentinelCommand, partition.Scenario{Fault: partition.FaultLoss, LossPercent: 30, Duration: 8 * time.Second})
}

// TestSentinelsLosingEachOtherChangeNothing: with only the sentinels' port
// cut for 6 s, the master and its replicas are fine, so nothing fails over,
// no write is refused and none is lost.
func TestSentinelsLosingEachOtherChangeNothing(t *testing.T) {
	need(t)
	res := runScenario(t, sentinelCommand, partition.Scenario{Fault: partition.FaultSentinelPort, Duration: 6 * time.Second})
	if res.FinalHost != 0 || len(res.Leaders) != 0 {
		t.Errorf("failover with a healthy master: final master %s, leaders %v", res.FinalMaster, res.Leaders)
	}
	if res.FirstRefusal >= 0 || res.Lost != [3]int{} {
		t.Errorf("writes refused (first after %v) or lost (%v) with every replica in sync", res.FirstRefusal, res.Lost)
	}
}

// TestCutMasterHostRedisSentinel runs the cut against Debian's
// redis-sentinel, whose old master keeps acknowledging writes.
func TestCutMasterHostRedisSentinel(t *testing.T) {
	need(t, "redis-sentinel")
	res := runScenario(t, cluster.DefaultSentinelCommand, partition.Scenario{Fault: partition.FaultCut, Duration: 8 * time.Second})
	needFailover(t, res)
	if res.Fencing {
		t.Error("redis-sentinel accepted fence-writes")
	}
	t.Logf("redis-sentinel lost %d writes the cut-off master acknowledged", res.LostOld)
}

// TestSigstopMasterRedisSentinel freezes the master under Debian's
// redis-sentinel, for the same invariants side by side.
func TestSigstopMasterRedisSentinel(t *testing.T) {
	need(t, "redis-sentinel")
	needFailover(t, runScenario(t, cluster.DefaultSentinelCommand, partition.Scenario{Fault: partition.FaultStop, Duration: 5 * time.Second}))
}
