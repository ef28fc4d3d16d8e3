package tlsconf

import (
	"crypto/tls"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// openSSLNames maps the OpenSSL names of the TLS 1.2 suites crypto/tls
// offers by default to their IDs; the insecure ones it implements (RSA key
// exchange, CBC-SHA256, 3DES, RC4) are left out on purpose (docs/tls.md).
var openSSLNames = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
}

// tls13Names are the TLS 1.3 suites crypto/tls implements; it offers all
// three and lets no program choose among them.
var tls13Names = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// splitList splits an OpenSSL list: names separated by colons, commas or
// spaces, as OpenSSL accepts them.
func splitList(list string) []string {
	return strings.FieldsFunc(list, func(r rune) bool { return r == ':' || r == ',' || r == ' ' || r == '\t' })
}

// Ciphers parses tls-ciphers, an OpenSSL cipher list for TLS 1.2, into
// crypto/tls suite IDs. Only plain names are understood: OpenSSL's
// keywords (HIGH, DEFAULT) and operators (!, -, +) are refused.
func Ciphers(list string) ([]uint16, error) {
	names := splitList(list)
	if len(names) == 0 {
		return nil, fmt.Errorf("empty cipher list")
	}
	var ids []uint16
	for _, n := range names {
		id, ok := openSSLNames[strings.ToUpper(n)]
		switch {
		case ok:
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		case slices.Contains(tls13Names, strings.ToUpper(n)):
			return nil, fmt.Errorf("%s is a TLS 1.3 suite: list it in tls-ciphersuites", n)
		default:
			return nil, fmt.Errorf("unsupported cipher %q: expected OpenSSL names of %s", n,
				strings.Join(slices.Sorted(maps.Keys(openSSLNames)), ", "))
		}
	}
	return ids, nil
}

// CipherSuites checks tls-ciphersuites, a TLS 1.3 suite list. crypto/tls
// always offers its three TLS 1.3 suites, so the list only has to name
// suites among them; it changes nothing.
func CipherSuites(list string) error {
	names := splitList(list)
	if len(names) == 0 {
		return fmt.Errorf("empty cipher suite list")
	}
	for _, n := range names {
		if !slices.Contains(tls13Names, strings.ToUpper(n)) {
			return fmt.Errorf("unsupported TLS 1.3 suite %q: crypto/tls implements %s", n, strings.Join(tls13Names, ", "))
		}
	}
	return nil
}
