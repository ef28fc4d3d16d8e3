package core

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// TestWithholdKeepsNothingUnsaved: when the save of a step fails, its vote
// replies, vote requests and hellos are withheld; opinions and probes go.
func TestWithholdKeepsNothingUnsaved(t *testing.T) {
	s := newTestState(t)
	b := strings.Repeat("b", 40)
	s.Hello(t0, "127.0.0.2,26380,"+b+",0,mymaster,127.0.0.1,6379,0")
	s.Drain()
	s.HandlePeer(t0, peer.VoteRequest{From: b, Master: "mymaster", MasterIP: "127.0.0.1", MasterPort: 6379, Epoch: 4, Candidate: b})
	out := s.Drain()
	if !out.MustSave() || len(out.Peers) != 1 {
		t.Fatalf("vote: persist %v, peers %v", out.MustSave(), out.Peers)
	}
	out.Peers = append(out.Peers, PeerSend{Msg: peer.Opinion{From: s.MyID(), Master: "mymaster"}},
		PeerSend{Msg: peer.Hello{Payload: "x"}}, PeerSend{Msg: peer.VoteRequest{}})
	out.Requests = append(out.Requests, LinkRequest{Req: monitor.Hello{}}, LinkRequest{Req: monitor.Ping{}},
		LinkRequest{Req: monitor.AskMasterDown{Vote: peer.VoteRequest{Candidate: s.MyID()}}}, LinkRequest{Req: monitor.AskMasterDown{}})
	out.Withhold()
	if len(out.Peers) != 1 || out.Peers[0].Msg.(peer.Opinion).Master != "mymaster" {
		t.Fatalf("peers left: %v", out.Peers)
	}
	if len(out.Requests) != 2 {
		t.Fatalf("requests left: %v", out.Requests)
	}
	for _, r := range out.Requests {
		if q, ok := r.Req.(monitor.AskMasterDown); ok && q.Vote.Candidate != "" {
			t.Fatalf("a vote request left: %v", r)
		}
	}
}

// TestSaveFailureIsAnEventOnceAndRecoveryReannounces: a failing store gives
// one -config-save-failed, the snapshot shows it, and the first successful
// save gives +config-save-ok and sends the withheld announcements again.
func TestSaveFailureIsAnEventOnceAndRecoveryReannounces(t *testing.T) {
	s := newTestState(t)
	s.opts.SelfIP = "127.0.0.1"
	s.Drain()
	errFull := errors.New("write sentinel.conf: no space left on device")
	s.Saved(t0, errFull)
	s.Saved(t0.Add(100*time.Millisecond), errFull)
	out := s.Drain()
	if len(out.Events) != 1 || out.Events[0].Channel() != "-config-save-failed" || out.Events[0].Payload() != errFull.Error() {
		t.Fatalf("events %v", out.Events)
	}
	snap := s.Snapshot(func(string) int { return 0 })
	if snap.SaveError != errFull.Error() || !snap.SaveFailedSince.Equal(t0) || snap.SaveFailures != 2 {
		t.Fatalf("snapshot: %q since %v, %d failures", snap.SaveError, snap.SaveFailedSince, snap.SaveFailures)
	}
	s.Saved(t0.Add(time.Second), nil)
	out = s.Drain()
	if !hasEvent(out, "+config-save-ok", "failed for 1s") {
		t.Fatalf("events %v", out.Events)
	}
	if len(out.Peers) != 1 {
		t.Fatalf("configuration not announced again: %v", out.Peers)
	}
	if _, ok := out.Peers[0].Msg.(peer.Hello); !ok {
		t.Fatalf("announcement %v", out.Peers[0])
	}
	if snap := s.Snapshot(func(string) int { return 0 }); snap.SaveError != "" || !snap.SaveFailedSince.IsZero() {
		t.Fatalf("save error still shown: %q", snap.SaveError)
	}
	s.Saved(t0.Add(2*time.Second), nil)
	if out := s.Drain(); len(out.Events) != 0 {
		t.Fatalf("a second good save is not news: %v", out.Events)
	}
}
