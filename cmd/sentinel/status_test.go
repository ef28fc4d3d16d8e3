package main

import (
	"strings"
	"testing"
)

func TestStatusFlags(t *testing.T) {
	cmd := newStatusCmd(&globalFlags{})
	if err := cmd.ParseFlags([]string{"--sentinel", "10.0.0.1:26380", "--watch", "--json"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"sentinel": "10.0.0.1:26380", "watch": "true", "json": "true"} {
		if got := cmd.Flags().Lookup(name).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}
	if _, err := execute("status", "extra-arg"); err == nil {
		t.Error("status accepted a positional argument")
	}
}

func TestStatusReportsUnreachableSentinel(t *testing.T) {
	// Port 1 on loopback refuses at once.
	_, err := execute("status", "--sentinel", "127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "sentinel masters") {
		t.Fatalf("err = %v, want a sentinel masters failure", err)
	}
}
