package core

import (
	"net/netip"
	"strconv"

	"github.com/seed877ff415/sentinel/election"
)

// The core's one rule for input from the network (hellos, peer messages,
// INFO, vote replies and command arguments): what fails these checks is
// dropped before it can change, and so be saved, any state. A config the
// sentinel wrote therefore always loads again.
const (
	// maxNameLen bounds a master name (Redis has no limit; a name longer
	// than this can not be one we monitor).
	maxNameLen = 256
	// maxHostLen is RFC 1123's limit for a hostname.
	maxHostLen = 253
)

// Rejection is one piece of network input the core dropped as invalid. The
// daemon logs them rate-limited; the counts are in the snapshot.
type Rejection struct {
	Source string // where it came from: RejectHello, RejectPeer, ...
	Reason string // what was wrong, e.g. "port 99999"
}

// Rejection sources.
const (
	RejectHello = "hello"
	RejectPeer  = "peer"
	RejectInfo  = "info"
	RejectVote  = "vote"
)

// reject records invalid input from src.
func (s *State) reject(src, reason string) {
	s.out.Rejected = append(s.out.Rejected, Rejection{Source: src, Reason: reason})
	if s.rejected == nil {
		s.rejected = map[string]uint64{}
	}
	s.rejected[src]++
	s.dirty = true
}

// validIP: an IPv4 or IPv6 address without a zone.
func validIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// validHostname is RFC 1123: dot-separated labels of letters, digits and
// '-', 1 to 63 bytes each, not starting or ending with '-'; 253 bytes at
// most.
func validHostname(h string) bool {
	if h == "" || len(h) > maxHostLen {
		return false
	}
	start := 0
	for i := 0; i <= len(h); i++ {
		if i < len(h) && h[i] != '.' {
			ch := h[i]
			if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '-') {
				return false
			}
			continue
		}
		label := h[start:i]
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		start = i + 1
	}
	return true
}

// validHost accepts an IP, or a hostname when resolve-hostnames is on.
func (s *State) validHost(h string) bool {
	return validIP(h) || (s.opts.ResolveHostnames && validHostname(h))
}

func validPort(p int) bool { return p >= 1 && p <= 65535 }

// validRunID: 40 hex characters, as Redis generates them.
func validRunID(id string) bool {
	if len(id) != 40 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F') {
			return false
		}
	}
	return true
}

// validName: a master name that fits a hello, an event and a config line:
// bounded, no spaces, commas or control bytes.
func validName(n string) bool {
	if n == "" || len(n) > maxNameLen {
		return false
	}
	for i := 0; i < len(n); i++ {
		if ch := n[i]; ch <= ' ' || ch == ',' || ch == 0x7f {
			return false
		}
	}
	return true
}

func validEpoch(e uint64) bool { return e <= election.MaxEpoch }

// hello is a parsed, validated hello message.
type hello struct {
	ip          string
	port        int
	runID       string
	epoch       uint64
	master      string
	masterHost  string
	masterPort  int
	configEpoch uint64
}

// parseHello reads the 8 comma-separated fields of a hello and checks every
// one; reason says what was wrong when ok is false.
func (s *State) parseHello(payload string) (h hello, reason string) {
	var t [8]string
	n := 0
	for start, i := 0, 0; i <= len(payload); i++ {
		if i < len(payload) && payload[i] != ',' {
			continue
		}
		if n == len(t) {
			return h, "more than 8 fields"
		}
		t[n] = payload[start:i]
		n++
		start = i + 1
	}
	if n != len(t) {
		return h, "fewer than 8 fields"
	}
	var err [4]error
	h = hello{ip: t[0], runID: t[2], master: t[4], masterHost: t[5]}
	h.port, err[0] = strconv.Atoi(t[1])
	h.epoch, err[1] = strconv.ParseUint(t[3], 10, 64)
	h.masterPort, err[2] = strconv.Atoi(t[6])
	h.configEpoch, err[3] = strconv.ParseUint(t[7], 10, 64)
	switch {
	case err[0] != nil || !validPort(h.port):
		return h, "sentinel port " + quoteField(t[1])
	case !s.validHost(h.ip):
		return h, "sentinel address " + quoteField(t[0])
	case !validRunID(h.runID):
		return h, "run id " + quoteField(t[2])
	case err[1] != nil || !validEpoch(h.epoch):
		return h, "current epoch " + quoteField(t[3])
	case !validName(h.master):
		return h, "master name " + quoteField(t[4])
	case !s.validHost(h.masterHost):
		return h, "master address " + quoteField(t[5])
	case err[2] != nil || !validPort(h.masterPort):
		return h, "master port " + quoteField(t[6])
	case err[3] != nil || !validEpoch(h.configEpoch):
		return h, "config epoch " + quoteField(t[7])
	}
	return h, ""
}

// quoteField quotes a bad field for a log line, cut to a readable length.
func quoteField(f string) string {
	const limit = 64
	if len(f) > limit {
		f = f[:limit] + "..."
	}
	return strconv.Quote(f)
}

// askedRecently: a vote reply or opinion answer is only taken from a peer
// this sentinel asked within the time an opinion stays valid, so that an
// unsolicited reply can not make a master ODOWN or elect anyone.
func (s *State) askedRecently(si *instance) bool {
	return !si.lastAsk.IsZero() && s.now.Sub(si.lastAsk) <= s.staleAfter()
}

// rejectedCounts is how many inputs were dropped as invalid since start, by
// source.
func (s *State) rejectedCounts() map[string]uint64 {
	out := make(map[string]uint64, len(s.rejected))
	for k, v := range s.rejected {
		out[k] = v
	}
	return out
}
