package sentinel

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/gossip"
)

func TestGossipSecretsComeFromKeyElsePassword(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 16)
	for _, tt := range []struct {
		name string
		cfg  config.Config
		want []byte
	}{
		{"gossip-key wins", config.Config{GossipKeys: []string{"AQEBAQEBAQEBAQEBAQEBAQ=="}, SentinelPass: "p", RequirePass: "r"}, key},
		{"sentinel-pass before requirepass", config.Config{SentinelPass: "p", RequirePass: "r"}, gossip.KeyFromPassword("p")},
		{"requirepass", config.Config{RequirePass: "r", GossipRequireSecret: true}, gossip.KeyFromPassword("r")},
	} {
		keys, err := gossipSecrets(&tt.cfg, zerolog.Nop())
		if err != nil || len(keys) != 1 || !bytes.Equal(keys[0], tt.want) {
			t.Errorf("%s: keys %x, %v; want %x", tt.name, keys, err, tt.want)
		}
	}
	if bytes.Equal(gossip.KeyFromPassword("p"), gossip.KeyFromPassword("r")) {
		t.Fatal("two passwords derive one key")
	}

	var logs testutil.SyncBuffer
	keys, err := gossipSecrets(&config.Config{}, zerolog.New(&logs))
	if err != nil || keys != nil || !strings.Contains(logs.String(), `"level":"warn","message":"gossip is unauthenticated`) {
		t.Fatalf("no secret: keys %x, %v, log %q; want none, a warning", keys, err, logs.String())
	}
	_, err = gossipSecrets(&config.Config{Path: "/etc/s.conf", GossipRequireSecret: true}, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "/etc/s.conf: sentinel gossip-require-secret yes") {
		t.Fatalf("required secret missing: %v, want an error naming the file and directive", err)
	}
}

func TestAdvertiseIPIsWhereHellosComeFrom(t *testing.T) {
	local := []*config.Master{{Name: "mymaster", Host: "127.0.0.1", Port: 6379}}
	for _, tt := range []struct {
		name     string
		cfg      config.Config
		bind     string
		want     string
		warnings []string
	}{
		// The case: no bind, no announce-ip, master on loopback.
		{"source towards the master", config.Config{Masters: local}, "", "127.0.0.1", nil},
		{"announce-ip wins", config.Config{AnnounceIP: "10.1.1.1", Masters: local}, "127.0.0.1", "10.1.1.1", nil},
		{"bind differing from the hello address", config.Config{Masters: local}, "127.0.0.2", "127.0.0.2",
			[]string{"hellos to master mymaster carry 127.0.0.1, gossip advertises 127.0.0.2"}},
		{"loopback while a master is not", config.Config{Masters: []*config.Master{{Name: "far", Host: "192.0.2.1", Port: 6379}}},
			"127.0.0.1", "127.0.0.1", []string{"gossip advertises a loopback address"}},
	} {
		ip, warnings := advertiseIP(&tt.cfg, tt.bind)
		if ip != tt.want {
			t.Errorf("%s: advertise %s, want %s", tt.name, ip, tt.want)
		}
		for _, w := range tt.warnings {
			found := false
			for _, got := range warnings {
				found = found || strings.Contains(got, w)
			}
			if !found {
				t.Errorf("%s: warnings %q, want one containing %q", tt.name, warnings, w)
			}
		}
		if tt.warnings == nil && warnings != nil {
			t.Errorf("%s: unexpected warnings %q", tt.name, warnings)
		}
	}
}
