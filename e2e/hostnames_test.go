package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/testutil"
)

// pods maps test hostnames to loopback IPs in /etc/hosts, as a cluster DNS
// would map pod names; the original file is put back when the test ends.
type pods struct {
	t      *testing.T
	orig   []byte
	lookup map[string]string
}

func newPods(t *testing.T, names map[string]string) *pods {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("rewriting /etc/hosts needs root")
	}
	orig, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Skipf("no /etc/hosts: %v", err)
	}
	p := &pods{t: t, orig: orig, lookup: names}
	t.Cleanup(func() {
		if err := os.WriteFile("/etc/hosts", p.orig, 0o644); err != nil {
			t.Errorf("restoring /etc/hosts: %v", err)
		}
	})
	p.write()
	return p
}

// move points name at ip, as a restarted pod gets a new address. Go's
// resolver re-reads /etc/hosts when its modification time changes (after a
// cache of a few seconds), so callers poll.
func (p *pods) move(name, ip string) {
	p.lookup[name] = ip
	p.write()
}

func (p *pods) write() {
	p.t.Helper()
	var b strings.Builder
	b.Write(p.orig)
	b.WriteString("\n# sentinel e2e hostnames test\n")
	for name, ip := range p.lookup {
		fmt.Fprintf(&b, "%s %s\n", ip, name)
	}
	// Write in place: /etc/hosts may be a bind mount that a rename would not
	// replace.
	if err := os.WriteFile("/etc/hosts", []byte(b.String()), 0o644); err != nil {
		p.t.Fatalf("writing /etc/hosts: %v", err)
	}
}

// TestHostnamePodRestartAndFailover: three of our sentinels with
// resolve-hostnames and announce-hostnames watch redis-0.test with its
// replica redis-1.test (replica-announce-ip). The replica's pod restarts
// under a new IP: every sentinel lists it once, by name, and not down, and
// the IP it reports with announce-hostnames off is the new one. Then the
// master dies and the promoted replica is announced by its name.
func TestHostnamePodRestartAndFailover(t *testing.T) {
	needRedis(t)
	p := newPods(t, map[string]string{"redis-0.test": "127.0.0.11", "redis-1.test": "127.0.0.12"})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	dir := tmpfsDir(t)
	port, err := cluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ps := strconv.Itoa(port)
	startPod := func(name, ip string, extra ...string) *cluster.Redis {
		t.Helper()
		r, err := cluster.StartRedisOn(ctx, cluster.Host{IP: ip}, filepath.Join(dir, name+"-"+ip), port,
			append([]string{"replica-announce-ip " + name}, extra...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Stop() })
		return r
	}
	master := startPod("redis-0.test", "127.0.0.11")
	replica := startPod("redis-1.test", "127.0.0.12", "replicaof redis-0.test "+ps)

	var sentinels []*cluster.Sentinel
	for i := range 3 {
		s, err := cluster.StartSentinelOnFreePort(ctx, sentinelCommand, filepath.Join(dir, fmt.Sprintf("sentinel-%d", i+1)), func(sp int) string {
			return fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel resolve-hostnames yes\nsentinel announce-hostnames yes\n"+
				"sentinel monitor %s redis-0.test %d 2\nsentinel down-after-milliseconds %[2]s 1000\n"+
				"sentinel failover-timeout %[2]s 5000\n", sp, masterName, port)
		})
		if err != nil {
			t.Fatal(err)
		}
		stopOnCleanup(t, s)
		sentinels = append(sentinels, s)
	}

	// replicas renders each sentinel's SENTINEL REPLICAS as name/ip/flags.
	replicas := func(s *cluster.Sentinel) string {
		v, err := sentinelDo(ctx, s.Client(), "replicas", masterName).Slice()
		if err != nil {
			return err.Error()
		}
		var rs []string
		for _, e := range v {
			f := entryFields(e)
			rs = append(rs, f["name"]+"/"+f["ip"]+"/"+f["flags"])
		}
		return strings.Join(rs, " ")
	}
	allList := func(what, want string) {
		t.Helper()
		for _, s := range sentinels {
			testutil.Eventually(t, 30*time.Second, fmt.Sprintf("%s: sentinel %s lists %s (has %s)", what, s.Addr(), want, replicas(s)),
				func() bool { return replicas(s) == want })
		}
	}
	one := "redis-1.test:" + ps + "/redis-1.test/slave"
	allList("at start", one)
	for _, s := range sentinels {
		testutil.Eventually(t, 30*time.Second, "sentinel "+s.Addr()+" knows its two peers", func() bool {
			v, err := sentinelDo(ctx, s.Client(), "sentinels", masterName).Slice()
			return err == nil && len(v) == 2
		})
	}

	// The replica's pod dies and comes back under a new IP with its name.
	if err := replica.Kill(); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "the dead replica is s_down", func() bool {
		return strings.Contains(replicas(sentinels[0]), "s_down")
	})
	p.move("redis-1.test", "127.0.0.13")
	startPod("redis-1.test", "127.0.0.13", "replicaof redis-0.test "+ps)
	allList("after the pod moved", one)
	// The address the name leads to now is what announce-hostnames no shows.
	s0 := sentinels[0]
	if err := sentinelDo(ctx, s0.Client(), "config", "set", "announce-hostnames", "no").Err(); err != nil {
		t.Fatal(err)
	}
	if got := replicas(s0); got != "redis-1.test:"+ps+"/127.0.0.13/slave" {
		t.Fatalf("with announce-hostnames no: %s, want the new IP", got)
	}
	if err := sentinelDo(ctx, s0.Client(), "config", "set", "announce-hostnames", "yes").Err(); err != nil {
		t.Fatal(err)
	}

	// The master dies: the replica known by name is promoted, by name.
	if err := master.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, s := range sentinels {
		testutil.Eventually(t, electionWait+30*time.Second, "sentinel "+s.Addr()+" answers the promoted replica's name", func() bool {
			v, err := s.Client().GetMasterAddrByName(ctx, masterName).Result()
			return err == nil && len(v) == 2 && v[0] == "redis-1.test" && v[1] == ps
		})
	}
	allList("after the failover", "redis-0.test:"+ps+"/redis-0.test/s_down,slave,disconnected")
}

// entryFields reads one SENTINEL REPLICAS entry: a map in RESP3, a flat list in
// RESP2.
func entryFields(e any) map[string]string {
	f := map[string]string{}
	switch e := e.(type) {
	case map[any]any:
		for k, v := range e {
			f[fmt.Sprint(k)] = fmt.Sprint(v)
		}
	case []any:
		for i := 0; i+1 < len(e); i += 2 {
			f[fmt.Sprint(e[i])] = fmt.Sprint(e[i+1])
		}
	}
	return f
}

// TestOwnAddressIsNotAPeer: a sentinel behind NAT (announce-ip and
// announce-port) whose config lists a known-sentinel at its own announced
// address (a copied config, or its previous run id), and which then hears a
// hello from that address with another run id, adds no peer for either;
// a hello from the same IP with another port is a peer (redis#2335).
func TestOwnAddressIsNotAPeer(t *testing.T) {
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	dir := tmpfsDir(t)
	master, err := cluster.StartRedisOnFreePort(ctx, filepath.Join(dir, "master"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = master.Stop() })
	old, peer := strings.Repeat("0", 40), strings.Repeat("b", 40)
	s, err := cluster.StartSentinelOnFreePort(ctx, sentinelCommand, filepath.Join(dir, "sentinel"), func(port int) string {
		return fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel announce-ip 203.0.113.7\nsentinel announce-port 30001\n"+
			"sentinel monitor %s 127.0.0.1 %d 1\nsentinel known-sentinel %[2]s 203.0.113.7 30001 %[4]s\n", port, masterName, master.Port, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, s)
	peers := func() []string {
		v, err := sentinelDo(ctx, s.Client(), "sentinels", masterName).Slice()
		if err != nil {
			t.Fatalf("SENTINEL SENTINELS: %v", err)
		}
		var ids []string
		for _, e := range v {
			ids = append(ids, entryFields(e)["runid"])
		}
		return ids
	}
	if p := peers(); len(p) != 0 {
		t.Fatalf("the known-sentinel at the own address was loaded: %v", p)
	}
	hello := func(port int, runID string) string {
		return fmt.Sprintf("203.0.113.7,%d,%s,0,%s,127.0.0.1,%d,0", port, runID, masterName, master.Port)
	}
	testutil.Eventually(t, 20*time.Second, "the peer behind the same NAT is added", func() bool {
		for _, h := range []string{hello(30001, old), hello(30002, peer)} {
			if err := master.Client().Publish(ctx, "__sentinel__:hello", h).Err(); err != nil {
				t.Fatal(err)
			}
		}
		return len(peers()) > 0
	})
	if p := peers(); len(p) != 1 || p[0] != peer {
		t.Fatalf("peers %v, want only %s", p, peer)
	}
}
