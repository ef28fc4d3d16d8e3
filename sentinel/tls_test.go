package sentinel

import (
	"strings"
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

// SENTINEL CONFIG SET of tls-*: the whole new configuration is loaded
// before anything changes, relative paths resolve in dir, and a bad one
// leaves the one in use.
func TestPrepareTLS(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1")
	q := ca.Issue(t, "renewed", time.Now().Add(time.Hour), "127.0.0.1")
	cfg := &config.Config{Port: 0, Dir: ca.Dir, TLS: tlsconf.Settings{Port: 26380, CertFile: p.CertFile,
		KeyFile: p.KeyFile, CAFile: ca.CertFile}}
	set, err := tlsconf.Load(cfg.TLS)
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{cfg: cfg, tls: set}
	rest, base, next, err := d.prepareTLS([]string{"announce-port", "1", "TLS-Cert-File", "renewed.crt",
		"tls-key-file", q.KeyFile, "tls-ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 2 || rest[0] != "announce-port" || base != cfg.TLS {
		t.Fatalf("rest %q base %+v", rest, base)
	}
	if got := next.Settings(); got.CertFile != q.CertFile || got.Ciphers != "ECDHE-ECDSA-AES128-GCM-SHA256" {
		t.Fatalf("prepared %+v", got)
	}
	if set.Settings() != cfg.TLS {
		t.Fatal("prepareTLS changed the configuration in use")
	}
	for _, bad := range [][]string{
		{"tls-key-file", q.KeyFile},                                   // not the key of node.crt
		{"tls-cert-file", ""},                                         // tls-port needs a certificate
		{"tls-ca-cert-file", "/nonexistent/ca.crt"},                   // unreadable
		{"tls-key-file-pass", "x"},                                    // the key is not encrypted
		{"tls-ca-cert-file", "", "tls-ca-cert-dir", ca.Dir + "/none"}, // no CA left
	} {
		if _, _, _, err := d.prepareTLS(bad); err == nil || !strings.HasPrefix(err.Error(), "ERR Invalid TLS configuration") {
			t.Errorf("%q: %v, want an invalid TLS configuration", bad, err)
		}
	}
	off := &Daemon{cfg: &config.Config{Port: 26379}}
	if _, _, _, err := off.prepareTLS([]string{"tls-cert-file", p.CertFile}); err != errTLSOff {
		t.Errorf("without TLS: %v", err)
	}
	if rest, _, next, err := off.prepareTLS([]string{"announce-ip", "10.0.0.1"}); err != nil || next != nil || len(rest) != 2 {
		t.Errorf("no tls-* pair: %q %v %v", rest, next, err)
	}
}
