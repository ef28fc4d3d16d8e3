package status

import (
	"cmp"
	"net"
	"slices"
	"strconv"
	"strings"
)

// View is the rendered model of a Snapshot; it is also the --json output.
type View struct {
	Source  string       `json:"source"`
	Masters []MasterView `json:"masters"`
	// ConfigSave is ok or failing ("" from a sentinel that does not say);
	// while failing, votes and announcements are withheld.
	ConfigSave          string `json:"config_save,omitempty"`
	ConfigSaveError     string `json:"config_save_error,omitempty"`
	ConfigSaveFailingMS int64  `json:"config_save_failing_ms,omitempty"`
	InvalidInput        int64  `json:"invalid_input,omitempty"`
}

// MasterView is one master group.
type MasterView struct {
	Name        string `json:"name"`
	Addr        string `json:"addr"`
	ConfigEpoch int64  `json:"config_epoch"`
	// State is ok, sdown or odown.
	State string `json:"state"`
	// Failover is the failover state while one runs, else empty.
	Failover          string         `json:"failover,omitempty"`
	Flags             string         `json:"flags"`
	Quorum            int            `json:"quorum"`
	KnownSentinels    int            `json:"known_sentinels"`
	DownAfterMS       int64          `json:"down_after_ms"`
	FailoverTimeoutMS int64          `json:"failover_timeout_ms"`
	Offset            *int64         `json:"offset,omitempty"`
	Replicas          []ReplicaView  `json:"replicas"`
	Sentinels         []SentinelView `json:"sentinels"`
	Proxies           []ProxyView    `json:"proxies,omitempty"`
}

// ProxyView is one of the sentinel's proxy listeners for the group.
type ProxyView struct {
	Addr string `json:"addr"`
	Role string `json:"role"`
	// State is listening, not-accepting (TILT or minority) or the bind error.
	State      string `json:"state"`
	Backend    string `json:"backend"` // "" while waiting for a master
	Clients    int    `json:"clients"`
	Waiting    int    `json:"waiting"`
	MaxClients int    `json:"maxclients"`
}

// ReplicaView is one replica and whether it could be promoted.
type ReplicaView struct {
	Addr    string `json:"addr"`
	Role    string `json:"role"`
	State   string `json:"state"`
	Link    string `json:"link"`
	Follows string `json:"follows"`
	Offset  int64  `json:"offset"`
	// Lag is the master's offset minus the replica's, from the sentinel's
	// cached INFO; nil when the master's offset is unknown.
	Lag      *int64 `json:"lag,omitempty"`
	Priority int    `json:"priority"`
	Eligible bool   `json:"eligible"`
	// Reason says why the replica cannot be promoted.
	Reason string `json:"ineligible_reason,omitempty"`
	Flags  string `json:"flags"`
}

// SentinelView is one of the other sentinels.
type SentinelView struct {
	Addr        string `json:"addr"`
	RunID       string `json:"runid"`
	State       string `json:"state"`
	LastHelloMS int64  `json:"last_hello_ms"`
	VotedLeader string `json:"voted_leader,omitempty"`
	VotedEpoch  int64  `json:"voted_epoch"`
	Flags       string `json:"flags"`
}

// Build turns raw replies into a View. Missing or malformed numbers read
// as zero: a status page shows what it can.
func Build(s Snapshot) View {
	v := View{Source: s.Source, Masters: []MasterView{}, ConfigSave: s.Health["config-save"],
		ConfigSaveError: s.Health["config-save-error"], ConfigSaveFailingMS: num(s.Health["config-save-failing-ms"]),
		InvalidInput: num(s.Health["invalid-input"])}
	for _, g := range s.Groups {
		v.Masters = append(v.Masters, buildMaster(g))
	}
	return v
}

func buildMaster(g Group) MasterView {
	m := g.Master
	mv := MasterView{
		Name:              m["name"],
		Addr:              addr(m),
		ConfigEpoch:       num(m["config-epoch"]),
		State:             state(m["flags"]),
		Flags:             m["flags"],
		Quorum:            int(num(m["quorum"])),
		KnownSentinels:    int(num(m["num-other-sentinels"])) + 1,
		DownAfterMS:       num(m["down-after-milliseconds"]),
		FailoverTimeoutMS: num(m["failover-timeout"]),
		Replicas:          []ReplicaView{},
		Sentinels:         []SentinelView{},
	}
	if hasFlag(m["flags"], "failover_in_progress") {
		mv.Failover = cmp.Or(m["failover-state"], "in_progress")
	}
	if g.MasterOffset >= 0 {
		mv.Offset = &g.MasterOffset
	}
	for _, r := range g.Replicas {
		rv := ReplicaView{
			Addr:     addr(r),
			Role:     cmp.Or(r["role-reported"], "?"),
			State:    state(r["flags"]),
			Link:     cmp.Or(r["master-link-status"], "?"),
			Follows:  follows(r),
			Offset:   num(r["slave-repl-offset"]),
			Priority: int(num(r["slave-priority"])),
			Flags:    r["flags"],
			Reason:   ineligible(r),
		}
		rv.Eligible = rv.Reason == ""
		if mv.Offset != nil {
			// The cached INFOs differ in age: a replica can look ahead.
			lag := max(*mv.Offset-rv.Offset, 0)
			rv.Lag = &lag
		}
		mv.Replicas = append(mv.Replicas, rv)
	}
	for _, p := range g.Sentinels {
		sv := SentinelView{
			Addr:        addr(p),
			RunID:       p["runid"],
			State:       state(p["flags"]),
			LastHelloMS: num(p["last-hello-message"]),
			VotedEpoch:  num(p["voted-leader-epoch"]),
			Flags:       p["flags"],
		}
		if l := p["voted-leader"]; l != "?" {
			sv.VotedLeader = l
		}
		mv.Sentinels = append(mv.Sentinels, sv)
	}
	for _, p := range g.Proxies {
		pv := ProxyView{Addr: cmp.Or(p["bound"], p["addr"]), Role: p["role"], Backend: p["backend"],
			Clients: int(num(p["clients"])), Waiting: int(num(p["waiting"])), MaxClients: int(num(p["maxclients"]))}
		switch {
		case p["listening"] != "yes":
			pv.State = "down: " + p["error"]
		case p["accepting"] != "yes":
			pv.State = "not-accepting"
		default:
			pv.State = "listening"
		}
		mv.Proxies = append(mv.Proxies, pv)
	}
	slices.SortFunc(mv.Replicas, func(a, b ReplicaView) int { return strings.Compare(a.Addr, b.Addr) })
	slices.SortFunc(mv.Sentinels, func(a, b SentinelView) int { return strings.Compare(a.Addr, b.Addr) })
	return mv
}

// ineligible is why replica selection would skip r: our sentinels say it
// in failover-ineligible-reason; for others the reasons visible in the map
// (flags, priority 0) are derived.
func ineligible(r map[string]string) string {
	if why := r["failover-ineligible-reason"]; why != "" {
		return why
	}
	for _, f := range []string{"s_down", "o_down", "disconnected"} {
		if hasFlag(r["flags"], f) {
			return f
		}
	}
	if r["slave-priority"] == "0" {
		return "replica-priority-0"
	}
	return ""
}

// follows is the replica's master as its INFO reports it, "-" if none.
func follows(r map[string]string) string {
	if h := r["master-host"]; h != "" && h != "?" {
		return net.JoinHostPort(h, r["master-port"])
	}
	return "-"
}

func state(flags string) string {
	switch {
	case hasFlag(flags, "o_down"):
		return "odown"
	case hasFlag(flags, "s_down"):
		return "sdown"
	case hasFlag(flags, "disconnected"):
		return "disconnected"
	}
	return "ok"
}

func hasFlag(flags, want string) bool {
	return slices.Contains(strings.Split(flags, ","), want)
}

func addr(m map[string]string) string { return net.JoinHostPort(m["ip"], m["port"]) }

func num(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
