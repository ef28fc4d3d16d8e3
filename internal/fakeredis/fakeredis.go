package fakeredis

import (
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/seed877ff415/sentinel/monitor"
)

// Instance is one Redis instance.
type Instance struct {
	Host     string
	Port     int
	Alive    bool
	RunID    string
	Role     string // "master" or "slave", as INFO spells it
	Master   string // "host:port" when a replica
	Offset   int64
	Priority int
}

// Addr is the instance's "host:port", its key in a Set.
func (r *Instance) Addr() string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }

// Set is the instances of a test's world by address.
type Set map[string]*Instance

// Add puts r into s under its address.
func (s Set) Add(r *Instance) { s[r.Addr()] = r }

// Reachable reports whether a link to addr connects: an instance is there
// and alive.
func (s Set) Reachable(addr string) bool {
	r := s[addr]
	return r != nil && r.Alive
}

// Info is r's INFO. A master lists its live replicas in address order; a
// replica's link is up while its master is alive and still a master.
func (s Set) Info(r *Instance) *monitor.Info {
	info := &monitor.Info{RunID: r.RunID, Role: r.Role, SlavePriority: r.Priority, ReplicaAnnounced: true,
		SlaveReplOffset: r.Offset, ReplOffset: r.Offset}
	if r.Role == "master" {
		var reps []string
		for a, x := range s {
			if x.Role == "slave" && x.Master == r.Addr() && x.Alive {
				reps = append(reps, a)
			}
		}
		sort.Strings(reps)
		for _, a := range reps {
			x := s[a]
			info.Replicas = append(info.Replicas, monitor.ReplicaEntry{IP: x.Host, Port: x.Port, State: "online", Offset: x.Offset})
		}
		return info
	}
	host, port, _ := net.SplitHostPort(r.Master)
	info.MasterHost = host
	info.MasterPort, _ = strconv.Atoi(port)
	m := s[r.Master]
	info.MasterLinkUp = m != nil && m.Alive && m.Role == "master"
	if !info.MasterLinkUp {
		info.MasterLinkDownSince = time.Second
	}
	return info
}

// Answer carries out a PING, INFO or SLAVEOF sent to r and returns r's
// replies in order, without Key, Request or At; SLAVEOF is answered with
// +OK and then the INFO it leads to, as a link reports it. ok is false for
// any other request, which the caller answers.
func (s Set) Answer(r *Instance, req monitor.Request) (replies []monitor.Observation, ok bool) {
	switch q := req.(type) {
	case monitor.Ping:
		return []monitor.Observation{{Kind: monitor.ObsPingReply, OK: true, Reply: "PONG"}}, true
	case monitor.InfoRequest:
		return []monitor.Observation{{Kind: monitor.ObsInfo, Info: s.Info(r)}}, true
	case monitor.SlaveOf:
		if q.Host == "" {
			r.Role, r.Master = "master", ""
		} else {
			r.Role, r.Master = "slave", net.JoinHostPort(q.Host, strconv.Itoa(q.Port))
		}
		return []monitor.Observation{{Kind: monitor.ObsReply, OK: true}, {Kind: monitor.ObsInfo, Info: s.Info(r)}}, true
	}
	return nil, false
}
