package core

import (
	"strings"
	"testing"

	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// FuzzHello feeds arbitrary hellos (pub/sub and gossip) to a sentinel that
// knows one peer: nothing panics, whatever is accepted is valid, and the
// config it would save loads again.
func FuzzHello(f *testing.F) {
	b := strings.Repeat("b", 40)
	for _, seed := range []string{
		"127.0.0.2,26380," + b + ",1,mymaster,127.0.0.1,6379,0",
		"127.0.0.2,26380," + b + ",3,mymaster,10.0.0.5,6380,2",
		"127.0.0.2,99999," + b + ",1,mymaster,127.0.0.1,6379,0",
		"not-an-ip,26380," + b + ",1,mymaster,127.0.0.1,6379,0",
		",26380," + b + ",1,mymaster,,6379,5",
		"127.0.0.2,26380," + b + ",18446744073709551615,mymaster,127.0.0.1,6379,0",
		"host.example,1," + b + ",1,mymaster,other.example,1,9",
	} {
		f.Add(seed, false, false)
		f.Add(seed, true, true)
	}
	f.Fuzz(func(t *testing.T, payload string, viaGossip, resolve bool) {
		s := newTestState(t)
		s.opts.ResolveHostnames = resolve
		s.Hello(t0, "127.0.0.2,26380,"+b+",1,mymaster,127.0.0.1,6379,0")
		if viaGossip {
			s.HandlePeer(t0, peer.Hello{Payload: payload})
		} else {
			s.Hello(t0, payload)
		}
		s.Drain()
		m := s.master("mymaster")
		if !s.validHost(m.inst.host) || !validPort(m.inst.port) || !validEpoch(s.CurrentEpoch()) {
			t.Fatalf("hello %q left master %s:%d, epoch %d", payload, m.inst.host, m.inst.port, s.CurrentEpoch())
		}
		for _, si := range m.sentinels {
			if !s.validHost(si.host) || !validPort(si.port) || !validRunID(si.runID) {
				t.Fatalf("hello %q added sentinel %s %s:%d", payload, si.runID, si.host, si.port)
			}
		}
		reloads(t, s)
	})
}
