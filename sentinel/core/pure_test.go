package core

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreDoesNoIO keeps the state machine free of sockets, HTTP, processes,
// gossip and the config file format (docs/design.md "Packages"): those
// belong to the daemon's edges.
func TestCoreDoesNoIO(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/seed877ff415/sentinel/sentinel/core").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for dep := range strings.Lines(string(out)) {
		dep = strings.TrimSpace(dep)
		if strings.Contains(dep, "go-redis") || strings.Contains(dep, "memberlist") || dep == "net/http" || dep == "os/exec" ||
			dep == "github.com/seed877ff415/sentinel/sentinel/config" {
			t.Errorf("the core depends on %s", dep)
		}
	}
}
