package server

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// infoLayout returns the section headers and field names of an INFO text.
func infoLayout(t *testing.T, c *testConn, args ...string) (sections, fields []string) {
	t.Helper()
	text := flat(c.do(append([]string{"INFO"}, args...)...))[0]
	for l := range strings.SplitSeq(text, "\r\n") {
		switch {
		case strings.HasPrefix(l, "# "):
			sections = append(sections, l[2:])
		case l != "":
			k, _, ok := strings.Cut(l, ":")
			if !ok {
				t.Fatalf("INFO line without a colon: %q", l)
			}
			fields = append(fields, k)
		}
	}
	return sections, fields
}

func TestInfoSectionsAsRedisSentinel(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	all := []string{"Server", "Clients", "Stats", "CPU", "Sentinel"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, all},
		{[]string{"default"}, all},
		{[]string{"all"}, all},
		{[]string{"everything"}, all},
		{[]string{"EVERYTHING"}, all},
		{[]string{"cpu"}, []string{"CPU"}},
		{[]string{"sentinel"}, []string{"Sentinel"}},
		{[]string{"server", "sentinel", "replication"}, []string{"Server", "Sentinel"}},
		{[]string{"sentinel", "server"}, []string{"Server", "Sentinel"}},
		{[]string{"cpu", "all"}, all},
		{[]string{"clients", "clients"}, []string{"Clients"}},
		{[]string{"memory"}, nil},
		{[]string{"keyspace", "persistence"}, nil},
	} {
		if got, _ := infoLayout(t, c, tc.args...); !slices.Equal(got, tc.want) {
			t.Errorf("INFO %v: sections %v, want %v", tc.args, got, tc.want)
		}
	}
}

// Every field prometheus-redis-exporter reads from a sentinel is present;
// those of a data-holding Redis are not.
func TestInfoHasTheExporterFields(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	_, fields := infoLayout(t, c, "everything")
	for _, f := range []string{
		"redis_version", "redis_build_id", "redis_mode", "os", "arch_bits", "multiplexing_api", "process_id",
		"run_id", "tcp_port", "uptime_in_seconds", "hz", "configured_hz", "lru_clock", "io_threads_active",
		"connected_clients", "maxclients", "client_recent_max_input_buffer", "client_recent_max_output_buffer",
		"blocked_clients", "tracking_clients",
		"total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec",
		"total_net_input_bytes", "total_net_output_bytes", "instantaneous_input_kbps", "instantaneous_output_kbps",
		"rejected_connections", "sync_full", "sync_partial_ok", "sync_partial_err", "expired_keys", "evicted_keys",
		"keyspace_hits", "keyspace_misses", "pubsub_channels", "pubsub_patterns", "latest_fork_usec",
		"unexpected_error_replies", "total_error_replies", "total_reads_processed", "total_writes_processed",
		"used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children",
		"used_cpu_sys_main_thread", "used_cpu_user_main_thread",
		"sentinel_masters", "sentinel_tilt", "sentinel_tilt_since_seconds", "sentinel_total_tilt",
		"sentinel_running_scripts", "sentinel_scripts_queue_length", "sentinel_simulate_failure_flags",
	} {
		if !slices.Contains(fields, f) {
			t.Errorf("INFO lacks %s", f)
		}
	}
	for _, f := range fields {
		if f == "used_memory" || strings.HasPrefix(f, "rdb_") || f == "master_repl_offset" || f == "cluster_enabled" {
			t.Errorf("INFO has %s, which Redis Sentinel has not", f)
		}
	}
	text := flat(c.do("INFO", "server", "clients"))[0]
	for _, want := range []string{"\r\nmaxclients:10000\r\n", "\r\nmultiplexing_api:epoll\r\n", "\r\nos:Linux "} {
		if !strings.Contains(text, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
}

func TestInstantaneousRates(t *testing.T) {
	var r rates
	t0 := time.Unix(1000, 0)
	if ops, _, _ := r.rate(t0, rateSample{ops: 5}); ops != 0 {
		t.Fatalf("first sample has no rate: %v", ops)
	}
	ops, in, out := r.rate(t0.Add(2*time.Second), rateSample{ops: 25, inB: 4096, outB: 2048})
	if ops != 10 || in != 2 || out != 1 {
		t.Fatalf("rate over 2 s: %v ops/s, %v in kbps, %v out kbps", ops, in, out)
	}
	// Asked again within a second: still measured from the older sample.
	if ops, _, _ := r.rate(t0.Add(2500*time.Millisecond), rateSample{ops: 30}); ops != 10 {
		t.Fatalf("rate 0.5 s later: %v", ops)
	}
}
