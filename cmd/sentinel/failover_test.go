package main

import (
	"strings"
	"testing"
)

func TestFailoverNeedsExactlyOneName(t *testing.T) {
	for _, args := range [][]string{{"failover"}, {"failover", "a", "b"}} {
		if _, err := execute(args...); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	cmd := newFailoverCmd(&globalFlags{})
	if err := cmd.ParseFlags([]string{"--sentinel", "10.0.0.1:26380"}); err != nil {
		t.Fatal(err)
	}
	if got := cmd.Flags().Lookup("sentinel").Value.String(); got != "10.0.0.1:26380" {
		t.Errorf("--sentinel = %q", got)
	}
}

func TestFailoverReportsUnreachableSentinel(t *testing.T) {
	_, err := execute("failover", "mymaster", "--sentinel", "127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "sentinel failover mymaster on 127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
}
