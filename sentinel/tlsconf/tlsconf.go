package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Client authentication modes of tls-auth-clients.
const (
	AuthYes      = "yes"
	AuthNo       = "no"
	AuthOptional = "optional"
)

// Settings are the tls-* directives as written; paths are absolute.
type Settings struct {
	Port                                      int // tls-port; 0 = no TLS listener
	CertFile, KeyFile, KeyFilePass            string
	ClientCertFile, ClientKeyFile, ClientPass string // default to the server pair, as in Redis
	CAFile, CADir                             string
	AuthClients                               string // yes (default), no, optional
	Protocols                                 string // e.g. "TLSv1.2 TLSv1.3"; "" = both
	Replication                               bool   // tls-replication: links to instances use TLS
}

// Enabled reports whether any TLS is configured: a listener or TLS links.
func (s Settings) Enabled() bool { return s.Port != 0 || s.Replication }

// Error is a problem with one directive's value.
type Error struct {
	Directive string
	Err       error
}

func (e *Error) Error() string { return e.Directive + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Versions parses tls-protocols into the lowest and highest version allowed.
func Versions(protocols string) (lo, hi uint16, err error) {
	names := strings.Fields(protocols)
	if len(names) == 0 {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, n := range names {
		var v uint16
		switch strings.ToLower(n) {
		case "tlsv1.2":
			v = tls.VersionTLS12
		case "tlsv1.3":
			v = tls.VersionTLS13
		default:
			return 0, 0, fmt.Errorf("unsupported protocol %q: expected TLSv1.2 and/or TLSv1.3", n)
		}
		if lo == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	return lo, hi, nil
}

// material is one reading of the files; it is replaced whole.
type material struct {
	server, client *tls.Certificate
	pool           *x509.CertPool
}

// Set holds the current certificates; safe for concurrent use.
type Set struct {
	s      Settings
	lo, hi uint16
	cur    atomic.Pointer[material]
}

// Load reads and checks every file the settings name: the certificates
// parse, each key matches its certificate, the CA gives at least one
// certificate. Errors name the directive at fault.
func Load(s Settings) (*Set, error) {
	if s.ClientCertFile == "" && s.ClientKeyFile == "" {
		s.ClientCertFile, s.ClientKeyFile, s.ClientPass = s.CertFile, s.KeyFile, s.KeyFilePass
	}
	if s.AuthClients == "" {
		s.AuthClients = AuthYes
	}
	lo, hi, err := Versions(s.Protocols)
	if err != nil {
		return nil, &Error{"tls-protocols", err}
	}
	t := &Set{s: s, lo: lo, hi: hi}
	m, err := t.read()
	if err != nil {
		return nil, err
	}
	t.cur.Store(m)
	return t, nil
}

// Reload reads the files again and swaps them in if they are all good;
// otherwise the certificates in use stay.
func (t *Set) Reload() error {
	m, err := t.read()
	if err != nil {
		return err
	}
	t.cur.Store(m)
	return nil
}

func (t *Set) read() (*material, error) {
	var m material
	var err error
	if t.s.CertFile != "" || t.s.KeyFile != "" {
		if m.server, err = pair(t.s.CertFile, t.s.KeyFile, t.s.KeyFilePass, "tls-cert-file", "tls-key-file"); err != nil {
			return nil, err
		}
	}
	if t.s.ClientCertFile != "" || t.s.ClientKeyFile != "" {
		if m.client, err = pair(t.s.ClientCertFile, t.s.ClientKeyFile, t.s.ClientPass,
			"tls-client-cert-file", "tls-client-key-file"); err != nil {
			return nil, err
		}
	}
	if m.pool, err = caPool(t.s.CAFile, t.s.CADir); err != nil {
		return nil, err
	}
	return &m, nil
}

// pair loads a certificate chain and its key, decrypting a legacy
// encrypted PEM key with pass.
func pair(certFile, keyFile, pass, certDir, keyDir string) (*tls.Certificate, error) {
	switch {
	case certFile == "":
		return nil, &Error{keyDir, errors.New("needs " + certDir)}
	case keyFile == "":
		return nil, &Error{certDir, errors.New("needs " + keyDir)}
	}
	certPEM, err := readFile(certFile)
	if err != nil {
		return nil, &Error{certDir, err}
	}
	keyPEM, err := readFile(keyFile)
	if err != nil {
		return nil, &Error{keyDir, err}
	}
	if pass != "" {
		if keyPEM, err = decryptKey(keyPEM, pass); err != nil {
			return nil, &Error{keyDir, err}
		}
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, &Error{certDir, fmt.Errorf("%s with %s: %w", certFile, keyFile, err)}
	}
	return &c, nil
}

// decryptKey decrypts a key in the legacy OpenSSL PEM encryption (the one
// `openssl genrsa -aes256` writes); Go has no PKCS#8 decryption.
func decryptKey(data []byte, pass string) ([]byte, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM key found")
	}
	// Deprecated in Go, but the only encryption it can undo.
	if !x509.IsEncryptedPEMBlock(b) {
		return nil, errors.New("a key password is set but the key is not an encrypted PEM key")
	}
	der, err := x509.DecryptPEMBlock(b, []byte(pass))
	if err != nil {
		return nil, fmt.Errorf("decrypt key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: der}), nil
}

// maxCAFiles bounds a tls-ca-cert-dir scan, maxFileSize each file read.
const (
	maxCAFiles  = 4096
	maxFileSize = 1 << 20
)

// readFile reads a certificate or key file of at most maxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	return data, nil
}

func caPool(file, dir string) (*x509.CertPool, error) {
	if file == "" && dir == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if file != "" {
		data, err := readFile(file)
		if err != nil {
			return nil, &Error{"tls-ca-cert-file", err}
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, &Error{"tls-ca-cert-file", fmt.Errorf("%s: no PEM certificate", file)}
		}
	}
	if dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, &Error{"tls-ca-cert-dir", err}
		}
		found := false
		for i, e := range ents {
			if i == maxCAFiles {
				return nil, &Error{"tls-ca-cert-dir", fmt.Errorf("%s: more than %d files", dir, maxCAFiles)}
			}
			if !e.Type().IsRegular() {
				continue
			}
			data, err := readFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, &Error{"tls-ca-cert-dir", err}
			}
			found = pool.AppendCertsFromPEM(data) || found
		}
		if !found {
			return nil, &Error{"tls-ca-cert-dir", fmt.Errorf("%s: no PEM certificate", dir)}
		}
	}
	return pool, nil
}

// Server is the listener's config: the current certificate, and client
// certificates checked against the CA as tls-auth-clients says.
func (t *Set) Server() *tls.Config {
	base := &tls.Config{MinVersion: t.lo, MaxVersion: t.hi}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		m := t.cur.Load()
		c := &tls.Config{MinVersion: t.lo, MaxVersion: t.hi, Certificates: []tls.Certificate{*m.server}, ClientCAs: m.pool}
		switch t.s.AuthClients {
		case AuthNo:
			c.ClientAuth = tls.NoClientCert
		case AuthOptional:
			c.ClientAuth = tls.VerifyClientCertIfGiven
		default:
			c.ClientAuth = tls.RequireAndVerifyClientCert
		}
		return c, nil
	}
	return base
}

// Client is the config of a link to host (a hostname or IP): the server
// certificate must chain to the CA and name host in its SANs.
func (t *Set) Client(host string) *tls.Config {
	return &tls.Config{
		MinVersion: t.lo, MaxVersion: t.hi, ServerName: host, RootCAs: t.cur.Load().pool,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if c := t.cur.Load().client; c != nil {
				return c, nil
			}
			return &tls.Certificate{}, nil // none: the server decides
		},
	}
}

// Expiry is when one configured certificate stops being valid.
type Expiry struct {
	File     string
	NotAfter time.Time
}

// Expiries lists the leaf certificates in use and when they expire.
func (t *Set) Expiries() []Expiry {
	m := t.cur.Load()
	var out []Expiry
	add := func(file string, c *tls.Certificate) {
		if c == nil || len(c.Certificate) == 0 {
			return
		}
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			return // X509KeyPair parsed it already
		}
		out = append(out, Expiry{File: file, NotAfter: leaf.NotAfter})
	}
	add(t.s.CertFile, m.server)
	if t.s.ClientCertFile != t.s.CertFile {
		add(t.s.ClientCertFile, m.client)
	}
	return out
}
