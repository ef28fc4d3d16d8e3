package core

import (
	"slices"
	"testing"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

func TestSetProxyListenersPersistAndShow(t *testing.T) {
	s := newTestState(t)
	if err := s.Set(t0, "mymaster", []string{"proxy-master", "127.0.0.1:6380", "proxy-replicas", ":6381", "proxy-maxclients", "50"}); err != nil {
		t.Fatal(err)
	}
	if out := s.Drain(); !out.MustSave() || !hasEvent(out, "+set", "master mymaster 127.0.0.1 6379 proxy-master 127.0.0.1:6380") {
		t.Fatalf("a proxy change must be flushed and announced: %v", out.Events)
	}
	want := []view.Proxy{{Role: "master", Addr: "127.0.0.1:6380"}, {Role: "replicas", Addr: ":6381"}}
	mc := s.Config().Master("mymaster")
	if !slices.Equal(mc.Proxies, want) || mc.ProxyMaxClients != 50 {
		t.Fatalf("config proxies = %+v maxclients %d", mc.Proxies, mc.ProxyMaxClients)
	}
	if vm := s.Snapshot(func(string) int { return 0 }).Master("mymaster"); !slices.Equal(vm.Proxies, want) || vm.ProxyMaxClients != 50 {
		t.Fatalf("view proxies = %+v", vm.Proxies)
	}
	if err := s.Set(t0, "mymaster", []string{"proxy-master", ""}); err != nil {
		t.Fatal(err)
	}
	if got := s.Config().Master("mymaster").Proxies; !slices.Equal(got, want[1:]) {
		t.Fatalf("an empty address removes the listener: %+v", got)
	}
	for _, bad := range [][]string{{"proxy-master", "6380"}, {"proxy-replicas", "x:99999"}, {"proxy-maxclients", "0"}} {
		if err := s.Set(t0, "mymaster", bad); err == nil || err.Error() != "ERR Invalid argument '"+bad[1]+"' for SENTINEL SET '"+bad[0]+"'" {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}
