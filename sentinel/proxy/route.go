package proxy

import (
	"net"
	"strconv"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Route is where new and existing connections of one master group may go,
// as this sentinel sees the group now.
type Route struct {
	// Accept is false in TILT or on the minority side of the gossip group:
	// new connections are refused so a load balancer uses other sentinels.
	Accept bool
	// Fenced (minority side): even existing connections are closed, since
	// the majority may be promoting another master right now.
	Fenced bool
	// Master is the "host:port" writes go to; "" while there is none
	// (the master is down and no replica has been promoted yet).
	Master string
	// Replicas are the healthy, connected replicas of Master.
	Replicas []string
	// Wait bounds how long a new connection waits for a master:
	// down-after + failover-timeout, the longest a failover should take.
	Wait time.Duration
}

// Failover states (view.Instance.FailoverState) between the decision to
// promote a replica and its promotion: the old master must not take new
// writes, and the new one does not take them yet.
var promoting = map[string]bool{"select_slave": true, "send_slaveof_noone": true, "wait_promotion": true}

// From reconf_slaves on, the snapshot's master address is the promoted
// replica's, while its flags are still the old master's.
var promoted = map[string]bool{"reconf_slaves": true, "update_config": true}

// RouteOf computes the route of master group m. tilt and ready are the
// sentinel's TILT flag and Daemon.Ready.
func RouteOf(m *view.Master, tilt, ready bool) Route {
	r := Route{Accept: ready && !tilt, Fenced: !ready, Wait: m.DownAfter + m.FailoverTimeout}
	if r.Fenced {
		return r
	}
	down := m.Flags.Has(view.FlagSDown|view.FlagODown) || promoting[m.FailoverState]
	if promoted[m.FailoverState] || !down {
		r.Master = hostPort(m.AddrHost, m.AddrPort)
	}
	for _, rep := range m.Replicas {
		addr := hostPort(rep.IP, rep.Port)
		if addr == r.Master || rep.MasterLinkStatus != "ok" || rep.Flags.Has(view.FlagSDown) ||
			rep.Flags.Has(view.FlagDisconnected) || r.Master == "" ||
			hostPort(rep.MasterHost, rep.MasterPort) != r.Master {
			continue
		}
		r.Replicas = append(r.Replicas, addr)
	}
	return r
}

// Pick returns the backend for a new connection of a listener with role,
// or "" when it has to wait. seq spreads replica connections round robin;
// with no healthy replica left they go to the master.
func (r Route) Pick(role string, seq uint64) string {
	if !r.Accept {
		return ""
	}
	if role == config.ProxyReplicas && len(r.Replicas) > 0 {
		return r.Replicas[seq%uint64(len(r.Replicas))]
	}
	return r.Master
}

// Keeps reports whether an existing connection of a listener with role to
// backend may stay open under this route. A connection to anything but the
// current master is closed, so no write lands on a demoted or cut-off
// master; a replica connection stays while that replica is healthy.
func (r Route) Keeps(role, backend string) bool {
	if r.Fenced {
		return false
	}
	if backend == r.Master && r.Master != "" {
		return true
	}
	if role != config.ProxyReplicas {
		return false
	}
	for _, a := range r.Replicas {
		if a == backend {
			return true
		}
	}
	return false
}

func hostPort(host string, port int) string {
	if host == "" {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
