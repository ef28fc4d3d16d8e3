package cluster

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFreePortIsFreeForTCPAndUDPAndNeverRepeated(t *testing.T) {
	seen := map[int]bool{}
	for range 5 {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if seen[port] {
			t.Fatalf("port %d handed out twice", port)
		}
		seen[port] = true
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		tcp, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("tcp %s: %v", addr, err)
		}
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			tcp.Close()
			t.Fatalf("udp %s: %v", addr, err)
		}
		tcp.Close()
		udp.Close()
	}
}

func TestWaitForReturnsOnceConditionHolds(t *testing.T) {
	calls := 0
	err := WaitFor(testContext(t, 5*time.Second), time.Millisecond, func() (bool, error) {
		calls++
		return calls == 3, nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("WaitFor = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestWaitForReportsLastErrorOnTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	n := 0
	err := WaitFor(ctx, time.Millisecond, func() (bool, error) {
		n++
		return false, errors.New("attempt " + strconv.Itoa(n))
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if want := "attempt " + strconv.Itoa(n); !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %q, want it to quote the last error %q", err, want)
	}
}

func TestSentinelConfMonitorsMasterWithTimers(t *testing.T) {
	conf := SentinelConf(26400, "mymaster", 6400, 2, 1000, 5000, "sentinel parallel-syncs mymaster 2")
	want := []string{
		"port 26400",
		"bind 127.0.0.1",
		"daemonize no",
		"sentinel monitor mymaster 127.0.0.1 6400 2",
		"sentinel down-after-milliseconds mymaster 1000",
		"sentinel failover-timeout mymaster 5000",
		"sentinel parallel-syncs mymaster 2",
	}
	if got := strings.Split(strings.TrimSuffix(conf, "\n"), "\n"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("conf lines = %q, want %q", got, want)
	}
	if !confSetsPort(conf, "port", 26400) || confSetsPort(conf, "port", 26401) {
		t.Fatal("confSetsPort does not recognise the port line")
	}
}

func TestStartSentinelRejectsBadInput(t *testing.T) {
	ctx := testContext(t, 5*time.Second)
	dir := t.TempDir()
	if _, err := StartSentinel(ctx, DefaultSentinelCommand, dir, 26400, "sentinel monitor m 127.0.0.1 1 1\n"); err == nil {
		t.Fatal("conf without a port line accepted")
	}
	if _, err := StartSentinel(ctx, "redis-sentinel", dir, 26400, SentinelConf(26400, "m", 1, 1, 1000, 1000)); err == nil {
		t.Fatal("command without {conf} accepted")
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"defaults", Options{}, true},
		{"full", Options{Replicas: 2, Sentinels: 3, Quorum: 2, ReplicaConf: [][]string{{"replica-priority 10"}}}, true},
		{"negative replicas", Options{Replicas: -1}, false},
		{"quorum above sentinels", Options{Sentinels: 1, Quorum: 2}, false},
		{"negative timer", Options{DownAfter: -time.Second}, false},
		{"conf for missing replica", Options{Replicas: 1, ReplicaConf: [][]string{{}, {}}}, false},
		{"master name with space", Options{MasterName: "my master"}, false},
	} {
		if err := tc.o.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if o := (Options{Sentinels: 3}).withDefaults(); o.Quorum != 2 || o.MasterName != "mymaster" || o.SentinelCommand != DefaultSentinelCommand {
		t.Errorf("defaults = %+v", o)
	}
}
