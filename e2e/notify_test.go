package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// errScriptsDeny is Redis 7.0's reply to SENTINEL SET of a script path while
// deny-scripts-reconfig is on (the default), docs/behaviour.md §1.2.
const errScriptsDeny = "ERR Reconfiguration of scripts path is denied for security reasons. " +
	"Check the deny-scripts-reconfig configuration directive in your Sentinel configuration"

// TestNotificationScriptRunsForWarningEvents gives each of three sentinels
// its own notification-script, which appends `<type>|<message>` to its own
// file. A killed replica's +sdown (a warning event about an instance) must
// reach every script with the docs/behaviour.md §2 payload, the notice-level discovery
// events must not, the master's +switch-master must, and SENTINEL SET must
// refuse to change the script path.
func TestNotificationScriptRunsForWarningEvents(t *testing.T) {
	t.Parallel()
	scriptDir := t.TempDir()
	var scripts, outs []string
	for i := range 3 {
		out := filepath.Join(scriptDir, fmt.Sprintf("notify-%d.out", i))
		script := filepath.Join(scriptDir, fmt.Sprintf("notify-%d.sh", i))
		body := fmt.Sprintf("#!/bin/sh\nprintf '%%s|%%s\\n' \"$1\" \"$2\" >> '%s'\n", out)
		if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		scripts, outs = append(scripts, script), append(outs, out)
	}
	g := startGroupWithConf(t, 60*time.Second, cluster.Options{
		Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
	}, nil, func(i int) []string {
		return []string{fmt.Sprintf("sentinel notification-script %s %s", masterName, scripts[i])}
	})

	for i, s := range g.topo.Sentinels {
		m, err := s.Client().Master(g.ctx, masterName).Result()
		if err != nil {
			t.Fatalf("sentinel %s: sentinel master: %v", s.Addr(), err)
		}
		if m["notification-script"] != scripts[i] {
			t.Errorf("sentinel %s: SENTINEL MASTER notification-script = %q, want %q", s.Addr(), m["notification-script"], scripts[i])
		}
	}

	victim := g.topo.Replicas[0]
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("+sdown|%s 127.0.0.1 %d", replicaRef(victim.Port), g.topo.Master.Port)
	for i := range g.topo.Sentinels {
		ev := g.waitEvent(10*time.Second, fmt.Sprintf("sentinel %d: +sdown of the killed replica", i), on(i, "+sdown", replicaRef(victim.Port)))
		if got := ev.Channel + "|" + ev.Payload; got != want {
			t.Errorf("sentinel %d: published %q, want %q", i, got, want)
		}
	}
	var lines [][]string
	g.waitFor(10*time.Second, "every notification script records the +sdown", func(context.Context) error {
		lines = lines[:0]
		for i, out := range outs {
			l, err := readLines(out)
			if err != nil {
				return fmt.Errorf("sentinel %d: %w", i, err)
			}
			if !slices.Contains(l, want) {
				return fmt.Errorf("sentinel %d: script output %q has no line %q", i, l, want)
			}
			lines = append(lines, l)
		}
		return nil
	})
	for i, l := range lines {
		t.Logf("sentinel %d: script output %q", i, l)
		if n := countLines(l, want); n != 1 {
			t.Errorf("sentinel %d: script ran %d times for one +sdown: %q", i, n, l)
		}
		// +slave and +sentinel (discovery, notice level) were queued
		// before the +sdown: none of them may have reached the script.
		for _, line := range l {
			if typ, _, _ := strings.Cut(line, "|"); typ == "+slave" || typ == "+sentinel" {
				t.Errorf("sentinel %d: notice-level event ran the script: %q", i, line)
			}
		}
	}

	// +switch-master names no instance, but it is a warning about the
	// group: Redis runs the script for it, and scripts that page people
	// rely on it.
	if err := g.topo.Master.Kill(); err != nil {
		t.Fatal(err)
	}
	switched := fmt.Sprintf("+switch-master|%s 127.0.0.1 %d 127.0.0.1 %d", masterName, g.topo.Master.Port, g.topo.Replicas[1].Port)
	g.waitFor(30*time.Second, "every notification script records the +switch-master", func(context.Context) error {
		for i, out := range outs {
			if l, err := readLines(out); err != nil || !slices.Contains(l, switched) {
				return fmt.Errorf("sentinel %d: script output %q has no line %q (%v)", i, l, switched, err)
			}
		}
		return nil
	})

	for i, s := range g.topo.Sentinels {
		err := sentinelDo(g.ctx, s.Client(), "set", masterName, "notification-script", "/bin/true").Err()
		if err == nil || err.Error() != errScriptsDeny {
			t.Errorf("sentinel %s: SENTINEL SET notification-script /bin/true = %v, want %q", s.Addr(), err, errScriptsDeny)
		}
		m, err := s.Client().Master(g.ctx, masterName).Result()
		if err != nil {
			t.Fatalf("sentinel %s: sentinel master: %v", s.Addr(), err)
		}
		if m["notification-script"] != scripts[i] {
			t.Errorf("sentinel %s: notification-script after the refused SET = %q, want %q", s.Addr(), m["notification-script"], scripts[i])
		}
	}
}

// readLines returns the lines of the file at path; a missing file has none.
func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"), nil
}

func countLines(lines []string, want string) int {
	n := 0
	for _, l := range lines {
		if l == want {
			n++
		}
	}
	return n
}

// startGroupWithConf is startGroup for sentinels that cluster.Options
// cannot describe: it starts the master and replicas with cluster.Start, then
// o.Sentinels sentinels, sentinel i running command(i) (ours when "") with
// extra(i) appended to its config, and waits until they discovered everything.
func startGroupWithConf(t *testing.T, timeout time.Duration, o cluster.Options, command func(i int) string, extra func(i int) []string) *group {
	t.Helper()
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	dir := tmpfsDir(t)
	base, err := cluster.Start(ctx, cluster.Options{Dir: dir, Replicas: o.Replicas, ReplicaConf: o.ReplicaConf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(base.Stop)
	var sentinels []*cluster.Sentinel
	for i := range o.Sentinels {
		cmd := sentinelCommand
		if command != nil && command(i) != "" {
			cmd = command(i)
		}
		var lines []string
		if extra != nil {
			lines = extra(i)
		}
		s, err := cluster.StartSentinelOnFreePort(ctx, cmd, filepath.Join(dir, fmt.Sprintf("sentinel-%d", i+1)), func(port int) string {
			return cluster.SentinelConf(port, masterName, base.Master.Port, o.Quorum,
				int(o.DownAfter.Milliseconds()), int(o.FailoverTimeout.Milliseconds()), lines...)
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Stop() })
		sentinels = append(sentinels, s)
	}
	opts := base.Opts
	opts.Sentinels, opts.Quorum, opts.DownAfter, opts.FailoverTimeout = o.Sentinels, o.Quorum, o.DownAfter, o.FailoverTimeout
	opts.SentinelCommand = sentinelCommand
	topo := &cluster.Topology{Master: base.Master, Replicas: base.Replicas, Sentinels: sentinels, Opts: opts}
	g := newGroup(t, ctx, topo)
	if err := topo.WaitDiscovered(ctx); err != nil {
		t.Fatal(err)
	}
	return g
}
