package cluster

import (
	"testing"
	"time"
)

// TestStartTLSWithRedisSentinel starts a TLS-only topology of Debian's
// binaries: the sentinel discovers the replica over TLS, clients reach
// every process with ClientTLS, and no port answers a plaintext PING.
func TestStartTLSWithRedisSentinel(t *testing.T) {
	needBinaries(t, "redis-server", "redis-sentinel")
	t.Parallel()
	ctx := testContext(t, 40*time.Second)
	topo, err := Start(ctx, Options{Replicas: 1, Sentinels: 1, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(topo.Stop)
	dumpOnFailure(t, topo)
	if topo.TLS == nil || topo.ClientTLS() == nil {
		t.Fatal("a TLS topology without its TLS files")
	}
	if err := topo.WaitDiscovered(ctx); err != nil {
		t.Fatal(err)
	}
	addrs := []string{topo.Master.Addr(), topo.Replicas[0].Addr(), topo.Sentinels[0].Addr()}
	for _, a := range addrs {
		reply, err := PlaintextReply(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if reply != "" {
			t.Errorf("%s answered a plaintext PING: %q", a, reply)
		}
	}
}

// TestPlaintextReplySeesRESP is the probe's other side: a plaintext
// redis-server answers it.
func TestPlaintextReplySeesRESP(t *testing.T) {
	needBinaries(t, "redis-server")
	t.Parallel()
	ctx := testContext(t, 20*time.Second)
	r, err := StartRedisOnFreePort(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	reply, err := PlaintextReply(ctx, r.Addr())
	if err != nil || reply == "" {
		t.Fatalf("PlaintextReply(%s) = %q, %v; want a RESP reply", r.Addr(), reply, err)
	}
}

func TestIsRedisSentinel(t *testing.T) {
	for cmd, want := range map[string]bool{
		"redis-sentinel {conf}":                  true,
		"/usr/bin/redis-sentinel {conf}":         true,
		"redis-server {conf} --sentinel":         true,
		"redis-server {conf}":                    false,
		"/tmp/bin/sentinel run {conf}":           false,
		"":                                       false,
		"/opt/redis-sentinel-wrapper run {conf}": false,
	} {
		if got := IsRedisSentinel(cmd); got != want {
			t.Errorf("IsRedisSentinel(%q) = %t, want %t", cmd, got, want)
		}
	}
}
