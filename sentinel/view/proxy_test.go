package view

import "testing"

func TestValidHostPort(t *testing.T) {
	for s, want := range map[string]bool{
		"127.0.0.1:6380": true, ":6380": true, "[::1]:6380": true, "redis-1.example:80": true, "host:0": true, "[127.0.0.1]:80": true,
		"6380": false, "::1:6380": false, "[::1]6380": false, "host:": false,
		"host:65536": false, "host:-1": false, "bad host:80": false, "[::1:80": false, "a]:80": false,
	} {
		if got := ValidHostPort(s, false); got != want {
			t.Errorf("ValidHostPort(%q) = %v, want %v", s, got, want)
		}
	}
	if ValidHostPort(":6380", true) {
		t.Error("a port alone passes when a host is needed")
	}
}
