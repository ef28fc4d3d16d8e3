package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// TestDiscoveryFromMonitorLineOnly runs a master, two replicas and three
// sentinels whose configs hold only `port` and `sentinel monitor`:
// replicas and peers must be discovered, and clients must find the master.
func TestDiscoveryFromMonitorLineOnly(t *testing.T) {
	t.Parallel()
	g, started := startBareGroup(t)
	if !t.Run("EverySentinelKnowsBothReplicasAndBothPeersWithin5s", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(g.ctx, started.Add(5*time.Second))
		defer cancel()
		if err := g.topo.WaitDiscovered(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("discovered in %v", time.Since(started).Round(time.Millisecond))
	}) {
		return
	}
	t.Run("GetMasterAddrByNameOverRESP2AndRESP3", func(t *testing.T) {
		want := []string{"127.0.0.1", strconv.Itoa(g.topo.Master.Port)}
		for _, s := range g.topo.Sentinels {
			for _, proto := range [][]string{nil, {"-3"}} {
				args := append(proto, "-p", strconv.Itoa(s.Port), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)
				out, err := exec.CommandContext(g.ctx, "redis-cli", args...).CombinedOutput()
				if err != nil {
					t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
				}
				if got := strings.Fields(string(out)); !slices.Equal(got, want) {
					t.Errorf("redis-cli %v = %q, want %q", args, got, want)
				}
			}
		}
	})
	t.Run("MasterReplyIsFortyFieldsInRedisOrderWithFlagsMaster", func(t *testing.T) {
		testMasterReplyShape(t, g)
	})
	t.Run("OnlyTheConfiguredPortIsListenedOn", func(t *testing.T) {
		for _, s := range g.topo.Sentinels {
			tcp, udp, err := socketPorts(s.PID())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tcp, []int{s.Port}) {
				t.Errorf("sentinel %s listens on TCP ports %v, want only %d", s.Addr(), tcp, s.Port)
			}
			if !slices.Equal(udp, []int{s.Port}) {
				t.Errorf("sentinel %s binds UDP ports %v, want only %d (gossip)", s.Addr(), udp, s.Port)
			}
		}
	})
	t.Run("GoRedisFailoverClientWritesToMasterAndReadsReplicas", func(t *testing.T) {
		c := g.failoverClient()
		if err := c.Set(g.ctx, "e2e:key", "v1", 0).Err(); err != nil {
			t.Fatalf("set through sentinels: %v", err)
		}
		if v, err := c.Get(g.ctx, "e2e:key").Result(); err != nil || v != "v1" {
			t.Fatalf("get through sentinels = %q, %v; want v1", v, err)
		}
		if v, err := g.topo.Master.Client().Get(g.ctx, "e2e:key").Result(); err != nil || v != "v1" {
			t.Fatalf("master has %q, %v; the write went elsewhere", v, err)
		}
		ro := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: masterName, SentinelAddrs: g.sentinelAddrs(), ReplicaOnly: true,
			DialTimeout: 500 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second,
		})
		defer ro.Close()
		g.waitFor(5*time.Second, "read from a replica", func(ctx context.Context) error {
			v, err := ro.Get(ctx, "e2e:key").Result()
			if err != nil || v != "v1" {
				return fmt.Errorf("replica get = %q, %v", v, err)
			}
			return nil
		})
		if err := ro.Set(g.ctx, "e2e:key", "v2", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "READONLY") {
			t.Errorf("write through a ReplicaOnly client = %v, want READONLY: it reached a master", err)
		}
	})
	t.Run("PythonRedisDiscoversMasterAndReplicas", func(t *testing.T) {
		testPythonDiscovery(t, g)
	})
}

// startBareGroup starts the bare-config topology and returns when the
// sentinels answer, with the time the first sentinel was started.
func startBareGroup(t *testing.T) (*group, time.Time) {
	t.Helper()
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	dir := tmpfsDir(t)
	base, err := cluster.Start(ctx, cluster.Options{Dir: dir, Replicas: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(base.Stop)
	started := time.Now()
	var sentinels []*cluster.Sentinel
	for i := range 3 {
		s, err := startBareSentinel(ctx, filepath.Join(dir, fmt.Sprintf("sentinel-%d", i+1)), base.Master.Port)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Stop() })
		sentinels = append(sentinels, s)
	}
	o := base.Opts
	o.Sentinels, o.Quorum = len(sentinels), 2
	topo := &cluster.Topology{Master: base.Master, Replicas: base.Replicas, Sentinels: sentinels, Opts: o}
	return newGroup(t, ctx, topo), started
}

// startBareSentinel starts our sentinel with nothing but its port and the
// monitor line, retrying when its port was taken meanwhile.
func startBareSentinel(ctx context.Context, dir string, masterPort int) (*cluster.Sentinel, error) {
	return cluster.StartSentinelOnFreePort(ctx, sentinelCommand, dir, func(port int) string {
		return fmt.Sprintf("port %d\nsentinel monitor %s 127.0.0.1 %d 2\n", port, masterName, masterPort)
	})
}

// masterFields is the field order of SENTINEL MASTER for a healthy master
// without scripts (Redis 7.0 addReplySentinelRedisInstance).
var masterFields = []string{
	"name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
	"last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds",
	"info-refresh", "role-reported", "role-reported-time", "config-epoch", "num-slaves",
	"num-other-sentinels", "quorum", "failover-timeout", "parallel-syncs",
}

func testMasterReplyShape(t *testing.T, g *group) {
	for _, s := range g.topo.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), Protocol: 2, MaxRetries: -1})
		reply, err := sentinelDo(g.ctx, c, "master", masterName).Slice()
		_ = c.Close()
		if err != nil {
			t.Fatalf("sentinel %s: sentinel master: %v", s.Addr(), err)
		}
		if len(reply) != 2*len(masterFields) {
			t.Fatalf("sentinel %s: SENTINEL MASTER has %d elements, want %d: %v", s.Addr(), len(reply), 2*len(masterFields), reply)
		}
		fields := map[string]string{}
		for i, want := range masterFields {
			key, ok1 := reply[2*i].(string)
			val, ok2 := reply[2*i+1].(string)
			if !ok1 || !ok2 || key != want {
				t.Fatalf("sentinel %s: pair %d is %#v %#v, want key %q and a bulk string", s.Addr(), i, reply[2*i], reply[2*i+1], want)
			}
			fields[key] = val
		}
		want := map[string]string{
			"name": masterName, "ip": "127.0.0.1", "port": strconv.Itoa(g.topo.Master.Port), "flags": "master",
			"role-reported": "master", "num-slaves": "2", "num-other-sentinels": "2", "quorum": "2",
		}
		for k, v := range want {
			if fields[k] != v {
				t.Errorf("sentinel %s: %s = %q, want %q", s.Addr(), k, fields[k], v)
			}
		}
	}
}

// socketPorts returns the local ports of pid's listening TCP sockets and of
// its UDP sockets, sorted.
func socketPorts(pid int) (tcp, udp []int, err error) {
	if pid == 0 {
		return nil, nil, errors.New("process not running")
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return nil, nil, fmt.Errorf("list sockets: %w", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		// An fd closed since ReadDir has no link; it is not a listener.
		link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	for _, table := range []struct {
		files  []string
		listen bool
		ports  *[]int
	}{{[]string{"tcp", "tcp6"}, true, &tcp}, {[]string{"udp", "udp6"}, false, &udp}} {
		for _, name := range table.files {
			ports, err := procNetPorts(fmt.Sprintf("/proc/%d/net/%s", pid, name), inodes, table.listen)
			if err != nil {
				return nil, nil, err
			}
			*table.ports = append(*table.ports, ports...)
		}
		slices.Sort(*table.ports)
		*table.ports = slices.Compact(*table.ports)
	}
	return tcp, udp, nil
}

// procNetPorts reads a /proc/net socket table and returns the local ports of
// the sockets whose inode is in inodes (only listening ones if listen).
func procNetPorts(path string, inodes map[string]bool, listen bool) ([]int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // no IPv6 on this host
	}
	if err != nil {
		return nil, fmt.Errorf("read socket table: %w", err)
	}
	var ports []int
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 10 || !inodes[f[9]] || (listen && f[3] != "0A") {
			continue
		}
		_, hexPort, _ := strings.Cut(f[1], ":")
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("%s: local address %q: %w", path, f[1], err)
		}
		ports = append(ports, int(port))
	}
	return ports, nil
}

// pythonDiscover asks redis-py's Sentinel helper for the master and the
// replicas, printing them as JSON.
const pythonDiscover = `
import json, sys
from redis.sentinel import Sentinel
s = Sentinel([("127.0.0.1", int(p)) for p in sys.argv[1:]], socket_timeout=2)
print(json.dumps({"master": list(s.discover_master(%q)), "replicas": [list(r) for r in s.discover_slaves(%q)]}))
`

func testPythonDiscovery(t *testing.T, g *group) {
	py := pythonWithRedis()
	if py == "" {
		t.Skip("no python3 with the redis module (Debian python3-redis)")
	}
	args := []string{"-c", fmt.Sprintf(pythonDiscover, masterName, masterName)}
	for _, s := range g.topo.Sentinels {
		args = append(args, strconv.Itoa(s.Port))
	}
	out, err := exec.CommandContext(g.ctx, py, args...).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("python: %v\n%s", err, exit.Stderr)
		}
		t.Fatalf("python: %v", err)
	}
	var got struct {
		Master   []any   `json:"master"`
		Replicas [][]any `json:"replicas"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	if addr := hostPort(got.Master); addr != g.topo.Master.Addr() {
		t.Errorf("discover_master = %s, want %s", addr, g.topo.Master.Addr())
	}
	var replicas, want []string
	for _, r := range got.Replicas {
		replicas = append(replicas, hostPort(r))
	}
	for _, r := range g.topo.Replicas {
		want = append(want, r.Addr())
	}
	slices.Sort(replicas)
	slices.Sort(want)
	if !slices.Equal(replicas, want) {
		t.Errorf("discover_slaves = %v, want %v", replicas, want)
	}
}

// pythonWithRedis returns a python3 that can import redis, or "".
func pythonWithRedis() string {
	for _, name := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(name); err == nil && exec.Command(path, "-c", "import redis").Run() == nil {
			return path
		}
	}
	return ""
}

// hostPort formats a decoded [host, port] pair.
func hostPort(pair []any) string {
	if len(pair) != 2 {
		return fmt.Sprint(pair)
	}
	return net.JoinHostPort(fmt.Sprint(pair[0]), fmt.Sprint(pair[1]))
}
