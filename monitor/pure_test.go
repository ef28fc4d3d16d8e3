package monitor

import (
	"os/exec"
	"strings"
	"testing"
)

// TestVocabularyDoesNoIO keeps the packages the pure core imports free of
// sockets, HTTP and processes; those live in monitor/link, notify/script and
// notify/webhook.
func TestVocabularyDoesNoIO(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/seed877ff415/sentinel/monitor",
		"github.com/seed877ff415/sentinel/notify").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for dep := range strings.Lines(string(out)) {
		dep = strings.TrimSpace(dep)
		if strings.Contains(dep, "go-redis") || dep == "net" || dep == "net/http" || dep == "os/exec" {
			t.Errorf("the pure vocabulary depends on %s", dep)
		}
	}
}
