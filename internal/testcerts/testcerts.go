// Package testcerts makes a CA and certificates signed by it for tests of
// TLS listeners and links: internal/cluster's CA, failing the test instead
// of returning errors.
package testcerts

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/youmark/pkcs8"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// CA is a certificate authority whose files live in Dir.
type CA struct{ *cluster.CA }

// Pair is a certificate and its key, as files.
type Pair = cluster.CertPair

// NewCA makes a CA in a fresh temporary directory.
func NewCA(t testing.TB) *CA {
	t.Helper()
	ca, err := cluster.NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &CA{ca}
}

// Issue makes a certificate named name, valid until notAfter, for both
// server and client use, with hosts (IPs or DNS names) as its SANs.
func (ca *CA) Issue(t testing.TB, name string, notAfter time.Time, hosts ...string) Pair {
	t.Helper()
	p, err := ca.CA.Issue(name, notAfter, hosts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ClientConfig trusts the CA and presents p, if p has files.
func (ca *CA) ClientConfig(t testing.TB, p Pair) *tls.Config {
	t.Helper()
	c, err := ca.CA.ClientConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// EncryptPKCS8 writes keyFile's key again in PKCS#8 encryption under pass
// (what `openssl genpkey -aes256` writes) and returns the new file's path.
func EncryptPKCS8(t testing.TB, keyFile, pass string) string {
	t.Helper()
	data, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", keyFile)
	}
	key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, err := pkcs8.MarshalPrivateKey(key, []byte(pass), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "encrypted.key")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
