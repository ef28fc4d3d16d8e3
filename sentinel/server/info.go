package server

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

// infoSections are the sections sentinel mode has, in output order (§1.1).
var infoSections = []string{"server", "clients", "stats", "cpu", "sentinel"}

// INFO [section ...]: unknown sections are silently dropped; all, everything
// and default (or none) mean all five.
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
			s.infoStats(&b)
		case "cpu":
			infoCPU(&b)
		case "sentinel":
			s.infoSentinel(&b, snap, now)
		}
	}
	r.verbatim(b.String())
}

func line(b *strings.Builder, k string, v any) {
	fmt.Fprintf(b, "%s:%v\r\n", k, v)
}

func (s *Server) infoServer(b *strings.Builder, snap *view.Snapshot, now time.Time) {
	uptime := int64(now.Sub(s.started) / time.Second)
	exe, _ := os.Executable() // "" if unknown, as Redis prints when it cannot tell
	b.WriteString("# Server\r\n")
	line(b, "redis_version", s.opts.Version)
	line(b, "redis_git_sha1", "00000000")
	line(b, "redis_git_dirty", 0)
	line(b, "redis_mode", "sentinel")
	line(b, "os", runtime.GOOS+" "+runtime.GOARCH)
	line(b, "arch_bits", strconv.IntSize)
	line(b, "go_version", runtime.Version())
	line(b, "process_id", os.Getpid())
	line(b, "process_supervised", "no")
	line(b, "run_id", s.runID)
	line(b, "tcp_port", s.port(snap))
	line(b, "server_time_usec", now.UnixMicro())
	line(b, "uptime_in_seconds", uptime)
	line(b, "uptime_in_days", uptime/86400)
	line(b, "executable", exe)
	line(b, "config_file", s.opts.ConfigFile)
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
	tracking := 0
	all := s.clientList()
	for _, c := range all {
		c.mu.Lock()
		if c.tracking {
			tracking++
		}
		c.mu.Unlock()
	}
	b.WriteString("# Clients\r\n")
	line(b, "connected_clients", len(all))
	line(b, "cluster_connections", 0)
	line(b, "blocked_clients", 0)
	line(b, "tracking_clients", tracking)
	line(b, "clients_in_timeout_table", 0)
}

func (s *Server) infoStats(b *strings.Builder) {
	channels, patterns := s.ps.totals()
	b.WriteString("# Stats\r\n")
	line(b, "total_connections_received", s.stats.conns.Load())
	line(b, "total_commands_processed", s.stats.commands.Load())
	line(b, "total_net_input_bytes", s.stats.inBytes.Load())
	line(b, "total_net_output_bytes", s.stats.outBytes.Load())
	line(b, "rejected_connections", 0)
	line(b, "pubsub_channels", channels)
	line(b, "pubsub_patterns", patterns)
	line(b, "total_error_replies", s.stats.errors.Load())
}

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
	line(b, "sentinel_running_scripts", running)
	line(b, "sentinel_scripts_queue_length", len(scripts))
	line(b, "sentinel_simulate_failure_flags", snap.SimulateFailureFlags)
	for i := range snap.Masters {
		m := &snap.Masters[i]
		fmt.Fprintf(b, "master%d:name=%s,status=%s,address=%s:%d,slaves=%d,sentinels=%d\r\n",
			i, m.Name, m.Status, m.IP, m.Port, len(m.Replicas), len(m.Sentinels)+1)
	}
}
