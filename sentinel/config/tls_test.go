package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/testcerts"
)

func tlsLines(ca *testcerts.CA, p testcerts.Pair) string {
	return fmt.Sprintf("tls-port 26380\ntls-cert-file %s\ntls-key-file %s\ntls-ca-cert-file %s\n",
		p.CertFile, p.KeyFile, ca.CertFile)
}

func TestTLSOnlyConfig(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1")
	// Relative paths resolve against dir, as Redis' chdir makes them.
	data := "dir " + ca.Dir + "\nport 0\n" + strings.ReplaceAll(tlsLines(ca, p), ca.Dir+"/", "") +
		"tls-replication yes\ntls-auth-clients optional\ntls-protocols \"TLSv1.2 TLSv1.3\"\n" +
		"tls-session-caching no\nsentinel gossip-key " + strings.Repeat("A", 22) + "==\n"
	c, err := Parse(filepath.Join(ca.Dir, "sentinel.conf"), []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 0 || c.TLS.Port != 26380 || !c.TLS.Replication || c.TLS.AuthClients != "optional" ||
		c.TLS.CertFile != p.CertFile || c.TLS.CAFile != ca.CertFile {
		t.Fatalf("parsed %+v", c.TLS)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "tls-session-caching") {
		t.Errorf("warnings %q, want one for tls-session-caching", c.Warnings)
	}
	// A rewrite keeps unchanged TLS lines as written, relative paths too.
	out := string(Render([]byte(data), c))
	for _, l := range strings.Split(strings.TrimSpace(data), "\n") {
		if strings.HasPrefix(l, "tls-") && !strings.Contains(out, l+"\n") {
			t.Errorf("rewrite lost %q:\n%s", l, out)
		}
	}
	if !strings.Contains(out, "\nport 0\n") {
		t.Errorf("rewrite lost port 0:\n%s", out)
	}
}

func TestTLSErrorsNameTheLine(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1")
	other := ca.Issue(t, "other", time.Now().Add(time.Hour), "127.0.0.1")
	cases := []struct {
		name, conf, directive, text string
	}{
		{"port 0 without a gossip secret", "port 0\n" + tlsLines(ca, p), "port", "port 0"},
		{"key of another certificate", tlsLines(ca, p) + "tls-key-file " + other.KeyFile + "\n",
			"tls-cert-file", "tls-cert-file " + p.CertFile},
		{"unreadable CA", tlsLines(ca, p) + "tls-ca-cert-dir /nonexistent\n", "tls-ca-cert-dir", "tls-ca-cert-dir /nonexistent"},
		{"client key without its certificate", tlsLines(ca, p) + "tls-client-key-file " + p.KeyFile + "\n",
			"tls-client-key-file", "tls-client-key-file " + p.KeyFile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("sentinel.conf", []byte(tc.conf))
			errs := lineErrors(t, err)
			if len(errs) != 1 || errs[0].Directive != tc.directive || errs[0].Text != tc.text {
				t.Fatalf("errors %v, want one on %q (%s)", err, tc.text, tc.directive)
			}
		})
	}
}

// SENTINEL CONFIG SET changes tls-* settings; the rewrite replaces their
// lines in place, appends new ones and drops those set to "".
func TestTLSRewriteAfterChange(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1")
	q := ca.Issue(t, "renewed", time.Now().Add(time.Hour), "127.0.0.1")
	data := "dir " + ca.Dir + "\nport 0\n" + strings.ReplaceAll(tlsLines(ca, p), ca.Dir+"/", "") +
		"tls-auth-clients optional\nsentinel gossip-key " + strings.Repeat("A", 22) + "==\n"
	c, err := Parse(filepath.Join(ca.Dir, "sentinel.conf"), []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	c.TLS.CertFile, c.TLS.KeyFile = q.CertFile, q.KeyFile
	c.TLS.Ciphers = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"
	c.TLS.AuthClients = ""
	out := string(Render([]byte(data), c))
	for _, want := range []string{
		"\ntls-port 26380\ntls-cert-file " + q.CertFile + "\ntls-key-file " + q.KeyFile + "\ntls-ca-cert-file ca.crt\n",
		"\n" + rewriteMarker + "\n",
		"\ntls-ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rewrite lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "tls-auth-clients") {
		t.Errorf("tls-auth-clients set to the default is still written:\n%s", out)
	}
	again, err := Parse(c.Path, []byte(out))
	if err != nil {
		t.Fatalf("the rewrite does not parse: %v\n%s", err, out)
	}
	if again.TLS != c.TLS {
		t.Fatalf("TLS after a rewrite and a parse:\n%+v\nwant\n%+v", again.TLS, c.TLS)
	}
}

func TestTLSCipherDirectives(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1")
	data := tlsLines(ca, p) + "tls-ciphers ECDHE-RSA-AES128-GCM-SHA256\ntls-ciphersuites TLS_AES_256_GCM_SHA384\n" +
		"tls-prefer-server-ciphers yes\n"
	c, err := Parse("sentinel.conf", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS.Ciphers != "ECDHE-RSA-AES128-GCM-SHA256" || c.TLS.CipherSuites != "TLS_AES_256_GCM_SHA384" {
		t.Fatalf("parsed %+v", c.TLS)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "tls-prefer-server-ciphers") {
		t.Errorf("warnings %q, want one for tls-prefer-server-ciphers", c.Warnings)
	}
}
