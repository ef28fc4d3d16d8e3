package status

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestStatusShowsTheProxies(t *testing.T) {
	f := fixtureSentinel()
	f["proxies "] = []map[string]string{
		{"master": "cache", "role": "master", "addr": ":6380", "bound": "[::]:6380", "listening": "yes",
			"accepting": "yes", "backend": "", "clients": "0", "waiting": "3", "maxclients": "10000"},
		{"master": "cache", "role": "replicas", "addr": "10.0.0.9:6381", "listening": "no",
			"error": "listen tcp 10.0.0.9:6381: bind: address already in use", "maxclients": "10000"},
		{"master": "sessions", "role": "master", "addr": ":6390", "bound": "[::]:6390", "listening": "yes",
			"accepting": "no", "backend": "10.0.2.1:6380", "clients": "12", "waiting": "0", "maxclients": "100"},
	}
	s, err := Fetch(context.Background(), f, "127.0.0.1:26379")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, Build(s)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"PROXY", "[::]:6380", "master", "listening", "(waiting for a master)", "0/10000", "3",
		"down: listen tcp 10.0.0.9:6381: bind: address already in use",
		"[::]:6390", "not-accepting", "10.0.2.1:6380", "12/100",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if v := Build(s); len(v.Masters[0].Proxies) != 2 || len(v.Masters[1].Proxies) != 1 {
		t.Errorf("proxies per group: %+v", v.Masters)
	}
}
