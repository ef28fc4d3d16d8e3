package tlsconf

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/testcerts"
)

func TestPKCS8EncryptedKeys(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1")
	enc := testcerts.EncryptPKCS8(t, p.KeyFile, "s3cret")
	cases := []struct {
		name      string
		mod       func(*Settings)
		directive string // "" = loads
		msg       string
	}{
		{"server key, right password", func(s *Settings) { s.KeyFile, s.KeyFilePass = enc, "s3cret" }, "", ""},
		{"client key, right password", func(s *Settings) {
			s.ClientCertFile, s.ClientKeyFile, s.ClientPass = p.CertFile, enc, "s3cret"
		}, "", ""},
		{"wrong password", func(s *Settings) { s.KeyFile, s.KeyFilePass = enc, "guess" }, "tls-key-file", "wrong password"},
		{"no password", func(s *Settings) { s.KeyFile = enc }, "tls-key-file", "the key is encrypted"},
		{"client key, wrong password", func(s *Settings) {
			s.ClientCertFile, s.ClientKeyFile, s.ClientPass = p.CertFile, enc, "guess"
		}, "tls-client-key-file", "wrong password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := settings(ca, p)
			tc.mod(&s)
			set, err := Load(s)
			if tc.directive == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := handshake(t, set.Server(), set.Client("127.0.0.1")); err != nil {
					t.Fatalf("handshake with the decrypted key: %v", err)
				}
				return
			}
			var te *Error
			if !errors.As(err, &te) || te.Directive != tc.directive || !strings.Contains(err.Error(), tc.msg) ||
				!strings.Contains(err.Error(), enc) {
				t.Fatalf("Load: %v, want an error on %s naming %s and saying %q", err, tc.directive, enc, tc.msg)
			}
		})
	}
}

// A key as OpenSSL writes it (genpkey -aes256: PBES2, PBKDF2 with
// HMAC-SHA256, AES-256-CBC) decrypts too.
func TestOpenSSLEncryptedKey(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	path := filepath.Join(t.TempDir(), "k.pem")
	out, err := exec.Command("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-aes256", "-pass", "pass:s3cret", "-out", path).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl genpkey: %v: %s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "BEGIN ENCRYPTED PRIVATE KEY") {
		t.Fatalf("openssl wrote no PKCS#8 encrypted key:\n%s", data)
	}
	plain, err := decryptKey(data, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(plain)
	if _, err := x509.ParsePKCS8PrivateKey(b.Bytes); err != nil {
		t.Fatalf("decrypted key does not parse: %v", err)
	}
	if _, err := decryptKey(data, "guess"); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("wrong password: %v", err)
	}
}
