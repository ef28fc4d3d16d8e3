package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// groupNames are the master groups every sentinel of the multi-group test
// monitors.
var groupNames = []string{"g1", "g2", "g3"}

// TestSeveralMasterGroupsFailOverIndependently runs three master groups (a
// master and one replica each) monitored by the same three sentinels
// (quorum 2). Once every sentinel knows every group's replica and its two
// peers, 3 s of steady state must publish no address switch, invalid
// address, +sdown or +odown. Killing g2's master must then fail g2 over to
// its replica on every sentinel, in answers and in the config file, while g1
// and g3 keep their masters and see no down or failover event.
func TestSeveralMasterGroupsFailOverIndependently(t *testing.T) {
	t.Parallel()
	g, masters, replicas := startMultiGroup(t, 90*time.Second)

	g.waitFor(15*time.Second, "every sentinel knows every group's replica and its two peers", func(ctx context.Context) error {
		for i := range groupNames {
			if err := g.groupDiscovered(ctx, i, replicas[i]); err != nil {
				return err
			}
		}
		return nil
	})
	g.expectNone(3*time.Second, "event in steady state", func(ev cluster.Event) bool {
		switch ev.Channel {
		case "+sentinel-address-switch", "+sentinel-invalid-addr", "+sdown", "+odown":
			return true
		}
		return false
	})
	if t.Failed() {
		t.FailNow()
	}

	if err := masters[1].Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// An event about g1 or g3 ends the wait at once: retrying cannot undo it.
	var bystander *cluster.Event
	g.waitFor(15*time.Second, "g2 fails over to its replica, g1 and g3 keep their masters", func(ctx context.Context) error {
		if bystander == nil {
			bystander = g.bystanderEvent()
		}
		if bystander != nil {
			return nil
		}
		for i, name := range groupNames {
			want := masters[i].Addr()
			if name == "g2" {
				want = replicas[i].Addr()
			}
			if err := g.groupMasterIs(ctx, name, want); err != nil {
				return err
			}
		}
		return nil
	})
	if bystander != nil {
		t.Fatalf("after killing g2's master, sentinel %d published %s %q about another group", bystander.Sentinel, bystander.Channel, bystander.Payload)
	}
	t.Logf("kill -> every sentinel names g2's replica %s: %v", replicas[1].Addr(), time.Since(killed).Round(time.Millisecond))
	g.waitFor(5*time.Second, "g2's replica reports the master role", hasRole(replicas[1], "master"))

	g.waitFor(5*time.Second, "every sentinel config monitors g2's replica and the original g1 and g3 masters", func(context.Context) error {
		for _, s := range g.topo.Sentinels {
			monitors, err := monitorLines(s.ConfPath)
			if err != nil {
				return fmt.Errorf("sentinel %s: %w", s.Addr(), err)
			}
			for i, name := range groupNames {
				port := masters[i].Port
				if name == "g2" {
					port = replicas[i].Port
				}
				want := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", name, port)
				if got := monitors[name]; got != want {
					return fmt.Errorf("sentinel %s: config has %q, want %q", s.Addr(), got, want)
				}
			}
		}
		return nil
	})
	if ev := g.bystanderEvent(); ev != nil {
		t.Errorf("sentinel %d published %s %q about another group", ev.Sentinel, ev.Channel, ev.Payload)
	}
}

// startMultiGroup starts, for each of groupNames, a master and one replica
// (waiting until its link is up), then three of our sentinels monitoring all
// groups with quorum 2, a 1 s down-after and a 5 s failover-timeout, and
// records their events. masters[i] and replicas[i] belong to groupNames[i].
func startMultiGroup(t *testing.T, timeout time.Duration) (*group, []*cluster.Redis, []*cluster.Redis) {
	t.Helper()
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	dir := tmpfsDir(t)
	var masters, replicas []*cluster.Redis
	for _, name := range groupNames {
		m, err := cluster.StartRedisOnFreePort(ctx, filepath.Join(dir, name+"-master"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Stop() })
		r, err := cluster.StartRedisOnFreePort(ctx, filepath.Join(dir, name+"-replica"), fmt.Sprintf("replicaof 127.0.0.1 %d", m.Port))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Stop() })
		masters, replicas = append(masters, m), append(replicas, r)
	}
	linkCtx, linkCancel := context.WithTimeout(ctx, 10*time.Second)
	defer linkCancel()
	for i, r := range replicas {
		err := cluster.WaitFor(linkCtx, poll, func() (bool, error) {
			err := replicates(r, masters[i])(linkCtx)
			return err == nil, err
		})
		if err != nil {
			t.Fatalf("%s: replica link: %v", groupNames[i], err)
		}
	}
	var sentinels []*cluster.Sentinel
	for i := range 3 {
		s, err := cluster.StartSentinelOnFreePort(ctx, sentinelCommand, filepath.Join(dir, fmt.Sprintf("sentinel-%d", i+1)), func(port int) string {
			lines := []string{"port " + strconv.Itoa(port)}
			for k, name := range groupNames {
				lines = append(lines,
					fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", name, masters[k].Port),
					fmt.Sprintf("sentinel down-after-milliseconds %s 1000", name),
					fmt.Sprintf("sentinel failover-timeout %s 5000", name))
			}
			return strings.Join(lines, "\n") + "\n"
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Stop() })
		sentinels = append(sentinels, s)
	}
	// topo only carries every process for newGroup (Stop, Subscribe, log
	// checks): Master and Replicas mix groups, so the single-group helpers
	// (MasterAddr, WaitDiscovered, masterAddrIs) must not be used on it.
	others := slices.Concat(replicas[:1], masters[1:], replicas[1:])
	topo := &cluster.Topology{Master: masters[0], Replicas: others, Sentinels: sentinels, Opts: cluster.Options{
		Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second, SentinelCommand: sentinelCommand,
	}}
	return newGroup(t, ctx, topo), masters, replicas
}

// groupDiscovered checks every sentinel lists replica under groupNames[i]
// and the two other sentinels as its peers for that group.
func (g *group) groupDiscovered(ctx context.Context, i int, replica *cluster.Redis) error {
	name := groupNames[i]
	for j, s := range g.topo.Sentinels {
		rs, err := s.Client().Replicas(ctx, name).Result()
		if err != nil {
			return fmt.Errorf("sentinel %s: sentinel replicas %s: %w", s.Addr(), name, err)
		}
		if !slices.Contains(instanceAddrs(rs), replica.Addr()) {
			return fmt.Errorf("sentinel %s: %s replicas %v, want %s", s.Addr(), name, instanceAddrs(rs), replica.Addr())
		}
		ps, err := s.Client().Sentinels(ctx, name).Result()
		if err != nil {
			return fmt.Errorf("sentinel %s: sentinel sentinels %s: %w", s.Addr(), name, err)
		}
		for k, peer := range g.topo.Sentinels {
			if k != j && !slices.Contains(instanceAddrs(ps), peer.Addr()) {
				return fmt.Errorf("sentinel %s: %s sentinels %v, want %s", s.Addr(), name, instanceAddrs(ps), peer.Addr())
			}
		}
	}
	return nil
}

// instanceAddrs is the host:port of each instance map of a SENTINEL
// REPLICAS or SENTINELS reply.
func instanceAddrs(ms []map[string]string) []string {
	var addrs []string
	for _, m := range ms {
		addrs = append(addrs, net.JoinHostPort(m["ip"], m["port"]))
	}
	return addrs
}

// groupMasterIs checks every sentinel answers addr for
// GET-MASTER-ADDR-BY-NAME name.
func (g *group) groupMasterIs(ctx context.Context, name, addr string) error {
	for _, s := range g.topo.Sentinels {
		hp, err := s.Client().GetMasterAddrByName(ctx, name).Result()
		if err != nil {
			return fmt.Errorf("sentinel %s: get-master-addr-by-name %s: %w", s.Addr(), name, err)
		}
		if len(hp) != 2 {
			return fmt.Errorf("sentinel %s: get-master-addr-by-name %s: reply %q", s.Addr(), name, hp)
		}
		if got := net.JoinHostPort(hp[0], hp[1]); got != addr {
			return fmt.Errorf("sentinel %s: %s master is %s, want %s", s.Addr(), name, got, addr)
		}
	}
	return nil
}

// bystanderEvent returns the first recorded down or failover event naming
// g1 or g3, or nil.
func (g *group) bystanderEvent() *cluster.Event {
	for _, ev := range g.events.All() {
		switch ev.Channel {
		case "+sdown", "+odown", "+try-failover", "+switch-master":
		default:
			continue
		}
		// Payloads name the group as a field: "master g1 ...",
		// "slave ... @ g1 ...", "g1 <old> <new>".
		f := strings.Fields(ev.Payload)
		if slices.Contains(f, "g1") || slices.Contains(f, "g3") {
			return &ev
		}
	}
	return nil
}

// monitorLines returns the `sentinel monitor` line of each master group in
// the config file at path, with its fields single-space separated.
func monitorLines(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sentinel config: %w", err)
	}
	lines := map[string]string{}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) >= 3 && strings.EqualFold(f[0], "sentinel") && strings.EqualFold(f[1], "monitor") {
			lines[f[2]] = strings.Join(f, " ")
		}
	}
	return lines, nil
}
