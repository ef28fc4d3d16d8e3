package core

import (
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// TestReadyHandsOutChangedStateUntilAdvance: a vote changes the hard state,
// and the Ready carries it (with the reply) until the shell advances; the
// same vote asked again changes nothing to save, only the reply goes.
func TestReadyHandsOutChangedStateUntilAdvance(t *testing.T) {
	s := newTestState(t)
	b := strings.Repeat("b", 40)
	s.Hello(t0, "127.0.0.2,26380,"+b+",0,mymaster,127.0.0.1,6379,0")
	s.Drain()
	ask := peer.VoteRequest{From: b, Master: "mymaster", MasterIP: "127.0.0.1", MasterPort: 6379, Epoch: 4, Candidate: b}
	s.Step(t0, Peer{From: b, Msg: ask})
	for range 2 { // Ready without Advance hands out the same batch
		rd := s.Ready()
		if rd.HardState == nil || rd.HardState.CurrentEpoch != 4 || rd.HardState.Masters[0].LeaderEpoch != 4 ||
			rd.Settings != nil || len(rd.Peers) != 1 {
			t.Fatalf("ready %+v", rd)
		}
	}
	s.Advance()
	if rd := s.Ready(); rd.MustSave() || len(rd.Peers) != 0 {
		t.Fatalf("advanced ready still there: %+v", rd)
	}
	s.Advance()
	s.Step(t0, Peer{From: b, Msg: ask})
	if rd := s.Ready(); rd.MustSave() || len(rd.Peers) != 1 || rd.Peers[0].Msg.(peer.VoteReply).Leader != b {
		t.Fatalf("repeated vote: %+v", rd)
	}
	s.Advance()
	if err := s.Set(t0, "mymaster", []string{"down-after-milliseconds", "2000"}); err != nil {
		t.Fatal(err)
	}
	if rd := s.Ready(); rd.HardState != nil || rd.Settings == nil || rd.Settings.Master("mymaster").DownAfter.Milliseconds() != 2000 {
		t.Fatalf("set: %+v", rd)
	}
}

// TestDebugHandsOutTheTimers: the script runner lives outside the core, so
// SENTINEL DEBUG's timers reach it through the Ready, also those applied
// before a bad pair.
func TestDebugHandsOutTheTimers(t *testing.T) {
	s := newTestState(t)
	s.Drain()
	if err := s.Debug([]string{"script-max-runtime", "1500", "script-retry-delay", "250"}); err != nil {
		t.Fatal(err)
	}
	rd := s.Drain()
	if rd.Timers == nil || rd.Timers.ScriptMaxRuntime != 1500*time.Millisecond || rd.Timers.ScriptRetryDelay != 250*time.Millisecond {
		t.Fatalf("timers %+v", rd.Timers)
	}
	if rd := s.Drain(); rd.Timers != nil {
		t.Fatalf("timers handed out twice: %+v", rd.Timers)
	}
	if err := s.Debug([]string{"script-max-runtime", "900", "no-such-timer", "1"}); err == nil {
		t.Fatal("an unknown timer was accepted")
	}
	if rd := s.Drain(); rd.Timers == nil || rd.Timers.ScriptMaxRuntime != 900*time.Millisecond {
		t.Fatalf("the pair applied before the bad one was not handed out: %+v", rd.Timers)
	}
}
