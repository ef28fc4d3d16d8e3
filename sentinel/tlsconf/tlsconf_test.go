package tlsconf

import (
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/testcerts"
)

func settings(ca *testcerts.CA, p testcerts.Pair) Settings {
	return Settings{Port: 1, CertFile: p.CertFile, KeyFile: p.KeyFile, CAFile: ca.CertFile, Replication: true}
}

func TestLoadNamesTheDirectiveAtFault(t *testing.T) {
	ca := testcerts.NewCA(t)
	a := ca.Issue(t, "a", time.Now().Add(time.Hour), "127.0.0.1")
	b := ca.Issue(t, "b", time.Now().Add(time.Hour), "127.0.0.1")
	cases := []struct {
		name      string
		mod       func(*Settings)
		directive string
	}{
		{"key of another cert", func(s *Settings) { s.KeyFile = b.KeyFile }, "tls-cert-file"},
		{"missing key", func(s *Settings) { s.KeyFile = "/nonexistent/key" }, "tls-key-file"},
		{"client key without cert", func(s *Settings) { s.ClientKeyFile = a.KeyFile }, "tls-client-key-file"},
		{"CA not PEM", func(s *Settings) { s.CAFile = a.KeyFile }, "tls-ca-cert-file"},
		{"CA dir missing", func(s *Settings) { s.CADir = "/nonexistent" }, "tls-ca-cert-dir"},
		{"password on a plain key", func(s *Settings) { s.KeyFilePass = "x" }, "tls-key-file"},
		{"TLS 1.1", func(s *Settings) { s.Protocols = "TLSv1.1" }, "tls-protocols"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := settings(ca, a)
			tc.mod(&s)
			_, err := Load(s)
			var te *Error
			if !errors.As(err, &te) || te.Directive != tc.directive {
				t.Fatalf("Load: %v, want an error on %s", err, tc.directive)
			}
		})
	}
	if _, err := Load(settings(ca, a)); err != nil {
		t.Fatalf("good settings: %v", err)
	}
}

// handshake runs one TLS handshake over loopback TCP (buffered, so neither
// side's alert blocks) and returns the server's certificate name.
func handshake(t *testing.T, srv, cli *tls.Config) (string, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	errc := make(chan error, 1)
	go func() {
		a, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer a.Close()
		_ = a.SetDeadline(time.Now().Add(5 * time.Second))
		errc <- tls.Server(a, srv).Handshake()
	}()
	b, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_ = b.SetDeadline(time.Now().Add(5 * time.Second))
	c := tls.Client(b, cli)
	err = c.Handshake()
	// Under TLS 1.3 the server checks the client's certificate after the
	// client is done; closing ends the server's wait either way.
	_ = b.Close()
	if serr := <-errc; err == nil {
		err = serr
	}
	if err != nil {
		return "", err
	}
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

func TestReloadSwapsCertificatesUnderLiveConfigs(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1")
	set, err := Load(settings(ca, p))
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := set.Server(), set.Client("127.0.0.1")
	before := set.Expiries()[0].NotAfter
	if _, err := handshake(t, srv, cli); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	later := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	ca.Issue(t, "node", later, "127.0.0.1") // same files, new contents
	if err := set.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := set.Expiries()[0].NotAfter; !got.Equal(later) || got.Equal(before) {
		t.Fatalf("expiry after reload %v, want %v", got, later)
	}
	if _, err := handshake(t, srv, cli); err != nil {
		t.Fatalf("handshake after reload with the configs made before it: %v", err)
	}
}

func TestClientChecksSANsAndServerChecksClientCerts(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1", "redis.test")
	set, err := Load(settings(ca, p))
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "redis.test"} {
		if _, err := handshake(t, set.Server(), set.Client(host)); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if _, err := handshake(t, set.Server(), set.Client("127.0.0.2")); err == nil {
		t.Error("a certificate without the dialled IP was accepted")
	}
	// A client without a certificate is refused under tls-auth-clients yes
	// and let in under optional.
	bare := &tls.Config{RootCAs: set.Client("x").RootCAs, ServerName: "127.0.0.1"}
	if _, err := handshake(t, set.Server(), bare); err == nil {
		t.Error("a client without a certificate was accepted with tls-auth-clients yes")
	}
	s := settings(ca, p)
	s.AuthClients = AuthOptional
	opt, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, opt.Server(), bare); err != nil {
		t.Errorf("tls-auth-clients optional: %v", err)
	}
}

// Swap changes settings, not only files, under configs handed out before.
func TestSwapReachesLiveConfigs(t *testing.T) {
	ca := testcerts.NewCA(t)
	p := ca.Issue(t, "node", time.Now().Add(time.Hour), "127.0.0.1")
	set, err := Load(settings(ca, p))
	if err != nil {
		t.Fatal(err)
	}
	srv := set.Server()
	bare := &tls.Config{RootCAs: set.Client("x").RootCAs, ServerName: "127.0.0.1"}
	if _, err := handshake(t, srv, bare); err == nil {
		t.Fatal("a client without a certificate was accepted with tls-auth-clients yes")
	}
	s := set.Settings()
	s.AuthClients = AuthNo
	q := ca.Issue(t, "renewed", time.Now().Add(time.Hour), "127.0.0.1")
	s.CertFile, s.KeyFile = q.CertFile, q.KeyFile
	n, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	set.Swap(n)
	name, err := handshake(t, srv, bare)
	if err != nil || name != "renewed" {
		t.Fatalf("after Swap: certificate %q, %v; want renewed and no client certificate asked", name, err)
	}
	if got := set.Settings(); got.AuthClients != AuthNo || got.CertFile != q.CertFile {
		t.Fatalf("Settings after Swap: %+v", got)
	}
}
