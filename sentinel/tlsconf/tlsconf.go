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
	"sync"
	"sync/atomic"
	"time"

	"github.com/youmark/pkcs8"
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
	AuthClients                               string // yes ("" too: the default), no, optional
	Protocols                                 string // e.g. "TLSv1.2 TLSv1.3"; "" = both
	Ciphers                                   string // tls-ciphers, OpenSSL names for TLS 1.2; "" = Go's
	CipherSuites                              string // tls-ciphersuites, checked only (Go picks TLS 1.3 suites)
	Replication                               bool   // tls-replication: links to instances use TLS
}

// clientPair is the pair links present: the client one, else the server's.
func (s Settings) clientPair() (cert, key, pass string) {
	if s.ClientCertFile == "" && s.ClientKeyFile == "" {
		return s.CertFile, s.KeyFile, s.KeyFilePass
	}
	return s.ClientCertFile, s.ClientKeyFile, s.ClientPass
}

// Enabled reports whether any TLS is configured: a listener or TLS links.
func (s Settings) Enabled() bool { return s.Port != 0 || s.Replication }

// Check reports what enabled settings lack, as the daemon refuses to
// start without it; port is the plaintext port (0: TLS only).
func (s Settings) Check(port int) error {
	if !s.Enabled() {
		return nil
	}
	if s.Port != 0 && (s.CertFile == "" || s.KeyFile == "") {
		return &Error{"tls-port", errors.New("tls-port needs tls-cert-file and tls-key-file")}
	}
	// As in Redis, a CA is needed as soon as anyone's certificate is
	// checked; with port 0 the links to peers are TLS too (docs/tls.md).
	if s.CAFile == "" && s.CADir == "" {
		noCA := errors.New("needs tls-ca-cert-file or tls-ca-cert-dir to verify peers")
		switch {
		case s.Replication:
			return &Error{"tls-replication", noCA}
		case s.AuthClients != AuthNo || port == 0:
			return &Error{"tls-port", noCA}
		}
	}
	return nil
}

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

// state is one checked configuration with its files read.
type state struct {
	s      Settings // as given: the client pair left empty defaults to the server's
	lo, hi uint16
	suites []uint16 // nil: crypto/tls's defaults
	material
}

// Set holds the current configuration; safe for concurrent use. Configs
// handed out read it at each handshake, so Reload and Swap reach them.
type Set struct {
	mu      sync.Mutex // serialises Reload and Swap
	cur     atomic.Pointer[state]
	swapped chan struct{} // a pending Swap notice, for Swapped
}

// Load checks the settings and reads every file they name: the
// certificates parse, each key matches its certificate, the CA gives at
// least one certificate. Errors name the directive at fault.
func Load(s Settings) (*Set, error) {
	st := &state{s: s}
	var err error
	if st.lo, st.hi, err = Versions(s.Protocols); err != nil {
		return nil, &Error{"tls-protocols", err}
	}
	if s.Ciphers != "" {
		if st.suites, err = Ciphers(s.Ciphers); err != nil {
			return nil, &Error{"tls-ciphers", err}
		}
	}
	if s.CipherSuites != "" {
		if err := CipherSuites(s.CipherSuites); err != nil {
			return nil, &Error{"tls-ciphersuites", err}
		}
	}
	if st.material, err = read(s); err != nil {
		return nil, err
	}
	t := &Set{swapped: make(chan struct{}, 1)}
	t.cur.Store(st)
	return t, nil
}

// Settings are the settings in use.
func (t *Set) Settings() Settings { return t.cur.Load().s }

// Reload reads the files again and swaps them in if they are all good;
// otherwise the certificates in use stay.
func (t *Set) Reload() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := *t.cur.Load()
	m, err := read(st.s)
	if err != nil {
		return err
	}
	st.material = m
	t.cur.Store(&st)
	return nil
}

// Swap puts n's settings and certificates in use (CONFIG SET), for new
// handshakes; open connections keep theirs.
func (t *Set) Swap(n *Set) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cur.Store(n.cur.Load())
	select {
	case t.swapped <- struct{}{}:
	default: // one notice pending is enough
	}
}

// Swapped receives after a Swap, so the expiry check sees new files at once.
func (t *Set) Swapped() <-chan struct{} { return t.swapped }

func read(s Settings) (material, error) {
	var m material
	var err error
	if s.CertFile != "" || s.KeyFile != "" {
		if m.server, err = pair(s.CertFile, s.KeyFile, s.KeyFilePass, "tls-cert-file", "tls-key-file"); err != nil {
			return m, err
		}
	}
	if cert, key, pass := s.clientPair(); cert != "" || key != "" {
		if m.client, err = pair(cert, key, pass, "tls-client-cert-file", "tls-client-key-file"); err != nil {
			return m, err
		}
	}
	if m.pool, err = caPool(s.CAFile, s.CADir); err != nil {
		return m, err
	}
	return m, nil
}

// pair loads a certificate chain and its key, decrypting an encrypted key
// with pass.
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
	if keyPEM, err = decryptKey(keyPEM, pass); err != nil {
		return nil, &Error{keyDir, fmt.Errorf("%s: %w", keyFile, err)}
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, &Error{certDir, fmt.Errorf("%s with %s: %w", certFile, keyFile, err)}
	}
	return &c, nil
}

// decryptKey returns the key of data in the clear: a PKCS#8 encrypted key
// (`openssl genpkey -aes256`) or one in the legacy OpenSSL PEM encryption
// (`openssl genrsa -aes256`) is decrypted with pass; a key in the clear
// is returned as it is, unless a password was set for it.
func decryptKey(data []byte, pass string) ([]byte, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM key found")
	}
	pkcs8Enc := b.Type == "ENCRYPTED PRIVATE KEY"
	// Deprecated in Go for its weak design, but what older keys use.
	legacy := x509.IsEncryptedPEMBlock(b)
	switch {
	case !pkcs8Enc && !legacy && pass == "":
		return data, nil
	case !pkcs8Enc && !legacy:
		return nil, errors.New("a key password is set but the key is not encrypted")
	case pass == "":
		return nil, errors.New("the key is encrypted: set its password (tls-key-file-pass, tls-client-key-file-pass)")
	case legacy:
		der, err := x509.DecryptPEMBlock(b, []byte(pass))
		if err != nil {
			return nil, fmt.Errorf("decrypt key: wrong password or damaged key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: der}), nil
	}
	key, err := pkcs8.ParsePKCS8PrivateKey(b.Bytes, []byte(pass))
	if err != nil {
		return nil, fmt.Errorf("decrypt PKCS#8 key: wrong password or damaged key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("decrypt PKCS#8 key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
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
// certificates checked against the CA as tls-auth-clients says. The config
// of each handshake is made from the state of the moment.
func (t *Set) Server() *tls.Config {
	return &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		st := t.cur.Load()
		if st.server == nil {
			return nil, errors.New("no tls-cert-file configured")
		}
		c := &tls.Config{MinVersion: st.lo, MaxVersion: st.hi, CipherSuites: st.suites,
			Certificates: []tls.Certificate{*st.server}, ClientCAs: st.pool}
		switch st.s.AuthClients {
		case AuthNo:
			c.ClientAuth = tls.NoClientCert
		case AuthOptional:
			c.ClientAuth = tls.VerifyClientCertIfGiven
		default:
			c.ClientAuth = tls.RequireAndVerifyClientCert
		}
		return c, nil
	}}
}

// Client is the config of a link to host (a hostname or IP): the server
// certificate must chain to the CA and name host in its SANs.
func (t *Set) Client(host string) *tls.Config {
	st := t.cur.Load()
	return &tls.Config{
		MinVersion: st.lo, MaxVersion: st.hi, CipherSuites: st.suites, ServerName: host, RootCAs: st.pool,
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
	st := t.cur.Load()
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
	add(st.s.CertFile, st.server)
	if cert, _, _ := st.s.clientPair(); cert != st.s.CertFile {
		add(cert, st.client)
	}
	return out
}
