package sentinel

import (
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/testcerts"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/tlsconf"
)

// Hellos announce the port a peer on our transport dials, and links to
// sentinels use TLS exactly when that port is the TLS one.
func TestHelloPortAndLinkTransport(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1")
	cases := []struct {
		port, tlsPort        int
		replication          bool
		hello                int
		instances, sentinels bool
	}{
		{26379, 0, false, 26379, false, false},
		{26379, 0, true, 26379, true, false}, // TLS links to instances only
		{26379, 26380, false, 26379, false, false},
		{26379, 26380, true, 26380, true, true}, // Redis: tls-port with tls-replication
		{0, 26380, false, 26380, false, true},   // the only port there is
		{0, 26380, true, 26380, true, true},
	}
	for _, tc := range cases {
		cfg := &config.Config{Port: tc.port, TLS: tlsconf.Settings{Port: tc.tlsPort, Replication: tc.replication,
			CertFile: p.CertFile, KeyFile: p.KeyFile, CAFile: ca.CertFile}}
		set, err := tlsconf.Load(cfg.TLS)
		if err != nil {
			t.Fatal(err)
		}
		lt := linkTLS(cfg, set)
		if got := helloPort(cfg); got != tc.hello || (lt.Instances != nil) != tc.instances || (lt.Sentinels != nil) != tc.sentinels {
			t.Errorf("port %d tls-port %d replication %v: hello %d, TLS to instances %v, to sentinels %v; want %d %v %v",
				tc.port, tc.tlsPort, tc.replication, got, lt.Instances != nil, lt.Sentinels != nil,
				tc.hello, tc.instances, tc.sentinels)
		}
	}
}
