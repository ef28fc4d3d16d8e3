package tlsconf

import (
	"errors"
	"slices"
	"strings"
)

// Directives are the tls-* directives holding a string, in the order a
// rewrite writes them. All of them can be changed at run time (SENTINEL
// CONFIG SET, docs/tls.md); tls-port and tls-replication cannot.
var Directives = []string{
	"tls-cert-file", "tls-key-file", "tls-key-file-pass",
	"tls-client-cert-file", "tls-client-key-file", "tls-client-key-file-pass",
	"tls-ca-cert-file", "tls-ca-cert-dir", "tls-auth-clients", "tls-protocols", "tls-ciphers", "tls-ciphersuites",
}

// Field is the setting of a directive of Directives (lower case), nil for
// any other.
func (s *Settings) Field(name string) *string {
	switch name {
	case "tls-cert-file":
		return &s.CertFile
	case "tls-key-file":
		return &s.KeyFile
	case "tls-key-file-pass":
		return &s.KeyFilePass
	case "tls-client-cert-file":
		return &s.ClientCertFile
	case "tls-client-key-file":
		return &s.ClientKeyFile
	case "tls-client-key-file-pass":
		return &s.ClientPass
	case "tls-ca-cert-file":
		return &s.CAFile
	case "tls-ca-cert-dir":
		return &s.CADir
	case "tls-auth-clients":
		return &s.AuthClients
	case "tls-protocols":
		return &s.Protocols
	case "tls-ciphers":
		return &s.Ciphers
	case "tls-ciphersuites":
		return &s.CipherSuites
	}
	return nil
}

// IsPath reports whether a directive names a file or directory, which a
// relative value finds under dir.
func IsPath(name string) bool {
	return strings.HasSuffix(name, "-file") || strings.HasSuffix(name, "-dir")
}

// Value checks the form of a value of a directive of Directives and
// returns it as stored; "" is the default. What files hold is Load's to
// check.
func Value(name, v string) (string, error) {
	if v == "" {
		return v, nil
	}
	switch name {
	case "tls-auth-clients":
		v = strings.ToLower(v)
		if !slices.Contains([]string{AuthYes, AuthNo, AuthOptional}, v) {
			return "", errors.New("argument must be 'yes', 'no' or 'optional'")
		}
	case "tls-protocols":
		if _, _, err := Versions(v); err != nil {
			return "", err
		}
	case "tls-ciphers":
		if _, err := Ciphers(v); err != nil {
			return "", err
		}
	case "tls-ciphersuites":
		if err := CipherSuites(v); err != nil {
			return "", err
		}
	}
	return v, nil
}
