package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/acl"
)

func TestParseFullConfig(t *testing.T) {
	path, data := fullConfig(t)
	dir := filepath.Dir(path)
	c := mustParse(t, path, data)

	if c.Path != path || c.Dir != dir || c.Port != 26380 || !slices.Equal(c.Bind, []string{"127.0.0.1", "::1"}) {
		t.Errorf("path/dir/port/bind = %q %q %d %q", c.Path, c.Dir, c.Port, c.Bind)
	}
	if c.PidFile != filepath.Join(dir, "sentinel.pid") || c.LogFile != "" || c.RequirePass != "s3cret pass" {
		t.Errorf("pidfile/logfile/requirepass = %q %q %q", c.PidFile, c.LogFile, c.RequirePass)
	}
	if c.ProtectedMode || c.Daemonize || c.DenyScriptsReconfig || !c.ResolveHostnames || !c.AnnounceHostnames {
		t.Errorf("booleans wrong: %+v", c)
	}
	if c.MyID != "0123456789abcdef0123456789abcdef01234567" || c.CurrentEpoch != 4 {
		t.Errorf("myid/current-epoch = %q %d", c.MyID, c.CurrentEpoch)
	}
	if c.AnnounceIP != "10.0.0.100" || c.AnnouncePort != 26390 || c.SentinelUser != "sentinel-admin" || c.SentinelPass != "xAy" {
		t.Errorf("announce/sentinel auth = %q %d %q %q", c.AnnounceIP, c.AnnouncePort, c.SentinelUser, c.SentinelPass)
	}
	if c.GossipPort != 7946 || len(c.GossipKeys) != 2 || c.GossipKeys[0] != "MDEyMzQ1Njc4OWFiY2RlZg==" ||
		!slices.Equal(c.GossipJoin, []string{"10.0.0.2:7946", "sentinel-2.example.com:7946"}) || c.MetricsAddr != ":9355" {
		t.Errorf("extensions = %d %q %q %q", c.GossipPort, c.GossipKeys, c.GossipJoin, c.MetricsAddr)
	}
	if len(c.Masters) != 2 || c.Masters[0].Name != "mymaster" || c.Masters[1].Name != "cache" {
		t.Fatalf("masters = %s", dump(c))
	}
	m := c.Master("mymaster")
	want := &Master{
		Name: "mymaster", Host: "10.0.0.1", Port: 6379, Quorum: 2,
		DownAfter: 5 * time.Second, FailoverTimeout: time.Minute, ParallelSyncs: 2,
		AuthPass: `pa ss"word`, AuthUser: "admin",
		NotificationScript:    "notify.sh",
		ClientReconfigScript:  "reconfig.sh",
		MasterRebootDownAfter: 10 * time.Second,
		RenameCommands:        map[string]string{"config": "GUARDED_CONFIG", "slaveof": "my'slaveof"},
		ConfigEpoch:           3, LeaderEpoch: 4,
		KnownReplicas: []Addr{{Host: "10.0.0.2", Port: 6379}, {Host: "10.0.0.3", Port: 6379}},
		KnownSentinels: []KnownSentinel{
			{Host: "10.0.0.5", Port: 26379, RunID: strings.Repeat("a", 40)},
			{Host: "10.0.0.6", Port: 26379, RunID: strings.Repeat("b", 40)},
		},
		Webhooks: []string{"https://hooks.example.com/sentinel?team=ops", "http://10.0.0.9:8080/b"},
	}
	sameConfig(t, &Config{Masters: []*Master{want}}, &Config{Masters: []*Master{m}})
	if len(c.Warnings) != 3 || !strings.Contains(c.Warnings[0], "'repl-diskless-sync-delay 0'") {
		t.Errorf("warnings = %q", c.Warnings)
	}
}

func TestParseDefaults(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, "etc/sentinel.conf", []byte("sentinel monitor m 127.0.0.1 6379 1\n"))
	if c.Port != DefaultPort || !c.DenyScriptsReconfig || c.ProtectedMode || c.ResolveHostnames || c.Dir != wd {
		t.Errorf("config defaults wrong: %s", dump(c))
	}
	m := c.Master("m")
	if m.DownAfter != 30*time.Second || m.FailoverTimeout != 180*time.Second || m.ParallelSyncs != 1 ||
		m.MasterRebootDownAfter != 0 || m.RenameCommands == nil {
		t.Errorf("master defaults wrong: %+v", m)
	}
	if c.Master("other") != nil {
		t.Error("Master(other) found a master that is not configured")
	}
}

func TestParseMalformedLines(t *testing.T) {
	const header = "# header\nsentinel monitor mymaster 127.0.0.1 6379 2\n"
	cases := []struct {
		bad       string // appended after header; the last line is the bad one
		directive string
		msg       string
	}{
		{"sentinel monitor m2 127.0.0.1 6379 0", "sentinel monitor", "Quorum must be 1 or greater."},
		{"sentinel monitor m2 127.0.0.1 6379 two", "sentinel monitor", "Quorum must be 1 or greater."},
		{"sentinel monitor mymaster 127.0.0.2 6379 1", "sentinel monitor", "Duplicate master name."},
		{"sentinel monitor m2 redis.example.com 6379 1", "sentinel monitor", "Can't resolve instance hostname."},
		{"sentinel monitor m2 127.0.0.1 70000 1", "sentinel monitor", "Invalid port number."},
		{"sentinel monitor m2 127.0.0.1 6379", "sentinel monitor", "Unrecognized sentinel configuration statement."},
		{"sentinel down-after-milliseconds mymaster 0", "sentinel down-after-milliseconds", "negative or zero time parameter."},
		{"sentinel failover-timeout mymaster -5", "sentinel failover-timeout", "negative or zero time parameter."},
		{"sentinel down-after-milliseconds nosuch 1000", "sentinel down-after-milliseconds", "No such master with specified name."},
		{"sentinel master-reboot-down-after-period mymaster -1", "sentinel master-reboot-down-after-period", "negative time parameter."},
		{"sentinel parallel-syncs mymaster many", "sentinel parallel-syncs", "value is not an integer or out of range."},
		{"sentinel myid abc", "sentinel myid", "Malformed Sentinel id in myid option."},
		{"sentinel myid " + strings.Repeat("z", 40), "sentinel myid", "Malformed Sentinel id in myid option."},
		{"sentinel current-epoch -1", "sentinel current-epoch", "value is not an integer or out of range."},
		{"sentinel config-epoch mymaster x", "sentinel config-epoch", "value is not an integer or out of range."},
		{"sentinel Frobnicate yes", "sentinel frobnicate", "Unrecognized sentinel configuration statement."},
		{"sentinel", "sentinel", "Unrecognized sentinel configuration statement."},
		{"sentinel deny-scripts-reconfig maybe", "sentinel deny-scripts-reconfig", "Please specify yes or no for the deny-scripts-reconfig options."},
		{"sentinel resolve-hostnames 1", "sentinel resolve-hostnames", "Please specify yes or no for the resolve-hostnames option."},
		{"sentinel announce-port 65536", "sentinel announce-port", "Invalid port number."},
		{"sentinel notification-script mymaster /nonexistent/notify.sh", "sentinel notification-script", "Notification script seems non existing or non executable."},
		{"sentinel client-reconfig-script mymaster /", "sentinel client-reconfig-script", "Client reconfiguration script seems non existing or non executable."},
		{"sentinel known-replica mymaster 10.0.0.2 6379\nsentinel known-slave mymaster 10.0.0.2 6379", "sentinel known-slave", "Duplicate hostname and port for replica."},
		{"sentinel known-replica mymaster replica.example.com 6379", "sentinel known-replica", "Can't resolve instance hostname."},
		{"sentinel known-sentinel mymaster 10.0.0.5 1 r1\nsentinel known-sentinel mymaster 10.0.0.6 1 r1", "sentinel known-sentinel", "Duplicate runid for sentinel."},
		{"sentinel rename-command mymaster config a\nsentinel rename-command mymaster CONFIG b", "sentinel rename-command", "Same command renamed multiple times with rename-command."},
		{"sentinel gossip-key bm90IGEga2V5", "sentinel gossip-key", "Invalid gossip key: expected base64 of a 16, 24 or 32 byte key."},
		{"sentinel gossip-join nohostport", "sentinel gossip-join", "Invalid address: expected host:port."},
		{"sentinel gossip-require-secret 1", "sentinel gossip-require-secret", "Please specify yes or no for the gossip-require-secret option."},
		{"sentinel metrics-addr :99999", "sentinel metrics-addr", "Invalid address: expected host:port."},
		{"sentinel notification-webhook mymaster ftp://example.com/x", "sentinel notification-webhook", "Invalid webhook URL: expected an http or https URL."},
		{"port 70000", "port", "argument must be between 0 and 65535 inclusive"},
		{"port abc", "port", "argument couldn't be parsed into an integer"},
		{"maxclients 0", "maxclients", "argument must be between 1 and 2147483647 inclusive"},
		{"maxclients many", "maxclients", "argument couldn't be parsed into an integer"},
		{"port 1 2", "port", "wrong number of arguments"},
		{"logfile", "logfile", "wrong number of arguments"},
		{"daemonize maybe", "daemonize", "argument must be 'yes' or 'no'"},
		{"protected-mode 1", "protected-mode", "argument must be 'yes' or 'no'"},
		{`requirepass "abc`, "requirepass", "Unbalanced quotes in configuration line"},
		{`requirepass "abc"def`, "requirepass", "Unbalanced quotes in configuration line"},
		{"appendonlyy yes", "appendonlyy", "Bad directive or wrong number of arguments"},
		{"include /etc/redis/common.conf", "include", "include is not supported: put the directives in this file"},
		{"dir /nonexistent", "dir", "cannot change to directory /nonexistent: no such file or directory"},
		{"dir /etc/hostname", "dir", "cannot change to directory /etc/hostname: not a directory"},
		// Never plaintext when TLS was asked for (issue 8).
		{"port 0", "port", "port 0 needs a tls-port: nothing would listen"},
		{"tls-port 26380", "tls-port", "tls-port needs tls-cert-file and tls-key-file"},
		{"tls-replication yes", "tls-replication", "needs tls-ca-cert-file or tls-ca-cert-dir to verify peers"},
		{"tls-frobnicate yes", "tls-frobnicate", "not supported: refusing to start rather than ignore a TLS setting (docs/tls.md)"},
		{"tls-ciphers TLS_AES_128_GCM_SHA256", "tls-ciphers", "TLS_AES_128_GCM_SHA256 is a TLS 1.3 suite: list it in tls-ciphersuites"},
		{"tls-ciphersuites TLS_AES_128_CCM_SHA256", "tls-ciphersuites", `unsupported TLS 1.3 suite "TLS_AES_128_CCM_SHA256": ` +
			"crypto/tls implements TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256"},
		{"TLS-Auth-Clients maybe", "tls-auth-clients", "argument must be 'yes', 'no' or 'optional'"},
		{"tls-protocols TLSv1", "tls-protocols", `unsupported protocol "TLSv1": expected TLSv1.2 and/or TLSv1.3`},
		{"user", "user", "Bad directive or wrong number of arguments"},
		{"user admin on >pw +nosuch", "user", "Error in user declaration '+nosuch': Unknown command or category name in ACL"},
		{"user admin on #abc", "user", "Error in user declaration '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"},
		{"user admin on\nuser admin off", "user", "Duplicate user found."},
		{`user "a b" on`, "user", "Usernames can't contain spaces or null characters"},
	}
	for _, tc := range cases {
		t.Run(tc.bad, func(t *testing.T) {
			data := header + tc.bad + "\n# trailer\n"
			_, err := Parse("conf/sentinel.conf", []byte(data))
			errs := lineErrors(t, err)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1: %v", len(errs), err)
			}
			lines := strings.Split(tc.bad, "\n")
			want := LineError{
				File:      "conf/sentinel.conf",
				Line:      2 + len(lines),
				Text:      lines[len(lines)-1],
				Directive: tc.directive,
				Msg:       tc.msg,
			}
			if *errs[0] != want {
				t.Errorf("got  %+v\nwant %+v", *errs[0], want)
			}
		})
	}
}

func TestLineErrorFormat(t *testing.T) {
	_, err := Parse("sentinel.conf", []byte("\n\nsentinel monitor m 127.0.0.1 6379 0\n"))
	const want = "sentinel.conf:3: 'sentinel monitor m 127.0.0.1 6379 0': sentinel monitor: Quorum must be 1 or greater."
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

func TestParseReportsEveryBadLineInLineOrder(t *testing.T) {
	// Line 2 is applied in the last pass and line 4 in the first: the
	// report is still in file order.
	data := strings.Join([]string{
		"port 1",
		"sentinel down-after-milliseconds ghost 100",
		"frobnicate",
		"sentinel myid short",
		"sentinel monitor m 127.0.0.1 6379 1",
		`bind "unterminated`,
	}, "\n")
	errs := lineErrors(t, func() error { _, err := Parse("s.conf", []byte(data)); return err }())
	var got []int
	for _, e := range errs {
		got = append(got, e.Line)
	}
	if want := []int{2, 3, 4, 6}; !slices.Equal(got, want) {
		t.Fatalf("bad lines = %v, want %v", got, want)
	}
}

func TestParsePerMasterLinesBeforeMonitor(t *testing.T) {
	data := `sentinel known-replica m 10.0.0.2 6379
sentinel config-epoch m 7
sentinel down-after-milliseconds m 1500
sentinel auth-pass m pw
sentinel current-epoch 2
sentinel monitor m 10.0.0.1 6379 2
`
	c := mustParse(t, "s.conf", []byte(data))
	m := c.Master("m")
	if m == nil || m.DownAfter != 1500*time.Millisecond || m.AuthPass != "pw" || m.ConfigEpoch != 7 ||
		!slices.Equal(m.KnownReplicas, []Addr{{Host: "10.0.0.2", Port: 6379}}) {
		t.Fatalf("master = %+v", m)
	}
	// A config-epoch above current-epoch raises it, as in Redis.
	if c.CurrentEpoch != 7 {
		t.Errorf("current-epoch = %d, want 7", c.CurrentEpoch)
	}
}

func TestParseHostnames(t *testing.T) {
	lines := "sentinel monitor m redis-0.nowhere.invalid 6379 2\nsentinel known-replica m redis-1.nowhere.invalid 6379\n"
	if _, err := Parse("s.conf", []byte(lines)); err == nil {
		t.Fatal("hostnames accepted without resolve-hostnames")
	}
	// resolve-hostnames may come after the monitor line (first pass), and
	// names are not resolved at load: .invalid never resolves.
	c := mustParse(t, "s.conf", []byte(lines+"sentinel resolve-hostnames yes\n"))
	m := c.Master("m")
	if m.Host != "redis-0.nowhere.invalid" || m.KnownReplicas[0].Host != "redis-1.nowhere.invalid" {
		t.Fatalf("master = %+v", m)
	}
	if _, err := Parse("s.conf", []byte("sentinel resolve-hostnames yes\nsentinel monitor m bad_host! 6379 1\n")); err == nil {
		t.Error("malformed hostname accepted")
	}
	c = mustParse(t, "s.conf", []byte("sentinel monitor m6 ::1 6379 1\n"))
	if c.Master("m6").Host != "::1" {
		t.Errorf("IPv6 host = %q", c.Master("m6").Host)
	}
}

func TestParseWarnsOnIgnoredDirectives(t *testing.T) {
	data := `repl-diskless-sync-delay 0
enable-protected-configs yes
aclfile /etc/redis/users.acl
enable-debug-assert no
latency-tracking-info-percentiles 50 99 99.9
sentinel monitor m 10.0.0.1 6379 1
sentinel known-sentinel m 10.0.0.5 26379
`
	c := mustParse(t, "sentinel.conf", []byte(data))
	want := []string{
		"sentinel.conf:1: 'repl-diskless-sync-delay 0': directive ignored in sentinel mode",
		"sentinel.conf:2: 'enable-protected-configs yes': directive ignored in sentinel mode",
		"sentinel.conf:3: 'aclfile /etc/redis/users.acl': directive ignored in sentinel mode",
		"sentinel.conf:4: 'enable-debug-assert no': directive ignored in sentinel mode",
		"sentinel.conf:5: 'latency-tracking-info-percentiles 50 99 99.9': directive ignored in sentinel mode",
		"sentinel.conf:7: 'sentinel known-sentinel m 10.0.0.5 26379': known-sentinel without run id ignored",
	}
	if !slices.Equal(c.Warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(c.Warnings, "\n"), strings.Join(want, "\n"))
	}
	if len(c.Master("m").KnownSentinels) != 0 {
		t.Error("old known-sentinel form was not ignored")
	}
}

// TestParsePathsResolveAgainstDir: as in Redis, a relative dir is relative
// to the working directory, and logfile and scripts to dir.
func TestParsePathsResolveAgainstDir(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	scripts := filepath.Join(base, "data")
	if err := os.Mkdir(scripts, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(scripts, "notify.sh"), "#!/bin/sh\n", 0o755)
	writeFile(t, filepath.Join(scripts, "plain.sh"), "#!/bin/sh\n", 0o644)

	path := filepath.Join(base, "sentinel.conf")
	data := "logfile s.log\npidfile /run/s.pid\ndir data\nsentinel monitor m 10.0.0.1 6379 1\nsentinel notification-script m notify.sh\n"
	c := mustParse(t, path, []byte(data))
	if c.Dir != scripts || c.LogFile != filepath.Join(scripts, "s.log") || c.PidFile != "/run/s.pid" {
		t.Errorf("dir/logfile/pidfile = %q %q %q", c.Dir, c.LogFile, c.PidFile)
	}
	if got := c.Master("m").NotificationScript; got != "notify.sh" {
		t.Errorf("notification script = %q", got)
	}
	// The rewrite makes dir absolute, as Redis does; the script stays as written.
	if out := string(Render([]byte(data), c)); !strings.Contains(out, "dir \""+scripts+"\"\n") || !strings.Contains(out, " m notify.sh\n") {
		t.Errorf("rewritten:\n%s", out)
	}
	_, err := Parse(path, []byte("dir data\nsentinel monitor m 10.0.0.1 6379 1\nsentinel client-reconfig-script m plain.sh\n"))
	if errs := lineErrors(t, err); errs[0].Line != 3 {
		t.Errorf("non-executable script: %v", err)
	}
}

func TestParseKeywordsAreCaseInsensitive(t *testing.T) {
	c := mustParse(t, "s.conf", []byte("PORT 1234\nSentinel MONITOR m 10.0.0.1 6379 1\nSENTINEL Deny-Scripts-Reconfig NO\n"))
	if c.Port != 1234 || c.Master("m") == nil || c.DenyScriptsReconfig {
		t.Errorf("config = %s", dump(c))
	}
}

func TestGossipRequireSecretRoundTrip(t *testing.T) {
	data := []byte("port 26379\nsentinel gossip-require-secret yes\n")
	c := mustParse(t, "/tmp/sentinel.conf", data)
	if !c.GossipRequireSecret {
		t.Fatal("gossip-require-secret yes not parsed")
	}
	again := mustParse(t, "/tmp/sentinel.conf", Render(data, c))
	if !again.GossipRequireSecret {
		t.Fatalf("the rewrite lost gossip-require-secret:\n%s", Render(data, c))
	}
}

// TestParseUsers: `user` lines become users; a rewrite keeps a line whose
// rules still hold, and stores passwords hashed, as Redis does.
func TestParseUsers(t *testing.T) {
	data := "user default off\nuser admin on >secret ~* &* +@all\nuser app on nopass resetchannels &+switch-* -@all +@connection +sentinel|get-master-addr-by-name\nsentinel current-epoch 0\n"
	c := mustParse(t, "s.conf", []byte(data))
	if len(c.Users) != 3 || c.Users[0].Enabled() || !c.Users[1].CheckPassword("secret") || !c.Users[2].CanRun("sentinel|get-master-addr-by-name") || c.Users[2].CanRun("sentinel|masters") {
		t.Fatalf("users: %s", dump(c))
	}
	out := string(Render([]byte(data), c))
	for _, want := range []string{
		"user default off\n",
		"user admin on #" + acl.HashPassword("secret") + " ~* &* +@all\n",
		"user app on nopass resetchannels &+switch-* -@all +@connection +sentinel|get-master-addr-by-name\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, rewriteMarker) {
		t.Errorf("users were appended rather than replaced in place:\n%s", out)
	}
	sameConfig(t, c, mustParse(t, "s.conf", []byte(out)))

	// A deleted user's line goes; a new one is appended.
	c.Users = []*acl.User{c.Users[0], acl.NewUser("ops")}
	out = string(Render([]byte(data), c))
	if strings.Contains(out, "user admin") || strings.Contains(out, "user app") || !strings.HasSuffix(out, rewriteMarker+"\nuser ops off resetchannels -@all\n") {
		t.Errorf("after deleting users:\n%s", out)
	}
}
