package server

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seed877ff415/sentinel/internal/testutil"
)

// go-redis sends HELLO 3 + CLIENT SETINFO on connect, then the sentinel
// commands its failover client relies on.
func TestGoRedisSentinelClient(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.RequirePass = "pw" })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{Addr: ts.addr, Password: "pw", MaxRetries: -1})
	defer func() { _ = sc.Close() }()

	addr, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
	if err != nil || len(addr) != 2 || addr[0] != "127.0.0.1" || addr[1] != "6379" {
		t.Fatalf("GetMasterAddrByName = %v, %v", addr, err)
	}
	if _, err := sc.GetMasterAddrByName(ctx, "nope").Result(); err != redis.Nil {
		t.Fatalf("unknown master: %v", err)
	}
	masters, err := sc.Masters(ctx).Result()
	if err != nil || len(masters) != 1 {
		t.Fatalf("Masters = %v, %v", masters, err)
	}
	m, err := sc.Master(ctx, "mymaster").Result()
	if err != nil || m["num-other-sentinels"] != "2" || m["flags"] != "master" {
		t.Fatalf("Master = %v, %v", m, err)
	}
	sentinels, err := sc.Sentinels(ctx, "mymaster").Result()
	if err != nil || len(sentinels) != 2 || sentinels[0]["port"] != "26380" {
		t.Fatalf("Sentinels = %v, %v", sentinels, err)
	}
	replicas, err := sc.Replicas(ctx, "mymaster").Result()
	if err != nil || len(replicas) != 1 || replicas[0]["ip"] != "127.0.0.1" || replicas[0]["flags"] != "slave" {
		t.Fatalf("Replicas = %v, %v", replicas, err)
	}
	if err := sc.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// go-redis negotiated RESP3 and announced itself.
	admin := ts.dial(t)
	admin.do("AUTH", "pw")
	if list := flat(admin.do("CLIENT", "LIST"))[0]; !strings.Contains(list, "resp=3 lib-name=go-redis(") {
		t.Fatalf("go-redis connection not seen as RESP3 with SETINFO: %q", list)
	}

	// The pub/sub path go-redis' failover client uses.
	ps := sc.Subscribe(ctx, "+switch-master")
	defer func() { _ = ps.Close() }()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "subscription", func() bool { return ts.Publish("+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380") == 1 })
	msg, err := ps.ReceiveMessage(ctx)
	if err != nil || msg.Payload != "mymaster 127.0.0.1 6379 127.0.0.1 6380" {
		t.Fatalf("message = %v, %v", msg, err)
	}
}

func TestRedisCli(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed")
	}
	ts := startServer(t, nil)
	host, port, _ := strings.Cut(ts.addr, ":")
	cli := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, proto := range [][]string{nil, {"-3"}} {
		if got := cli(append(proto, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")...); got != "127.0.0.1\n6379\n" {
			t.Errorf("redis-cli %v get-master-addr-by-name: %q", proto, got)
		}
		got := cli(append(proto, "INFO", "sentinel")...)
		if !strings.Contains(got, "master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=2,sentinels=3") {
			t.Errorf("redis-cli %v INFO sentinel: %q", proto, got)
		}
	}
}

// redis-py 4.3.4 (Debian's python3-redis) discovers masters with SENTINEL
// MASTERS and parses the flat reply by key.
func TestRedisPyDiscoverMaster(t *testing.T) {
	python := ""
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import redis").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		t.Skip("python3 with the redis module not installed")
	}
	ts := startServer(t, nil)
	host, port, _ := strings.Cut(ts.addr, ":")
	script := "import redis.sentinel as s\n" +
		"print(s.Sentinel([('" + host + "', " + port + ")], socket_timeout=5).discover_master('mymaster'))\n"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", script).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "('127.0.0.1', 6379)" {
		t.Fatalf("discover_master: %v\n%s", err, out)
	}
}
