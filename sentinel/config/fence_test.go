package config

import (
	"strings"
	"testing"
)

// TestFenceWritesDirective: on by default and never written then, so a file
// stays loadable by Redis Sentinel; "no" round-trips; a bad value names
// file, line and directive.
func TestFenceWritesDirective(t *testing.T) {
	const base = "sentinel monitor m 10.0.0.1 6379 2\n"
	c := mustParse(t, "/etc/sentinel.conf", []byte(base))
	if c.Master("m").NoFenceWrites {
		t.Fatal("fencing must be on by default")
	}
	if out := string(Render([]byte(base), c)); strings.Contains(out, "fence-writes") {
		t.Fatalf("default written:\n%s", out)
	}
	c.Master("m").NoFenceWrites = true
	out := Render([]byte(base), c)
	if !strings.Contains(string(out), "sentinel fence-writes m no\n") {
		t.Fatalf("fence-writes no not written:\n%s", out)
	}
	sameConfig(t, c, mustParse(t, "/etc/sentinel.conf", out))

	c = mustParse(t, "/etc/sentinel.conf", []byte(base+"sentinel fence-writes m YES\n"))
	if c.Master("m").NoFenceWrites {
		t.Fatal("fence-writes yes read as no")
	}
	_, err := Parse("/etc/sentinel.conf", []byte(base+"sentinel fence-writes m maybe\n"))
	errs := lineErrors(t, err)
	want := LineError{File: "/etc/sentinel.conf", Line: 2, Text: "sentinel fence-writes m maybe",
		Directive: "sentinel fence-writes", Msg: "Please specify yes or no for the fence-writes option."}
	if len(errs) != 1 || *errs[0] != want {
		t.Fatalf("got %v, want %+v", err, want)
	}
}
