package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestOwnerPIDAndLabNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		pid  int
		ok   bool
	}{
		{"pt123-1br", 123, true},
		{"pt123-probe", 123, true},
		{"pt-1h1", 0, false},
		{"ptx-1h1", 0, false},
		{"other123-1", 0, false},
		{"pt123", 0, false},
	} {
		if pid, ok := ownerPID(tc.name); pid != tc.pid || ok != tc.ok {
			t.Errorf("ownerPID(%q) = %d, %v; want %d, %v", tc.name, pid, ok, tc.pid, tc.ok)
		}
	}
	for name, want := range map[string]bool{"pt9-1br": true, "pt9-1h3": true, "pt9-12h1": false, "pt9-1hx": false, "pt9-12br": false} {
		if got := isLabName(name, "pt9-1"); got != want {
			t.Errorf("isLabName(%q, pt9-1) = %v, want %v", name, got, want)
		}
	}
}

// connect opens a TCP connection from host from to port 9 of host to,
// where nothing listens: "refused" proves the path, "timeout" is silence.
func connect(ctx context.Context, l *Lab, from, to int) string {
	script := fmt.Sprintf("exec 3<>/dev/tcp/%s/9", l.Hosts[to].IP)
	_, err := run(ctx, "", "ip", "netns", "exec", l.Hosts[from].NetNS, "timeout", "1", "bash", "-c", script)
	switch {
	case err == nil:
		return "connected"
	case strings.Contains(err.Error(), "refused"):
		return "refused"
	case strings.Contains(err.Error(), "exit status 124"):
		return "timeout"
	default:
		return err.Error()
	}
}

func TestCutIsSilenceForTheHostsButNotForTheController(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	l, err := New(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	if got := connect(ctx, l, 1, 0); got != "refused" {
		t.Fatalf("before the cut host 2 → host 1: %s, want refused", got)
	}
	if err := l.Cut(ctx, 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]int{{1, 0}, {0, 2}} {
		if got := connect(ctx, l, p[0], p[1]); got != "timeout" {
			t.Errorf("cut: host %d → host %d: %s, want timeout (silence)", p[0]+1, p[1]+1, got)
		}
	}
	if got := connect(ctx, l, 1, 2); got != "refused" {
		t.Errorf("cut: host 2 → host 3: %s, want refused (the majority still talks)", got)
	}
	if err := l.waitLinks(ctx); err != nil {
		t.Errorf("the controller lost a host during the cut: %v", err)
	}
	if err := l.Loss(ctx, 100, 2); err != nil {
		t.Fatal(err)
	}
	if got := connect(ctx, l, 1, 0); got != "refused" {
		t.Errorf("a new fault did not heal the cut: host 2 → host 1: %s", got)
	}
	if got := connect(ctx, l, 0, 2); got != "timeout" {
		t.Errorf("100%% loss: host 1 → host 3: %s, want timeout", got)
	}
	if err := l.CutPort(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if got := connect(ctx, l, 1, 2); got != "timeout" {
		t.Errorf("port 9 cut: host 2 → host 3: %s, want timeout", got)
	}
	if err := l.Loss(ctx, 101, 0); err == nil {
		t.Error("loss of 101% accepted")
	}
	if err := l.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if got := connect(ctx, l, 0, 2); got != "refused" {
		t.Errorf("healed: host 1 → host 3: %s, want refused", got)
	}
}

func TestCloseAndSweepLeaveNothing(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	l, err := New(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(ctx, t, l.prefix); left != "" {
		t.Fatalf("Close left %s", left)
	}
	// A namespace whose owner is gone, and one of a live run.
	dead := deadPID(t)
	name := fmt.Sprintf("%s%d-1h1", namePrefix, dead)
	if _, err := run(ctx, "", "ip", "netns", "add", name); err != nil {
		t.Fatal(err)
	}
	live := fmt.Sprintf("%s%d-99h1", namePrefix, os.Getpid())
	if _, err := run(ctx, "", "ip", "netns", "add", live); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = run(context.Background(), "", "ip", "netns", "del", live) })
	if err := Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := run(ctx, "", "ip", "netns", "list")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, name) {
		t.Errorf("Sweep kept %s of dead pid %d", name, dead)
	}
	if !strings.Contains(out, live) {
		t.Errorf("Sweep removed %s of a live process", live)
	}
}

func leftovers(ctx context.Context, t *testing.T, prefix string) string {
	t.Helper()
	ns, err := run(ctx, "", "ip", "netns", "list")
	if err != nil {
		t.Fatal(err)
	}
	links, err := run(ctx, "", "ip", "-o", "link", "show")
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, out := range []string{ns, links} {
		for line := range strings.Lines(out) {
			if strings.Contains(line, prefix) {
				left = append(left, strings.TrimSpace(line))
			}
		}
	}
	return strings.Join(left, "; ")
}

// deadPID returns a pid no process has.
func deadPID(t *testing.T) int {
	t.Helper()
	for pid := 4000000; pid < 4001000; pid++ {
		if !alive(pid) {
			return pid
		}
	}
	t.Fatal(errors.New("no free pid found"))
	return 0
}
