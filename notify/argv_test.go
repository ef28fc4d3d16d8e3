package notify

import (
	"slices"
	"testing"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

func TestNotificationArgvOnlyForWarningInstanceEvents(t *testing.T) {
	sdown := Event{Kind: KindSDown, Level: LevelWarning, Master: "mymaster",
		Instance: &Instance{Kind: view.KindMaster, Name: "mymaster", Host: "127.0.0.1", Port: 6379}}
	slave := &Instance{Kind: view.KindReplica, Name: "1.2.3.4:5", Host: "1.2.3.4", Port: 5, MasterName: "m", MasterHost: "1.2.3.4", MasterPort: 6}
	cases := []struct {
		name   string
		script string
		e      Event
		want   []string
	}{
		{"warning with instance", "/s.sh", sdown, []string{"/s.sh", "+sdown", "master mymaster 127.0.0.1 6379"}},
		{"no script configured", "", sdown, nil},
		{"notice level", "/s.sh", Event{Kind: KindSlave, Level: LevelNotice, Instance: slave}, nil},
		{"tilt has no instance", "/s.sh", Event{Kind: KindTilt, Level: LevelWarning, Text: "#tilt mode entered"}, nil},
		{"script error has no instance", "/s.sh", Event{Kind: KindScriptError, Level: LevelWarning, Text: "/s.sh 0 2"}, nil},
	}
	for _, c := range cases {
		if got := NotificationArgv(c.script, c.e); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestReconfigArgvLayout(t *testing.T) {
	cases := []struct {
		role string
		want []string
	}{
		{"leader", []string{"/r.sh", "mymaster", "leader", "start", "10.0.0.1", "6379", "10.0.0.2", "6380"}},
		{"observer", []string{"/r.sh", "mymaster", "observer", "start", "10.0.0.1", "6379", "10.0.0.2", "6380"}},
	}
	for _, c := range cases {
		got := ReconfigArgv("/r.sh", "mymaster", c.role, "10.0.0.1", 6379, "10.0.0.2", 6380)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.role, got, c.want)
		}
	}
}
