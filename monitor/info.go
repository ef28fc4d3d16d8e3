package monitor

import (
	"strconv"
	"strings"
	"time"
)

// defaultSlavePriority is what Redis Sentinel assumes until INFO says otherwise.
const defaultSlavePriority = 100

// MaxReplicas bounds the replicas a master's INFO may list, and so the
// replicas and links a master group keeps: a master listing 20,000 of them
// would otherwise cost hundreds of MiB and stall the sentinel into TILT.
const MaxReplicas = 1000

// MaxSentinels bounds the sentinels a master group learns from hellos.
const MaxSentinels = 256

// ReplicaEntry is one slaveN: line of a master's INFO.
type ReplicaEntry struct {
	IP     string
	Port   int
	State  string
	Offset int64
	Lag    int64 // seconds since the replica's last ACK
}

// Info holds the INFO fields Redis Sentinel reads (docs/behaviour.md §5).
type Info struct {
	RunID               string
	Role                string         // "master", "slave" or "" if absent
	Replicas            []ReplicaEntry // slaveN: lines, the first MaxReplicas
	ReplicasOmitted     int            // slaveN: lines past MaxReplicas, ignored
	MasterHost          string         // replicas
	MasterPort          int
	MasterLinkUp        bool          // master_link_status:up
	MasterLinkDownSince time.Duration // master_link_down_since_seconds × 1s (0 if absent, -1s if never up)
	SlavePriority       int           // slave_priority / replica_priority; 100 if absent
	SlaveReplOffset     int64         // slave_repl_offset (replicas)
	ReplOffset          int64         // master_repl_offset
	ReplicaAnnounced    bool          // replica_announced; true if absent
	Loading             bool          // loading:1
	Text                string        // the whole reply
}

// ParseInfo extracts the fields Redis Sentinel uses from an INFO reply.
// Like Redis, unparsable numbers read as 0 and unknown lines are ignored.
func ParseInfo(text string) Info {
	info := Info{SlavePriority: defaultSlavePriority, ReplicaAnnounced: true, Text: text}
	for line := range strings.Lines(text) {
		key, val, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		if !ok {
			continue
		}
		switch key {
		case "run_id":
			info.RunID = val
		case "role":
			if val == "master" || val == "slave" {
				info.Role = val
			}
		case "master_host":
			info.MasterHost = val
		case "master_port":
			info.MasterPort = atoi(val)
		case "master_link_status":
			info.MasterLinkUp = val == "up"
		case "master_link_down_since_seconds":
			info.MasterLinkDownSince = time.Duration(atoi64(val)) * time.Second
		case "slave_priority", "replica_priority":
			info.SlavePriority = atoi(val)
		case "slave_repl_offset":
			info.SlaveReplOffset = atoi64(val)
		case "master_repl_offset":
			info.ReplOffset = atoi64(val)
		case "replica_announced":
			info.ReplicaAnnounced = atoi(val) != 0
		case "loading":
			info.Loading = val == "1"
		default:
			if isReplicaKey(key) {
				if len(info.Replicas) == MaxReplicas {
					info.ReplicasOmitted++
				} else if e, ok := parseReplicaEntry(val); ok {
					info.Replicas = append(info.Replicas, e)
				}
			}
		}
	}
	return info
}

// isReplicaKey matches "slave0", "slave12"…, but not "slave_priority" or
// "slave_expires_tracked_keys".
func isReplicaKey(key string) bool {
	digits, ok := strings.CutPrefix(key, "slave")
	if !ok || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseReplicaEntry reads "ip=…,port=…,state=…,offset=…,lag=…" or the pre-2.8
// form "ip,port,state".
func parseReplicaEntry(val string) (ReplicaEntry, bool) {
	fields := strings.Split(val, ",")
	var e ReplicaEntry
	if !strings.Contains(val, "ip=") {
		if len(fields) < 3 {
			return e, false
		}
		e = ReplicaEntry{IP: fields[0], Port: atoi(fields[1]), State: fields[2]}
	} else {
		for _, f := range fields {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "ip":
				e.IP = v
			case "port":
				e.Port = atoi(v)
			case "state":
				e.State = v
			case "offset":
				e.Offset = atoi64(v)
			case "lag":
				e.Lag = atoi64(v)
			}
		}
	}
	return e, e.IP != "" && e.Port > 0 && e.Port <= 65535
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n
}
