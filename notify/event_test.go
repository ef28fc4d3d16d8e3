package notify

import (
	"testing"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

func TestPayloadIsRedisText(t *testing.T) {
	master := &Instance{Kind: view.KindMaster, Name: "mymaster", Host: "127.0.0.1", Port: 6379}
	sentinel := &Instance{Kind: view.KindSentinel, Name: "abcd", Host: "::1", Port: 26380,
		MasterName: "mymaster", MasterHost: "redis-1.example", MasterPort: 6379}
	cases := []struct {
		e    Event
		want string
	}{
		{Event{Kind: KindSDown, Instance: master}, "master mymaster 127.0.0.1 6379"},
		{Event{Kind: KindODown, Instance: master, Text: "#quorum 2/2"}, "master mymaster 127.0.0.1 6379 #quorum 2/2"},
		{Event{Kind: KindSentinel, Instance: sentinel}, "sentinel abcd ::1 26380 @ mymaster redis-1.example 6379"},
		{Event{Kind: KindNewEpoch, Epoch: 7}, "7"},
		{Event{Kind: KindVoteForLeader, Leader: "abcd", Epoch: 7}, "abcd 7"},
		{Event{Kind: KindTilt, Text: "#tilt mode entered"}, "#tilt mode entered"},
		{Event{Kind: KindSwitchMaster, Master: "mymaster", From: Addr{"10.0.0.1", 6379}, To: Addr{"::1", 6380}},
			"mymaster 10.0.0.1 6379 ::1 6380"},
	}
	for _, c := range cases {
		if got := c.e.Payload(); got != c.want {
			t.Errorf("%s: payload %q, want %q", c.e.Channel(), got, c.want)
		}
	}
}

func TestEveryKindHasOneChannel(t *testing.T) {
	seen := map[string]Kind{}
	for k := KindMonitor; k < kindEnd; k++ {
		name := k.String()
		if name == "" || (name[0] != '+' && name[0] != '-') {
			t.Errorf("kind %d: channel %q", k, name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("kinds %d and %d share channel %q", prev, k, name)
		}
		seen[name] = k
	}
}
