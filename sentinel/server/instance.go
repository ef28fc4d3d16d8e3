package server

import (
	"strconv"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Instance maps (docs/behaviour.md §1.3): field order is fixed because tools index the
// flat RESP2 reply by position; numbers are bulk strings; ages are ms since
// the snapshot's absolute times, computed at reply time.

func masterFields(m *view.Master, now time.Time) []kv {
	in := &m.Instance
	f := commonFields(in, now, true)
	f = append(f, infoFields(in, now)...)
	f = append(f,
		kv{"config-epoch", strconv.FormatUint(in.ConfigEpoch, 10)},
		kv{"num-slaves", strconv.Itoa(len(m.Replicas))},
		kv{"num-other-sentinels", strconv.Itoa(len(m.Sentinels))},
		kv{"quorum", strconv.Itoa(in.Quorum)},
		kv{"failover-timeout", ms(in.FailoverTimeout)},
		kv{"parallel-syncs", strconv.Itoa(in.ParallelSyncs)},
	)
	if in.NotificationScript != "" {
		f = append(f, kv{"notification-script", in.NotificationScript})
	}
	if in.ClientReconfigScript != "" {
		f = append(f, kv{"client-reconfig-script", in.ClientReconfigScript})
	}
	return f
}

func replicaFields(in *view.Instance, now time.Time) []kv {
	f := commonFields(in, now, false)
	f = append(f, infoFields(in, now)...)
	announced := "0"
	if in.ReplicaAnnounced {
		announced = "1"
	}
	f = append(f,
		kv{"master-link-down-time", ms(in.MasterLinkDownTime)},
		kv{"master-link-status", orDefault(in.MasterLinkStatus, "err")},
		kv{"master-host", orDefault(in.MasterHost, "?")},
		kv{"master-port", strconv.Itoa(in.MasterPort)},
		kv{"slave-priority", strconv.Itoa(in.SlavePriority)},
		kv{"slave-repl-offset", strconv.FormatInt(in.SlaveReplOffset, 10)},
		kv{"replica-announced", announced},
	)
	// Our addition, last so that positional readers are unaffected.
	if in.IneligibleReason != "" {
		f = append(f, kv{"failover-ineligible-reason", in.IneligibleReason})
	}
	return f
}

func sentinelFields(in *view.Instance, now time.Time) []kv {
	return append(commonFields(in, now, false),
		kv{"last-hello-message", strconv.FormatInt(msSince(in.LastHelloMessage, now), 10)},
		kv{"voted-leader", orDefault(in.VotedLeader, "?")},
		kv{"voted-leader-epoch", strconv.FormatUint(in.VotedLeaderEpoch, 10)},
	)
}

func commonFields(in *view.Instance, now time.Time, master bool) []kv {
	since := func(t time.Time) string { return strconv.FormatInt(msSince(t, now), 10) }
	f := make([]kv, 0, 24)
	f = append(f,
		kv{"name", in.Name},
		kv{"ip", in.IP},
		kv{"port", strconv.Itoa(in.Port)},
		kv{"runid", in.RunID},
		kv{"flags", in.Flags.String()},
		kv{"link-pending-commands", strconv.Itoa(in.LinkPendingCommands)},
		kv{"link-refcount", strconv.Itoa(in.LinkRefcount)},
	)
	if master && in.FailoverState != "" {
		f = append(f, kv{"failover-state", in.FailoverState})
	}
	f = append(f,
		kv{"last-ping-sent", since(in.PingPendingSince)},
		kv{"last-ok-ping-reply", since(in.LastOKPingReply)},
		kv{"last-ping-reply", since(in.LastPingReply)},
	)
	if !in.SDownSince.IsZero() {
		f = append(f, kv{"s-down-time", since(in.SDownSince)})
	}
	if !in.ODownSince.IsZero() {
		f = append(f, kv{"o-down-time", since(in.ODownSince)})
	}
	return append(f, kv{"down-after-milliseconds", ms(in.DownAfter)})
}

// infoFields are shared by masters and replicas.
func infoFields(in *view.Instance, now time.Time) []kv {
	return []kv{
		{"info-refresh", strconv.FormatInt(msSince(in.InfoRefresh, now), 10)},
		{"role-reported", in.RoleReported},
		{"role-reported-time", strconv.FormatInt(msSince(in.RoleReportedTime, now), 10)},
	}
}

// msSince is 0 for "never" (zero time), as Redis prints for info-refresh and
// last-ping-sent.
func msSince(t, now time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return now.Sub(t).Milliseconds()
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
