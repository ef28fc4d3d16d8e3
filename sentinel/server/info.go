package server

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

// infoSections are the sections sentinel mode has, in output order: Redis
// Sentinel has no memory, persistence, replication, keyspace or cluster
// section.
var infoSections = []string{"server", "clients", "stats", "cpu", "sentinel"}

// INFO [section ...]: unknown sections are silently dropped; all, everything
// and default (or none) mean all five. Sentinel answers a bulk string even
// under RESP3, unlike a Redis server's verbatim string.
func (s *Server) cmdInfo(_ *client, r *reply, args []string) {
	want := map[string]bool{}
	for _, a := range args[1:] {
		switch sec := strings.ToLower(a); sec {
		case "all", "everything", "default":
			for _, x := range infoSections {
				want[x] = true
			}
		default:
			want[sec] = true
		}
	}
	if len(args) == 1 {
		for _, x := range infoSections {
			want[x] = true
		}
	}
	snap := s.opts.Backend.Snapshot()
	now := time.Now()
	var b strings.Builder
	for _, sec := range infoSections {
		if !want[sec] {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		switch sec {
		case "server":
			s.infoServer(&b, snap, now)
		case "clients":
			s.infoClients(&b)
		case "stats":
			s.infoStats(&b, now)
		case "cpu":
			infoCPU(&b)
		case "sentinel":
			s.infoSentinel(&b, snap, now)
		}
	}
	r.bulk(b.String())
}

func line(b *strings.Builder, k string, v any) {
	fmt.Fprintf(b, "%s:%v\r\n", k, v)
}

// host describes the build and the machine; it never changes while running.
var host = sync.OnceValue(func() (h struct{ os, buildID, exe string }) {
	h.os = runtime.GOOS + " " + runtime.GOARCH
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		// Redis' form: "Linux 6.1.0-18-amd64 x86_64".
		h.os = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) + " " +
			unix.ByteSliceToString(u.Machine[:])
	}
	h.buildID = "0"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" && len(st.Value) >= 15 {
				h.buildID = st.Value[:15] // Redis prints 15 hex digits
			}
		}
	}
	h.exe, _ = os.Executable() // "" if unknown, as Redis prints when it cannot tell
	return h
})

// multiplexingAPI is what Go's network poller uses on this OS.
func multiplexingAPI() string {
	switch runtime.GOOS {
	case "linux", "android":
		return "epoll"
	case "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return "kqueue"
	case "solaris", "illumos":
		return "evport"
	default:
		return runtime.GOOS
	}
}

// infoHz is the rate of the sentinel's timer while all is well (the
// daemon's idle tick of 100 ms), as Redis reports its cron rate.
const infoHz = 10

func (s *Server) infoServer(b *strings.Builder, snap *view.Snapshot, now time.Time) {
	h := host()
	uptime := int64(now.Sub(s.started) / time.Second)
	b.WriteString("# Server\r\n")
	line(b, "redis_version", s.opts.Version)
	line(b, "redis_git_sha1", "00000000")
	line(b, "redis_git_dirty", 0)
	line(b, "redis_build_id", h.buildID)
	line(b, "redis_mode", "sentinel")
	line(b, "os", h.os)
	line(b, "arch_bits", strconv.IntSize)
	line(b, "monotonic_clock", "POSIX clock_gettime") // Go's monotonic clock
	line(b, "multiplexing_api", multiplexingAPI())
	line(b, "atomicvar_api", "go-sync-atomic")
	line(b, "gcc_version", "0.0.0") // what Redis prints when not built by gcc
	line(b, "process_id", os.Getpid())
	line(b, "process_supervised", "no")
	line(b, "run_id", s.runID)
	line(b, "tcp_port", s.port(snap))
	line(b, "server_time_usec", now.UnixMicro())
	line(b, "uptime_in_seconds", uptime)
	line(b, "uptime_in_days", uptime/86400)
	line(b, "hz", infoHz)
	line(b, "configured_hz", infoHz)
	line(b, "lru_clock", now.Unix()&(1<<24-1)) // Redis' 24-bit LRU clock in seconds
	line(b, "executable", h.exe)
	line(b, "config_file", s.opts.ConfigFile)
	line(b, "io_threads_active", 0)
}

// port is the snapshot's port, else the listener's.
func (s *Server) port(snap *view.Snapshot) int {
	if snap.Port != 0 {
		return snap.Port
	}
	if ap, err := netip.ParseAddrPort(s.opts.Listener.Addr().String()); err == nil {
		return int(ap.Port())
	}
	return 0
}

func (s *Server) infoClients(b *strings.Builder) {
	tracking, maxIn, maxOut := 0, int64(0), 0
	all := s.clientList()
	for _, c := range all {
		c.mu.Lock()
		if c.tracking {
			tracking++
		}
		c.mu.Unlock()
		maxIn = max(maxIn, c.inBuffered.Load())
		maxOut = max(maxOut, c.out.pending())
	}
	b.WriteString("# Clients\r\n")
	line(b, "connected_clients", len(all))
	line(b, "cluster_connections", 0)
	line(b, "maxclients", s.maxClients)
	line(b, "client_recent_max_input_buffer", maxIn)
	line(b, "client_recent_max_output_buffer", maxOut)
	line(b, "blocked_clients", 0)
	line(b, "tracking_clients", tracking)
	line(b, "clients_in_timeout_table", 0)
}

// rates turns counters into Redis' instantaneous_* figures: the rate since
// the sample taken at least a second before, refreshed as INFO is asked, so
// that an idle sentinel runs no sampling timer.
type rates struct {
	mu         sync.Mutex
	prev, last rateSample
}

type rateSample struct {
	at             time.Time
	ops, inB, outB int64
}

func (r *rates) rate(now time.Time, cur rateSample) (ops, inKbps, outKbps float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur.at = now
	if r.last.at.IsZero() || now.Sub(r.last.at) >= time.Second {
		r.prev, r.last = r.last, cur
	}
	base := r.prev
	dt := now.Sub(base.at).Seconds()
	if base.at.IsZero() || dt <= 0 {
		return 0, 0, 0
	}
	return float64(cur.ops-base.ops) / dt, float64(cur.inB-base.inB) / 1024 / dt, float64(cur.outB-base.outB) / 1024 / dt
}

// infoStats has every field of Redis Sentinel 7.0, in its order. Keys,
// replication, eviction, forks and defrag do not exist in a sentinel: 0.
func (s *Server) infoStats(b *strings.Builder, now time.Time) {
	channels, patterns := s.ps.totals()
	st := &s.stats
	ops, inK, outK := s.rates.rate(now, rateSample{ops: st.commands.Load(), inB: st.inBytes.Load(), outB: st.outBytes.Load()})
	zero := func(keys ...string) {
		for _, k := range keys {
			line(b, k, 0)
		}
	}
	b.WriteString("# Stats\r\n")
	line(b, "total_connections_received", st.conns.Load())
	line(b, "total_commands_processed", st.commands.Load())
	line(b, "instantaneous_ops_per_sec", int64(ops))
	line(b, "total_net_input_bytes", st.inBytes.Load())
	line(b, "total_net_output_bytes", st.outBytes.Load())
	zero("total_net_repl_input_bytes", "total_net_repl_output_bytes")
	line(b, "instantaneous_input_kbps", fmt.Sprintf("%.2f", inK))
	line(b, "instantaneous_output_kbps", fmt.Sprintf("%.2f", outK))
	line(b, "instantaneous_input_repl_kbps", "0.00")
	line(b, "instantaneous_output_repl_kbps", "0.00")
	line(b, "rejected_connections", st.rejected.Load())
	zero("sync_full", "sync_partial_ok", "sync_partial_err", "expired_keys")
	line(b, "expired_stale_perc", "0.00")
	zero("expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds", "evicted_keys", "evicted_clients",
		"total_eviction_exceeded_time", "current_eviction_exceeded_time", "keyspace_hits", "keyspace_misses")
	line(b, "pubsub_channels", channels)
	line(b, "pubsub_patterns", patterns)
	zero("pubsubshard_channels", "latest_fork_usec", "total_forks", "migrate_cached_sockets",
		"slave_expires_tracked_keys", "active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits",
		"active_defrag_key_misses", "total_active_defrag_time", "current_active_defrag_time",
		"tracking_total_keys", "tracking_total_items", "tracking_total_prefixes", "unexpected_error_replies")
	line(b, "total_error_replies", st.errors.Load())
	line(b, "dump_payload_sanitizations", 0)
	line(b, "total_reads_processed", st.reads.Load())
	line(b, "total_writes_processed", st.writes.Load())
	zero("io_threaded_reads_processed", "io_threaded_writes_processed", "reply_buffer_shrinks", "reply_buffer_expands")
}

// infoCPU: a Go process has no main thread doing all the work, so the
// *_main_thread figures are the whole process's, which is what they
// approximate in Redis.
func infoCPU(b *strings.Builder) {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)         // zeros on failure
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children) // (scripts run as children)
	tv := func(t syscall.Timeval) string { return fmt.Sprintf("%d.%06d", t.Sec, t.Usec) }
	b.WriteString("# CPU\r\n")
	line(b, "used_cpu_sys", tv(self.Stime))
	line(b, "used_cpu_user", tv(self.Utime))
	line(b, "used_cpu_sys_children", tv(children.Stime))
	line(b, "used_cpu_user_children", tv(children.Utime))
	line(b, "used_cpu_sys_main_thread", tv(self.Stime))
	line(b, "used_cpu_user_main_thread", tv(self.Utime))
}

func (s *Server) infoSentinel(b *strings.Builder, snap *view.Snapshot, now time.Time) {
	scripts := s.opts.Backend.PendingScripts()
	running := 0
	for _, sc := range scripts {
		if sc.Running {
			running++
		}
	}
	tilt, tiltSince := 0, int64(-1)
	if snap.Tilt {
		tilt, tiltSince = 1, int64(now.Sub(snap.TiltSince)/time.Second)
	}
	b.WriteString("# Sentinel\r\n")
	line(b, "sentinel_masters", len(snap.Masters))
	line(b, "sentinel_tilt", tilt)
	line(b, "sentinel_tilt_since_seconds", tiltSince)
	line(b, "sentinel_total_tilt", snap.TotalTilt) // Redis 8, Valkey 8.1
	line(b, "sentinel_running_scripts", running)
	line(b, "sentinel_scripts_queue_length", len(scripts))
	line(b, "sentinel_simulate_failure_flags", snap.SimulateFailureFlags)
	for i := range snap.Masters {
		m := &snap.Masters[i]
		fmt.Fprintf(b, "master%d:name=%s,status=%s,address=%s:%d,slaves=%d,sentinels=%d\r\n",
			i, m.Name, m.Status, m.IP, m.Port, len(m.Replicas), len(m.Sentinels)+1)
	}
}
