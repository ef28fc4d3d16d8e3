package view

import (
	"net/netip"
	"strconv"
	"strings"
)

// SetProxy adds, replaces (same role) or with addr "" removes a listener.
func SetProxy(list []Proxy, role, addr string) []Proxy {
	out := make([]Proxy, 0, len(list)+1)
	for _, p := range list {
		if p.Role != role {
			out = append(out, p)
		}
	}
	if addr != "" {
		out = append(out, Proxy{Role: role, Addr: addr})
	}
	return out
}

// ValidHostPort accepts host:port with an IP or hostname (or, unless
// needHost, no host) and a port from 0 to 65535: the form of a proxy
// listener, a gossip peer and the metrics address.
func ValidHostPort(s string, needHost bool) bool {
	host, port, ok := splitHostPort(s)
	if !ok || (needHost && host == "") {
		return false
	}
	if v, err := strconv.Atoi(port); err != nil || v < 0 || v > 65535 {
		return false
	}
	if host == "" {
		return true
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return ValidHostname(host)
}

// splitHostPort is net.SplitHostPort without package net, which the pure
// packages do not import: "host:port" or "[ipv6]:port".
func splitHostPort(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", false
	}
	host, port = s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return "", "", false
		}
		host = host[1 : len(host)-1]
		return host, port, !strings.ContainsAny(host, "[]")
	}
	return host, port, !strings.ContainsAny(host, ":[]")
}

// ValidHostname accepts dot-separated labels of letters, digits, '-' and
// '_', 1 to 63 bytes each, 253 bytes at most.
func ValidHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '-' || ch == '_') {
				return false
			}
		}
	}
	return true
}
