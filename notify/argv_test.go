package notify

import (
	"slices"
	"testing"
)

func TestNotificationArgvOnlyForWarningInstanceEvents(t *testing.T) {
	sdown := Event{Type: "+sdown", Level: LevelWarning, Message: "master mymaster 127.0.0.1 6379", Master: "mymaster", Instance: true}
	cases := []struct {
		name   string
		script string
		e      Event
		want   []string
	}{
		{"warning with instance", "/s.sh", sdown, []string{"/s.sh", "+sdown", "master mymaster 127.0.0.1 6379"}},
		{"no script configured", "", sdown, nil},
		{"notice level", "/s.sh", Event{Type: "+slave", Level: LevelNotice, Message: "slave 1.2.3.4:5 1.2.3.4 5 @ m 1.2.3.4 6", Instance: true}, nil},
		{"tilt has no instance", "/s.sh", Event{Type: "+tilt", Level: LevelWarning, Message: "#tilt mode entered"}, nil},
		{"script error has no instance", "/s.sh", Event{Type: "-script-error", Level: LevelWarning, Message: "/s.sh 0 2"}, nil},
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
