package tlsconf

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/testcerts"
)

func TestCiphers(t *testing.T) {
	cases := []struct {
		list string
		want []uint16
		err  string
	}{
		{"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256",
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, ""},
		{"ecdhe-ecdsa-chacha20-poly1305, ECDHE-RSA-AES128-SHA ECDHE-RSA-AES128-SHA",
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}, ""},
		{"", nil, "empty cipher list"},
		{":", nil, "empty cipher list"},
		{"HIGH:!aNULL", nil, `unsupported cipher "HIGH"`},
		{"ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384", nil, `unsupported cipher "DHE-RSA-AES256-GCM-SHA384"`},
		{"AES128-GCM-SHA256", nil, `unsupported cipher "AES128-GCM-SHA256"`}, // RSA key exchange: insecure
		{"TLS_AES_256_GCM_SHA384", nil, "TLS_AES_256_GCM_SHA384 is a TLS 1.3 suite: list it in tls-ciphersuites"},
	}
	for _, tc := range cases {
		got, err := Ciphers(tc.list)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("Ciphers(%q): %v", tc.list, err)
		case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
			t.Errorf("Ciphers(%q) error %v, want %q", tc.list, err, tc.err)
		case !slices.Equal(got, tc.want):
			t.Errorf("Ciphers(%q) = %x, want %x", tc.list, got, tc.want)
		}
	}
	// Every name of the table is a suite crypto/tls offers for TLS 1.2.
	secure := map[uint16]bool{}
	for _, s := range tls.CipherSuites() {
		secure[s.ID] = slices.Contains(s.SupportedVersions, tls.VersionTLS12)
	}
	for name, id := range openSSLNames {
		if !secure[id] {
			t.Errorf("%s maps to %s, not a secure TLS 1.2 suite of crypto/tls", name, tls.CipherSuiteName(id))
		}
	}
}

func TestCipherSuites(t *testing.T) {
	for _, ok := range []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"} {
		if err := CipherSuites(ok); err != nil {
			t.Errorf("CipherSuites(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-SHA"} {
		if err := CipherSuites(bad); err == nil {
			t.Errorf("CipherSuites(%q) accepted", bad)
		}
	}
}

// tls-ciphers limits TLS 1.2 handshakes, on the listener and on links.
func TestCiphersApplyToHandshakes(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1")
	s := settings(ca, p)
	s.Protocols, s.Ciphers = "TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"
	set, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, set.Server(), set.Client("127.0.0.1")); err != nil {
		t.Fatalf("handshake with the configured suite: %v", err)
	}
	other := set.Client("127.0.0.1")
	other.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	if _, err := handshake(t, set.Server(), other); err == nil {
		t.Fatal("a client offering only a suite outside tls-ciphers got in")
	}
}
