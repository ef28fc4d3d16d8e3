package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

func TestParseProxyLines(t *testing.T) {
	data := "sentinel monitor m 10.0.0.1 6379 2\n" +
		"sentinel proxy m master 0.0.0.0:6380\n" +
		"sentinel proxy m replicas 127.0.0.1:6381\n" +
		"sentinel proxy m master :6382\n" + // a later line for a role replaces the earlier one
		"sentinel proxy-maxclients m 500\n"
	c := mustParse(t, "/conf/sentinel.conf", []byte(data))
	m := c.Master("m")
	want := []Proxy{{Role: ProxyReplicas, Addr: "127.0.0.1:6381"}, {Role: ProxyMaster, Addr: ":6382"}}
	if !slices.Equal(m.Proxies, want) || m.ProxyMaxClients != 500 {
		t.Fatalf("proxies = %+v maxclients %d", m.Proxies, m.ProxyMaxClients)
	}
	out := string(Render([]byte(data), c))
	for _, line := range []string{"sentinel proxy m replicas 127.0.0.1:6381", "sentinel proxy m master :6382", "sentinel proxy-maxclients m 500"} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("rendered config lacks %q:\n%s", line, out)
		}
	}
	again := mustParse(t, "/conf/sentinel.conf", []byte(out))
	if !slices.Equal(again.Master("m").Proxies, want) {
		t.Errorf("round trip proxies = %+v", again.Master("m").Proxies)
	}
}

func TestParseRejectsBadProxyLines(t *testing.T) {
	for bad, msg := range map[string]string{
		"sentinel proxy m primary :6380":     msgProxyRole,
		"sentinel proxy m master 6380":       msgHostPort,
		"sentinel proxy m master :70000":     msgHostPort,
		"sentinel proxy nosuch master :6380": msgNoMaster,
		"sentinel proxy-maxclients m 0":      msgValue,
		"sentinel proxy-maxclients m x":      msgValue,
	} {
		_, err := Parse("/conf/sentinel.conf", []byte("sentinel monitor m 10.0.0.1 6379 2\n"+bad+"\n"))
		errs := lineErrors(t, err)
		if len(errs) != 1 || errs[0].Line != 2 || errs[0].Msg != msg {
			t.Errorf("%q: errors = %v, want line 2 %q", bad, err, msg)
		}
	}
}

func TestSetProxyReplacesAndRemoves(t *testing.T) {
	l := view.SetProxy(nil, ProxyMaster, ":1")
	l = view.SetProxy(l, ProxyReplicas, ":2")
	l = view.SetProxy(l, ProxyMaster, ":3")
	if !slices.Equal(l, []Proxy{{Role: ProxyReplicas, Addr: ":2"}, {Role: ProxyMaster, Addr: ":3"}}) {
		t.Fatalf("after set: %+v", l)
	}
	if l = view.SetProxy(l, ProxyReplicas, ""); !slices.Equal(l, []Proxy{{Role: ProxyMaster, Addr: ":3"}}) {
		t.Fatalf("after remove: %+v", l)
	}
}
