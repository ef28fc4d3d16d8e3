package server

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Healthy master, docs/behaviour.md §1.3: 20 pairs in this exact order.
var masterGolden = []string{
	"name", "mymaster", "ip", "127.0.0.1", "port", "6379", "runid", masterRunID, "flags", "master",
	"link-pending-commands", "0", "link-refcount", "1", "last-ping-sent", "0", "last-ok-ping-reply", "0",
	"last-ping-reply", "0", "down-after-milliseconds", "30000", "info-refresh", "0", "role-reported", "master",
	"role-reported-time", "0", "config-epoch", "3", "num-slaves", "2", "num-other-sentinels", "2",
	"quorum", "2", "failover-timeout", "180000", "parallel-syncs", "1",
}

func TestSentinelMasterReplyBytes(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)

	got := c.do("SENTINEL", "MASTER", "mymaster")
	if want := bulks(masterGolden...); got != want {
		t.Fatalf("RESP2 MASTER:\n got %q\nwant %q", got, want)
	}
	if !strings.HasPrefix(got, "*40\r\n") {
		t.Fatalf("healthy master must be *40, got %q", got[:5])
	}
	if el := flat(got); el[32] != "num-other-sentinels" || el[33] != "2" {
		t.Fatalf("element 33 = %q (key %q), want num-other-sentinels value 2", el[33], el[32])
	}
	if got := c.do("SENTINEL", "MASTERS"); got != "*1\r\n"+bulks(masterGolden...) {
		t.Fatalf("RESP2 MASTERS: %q", got)
	}
	if got := c.do("sentinel", "primary", "mymaster"); got != bulks(masterGolden...) {
		t.Fatalf("PRIMARY alias: %q", got)
	}

	c.do("HELLO", "3")
	got = c.do("SENTINEL", "MASTER", "mymaster")
	want := "%20\r\n" + strings.TrimPrefix(bulks(masterGolden...), "*40\r\n")
	if got != want {
		t.Fatalf("RESP3 MASTER:\n got %q\nwant %q", got, want)
	}
	if got := c.do("SENTINEL", "MASTERS"); got != "*1\r\n"+want {
		t.Fatalf("RESP3 MASTERS must be an array of maps: %q", got)
	}
	if got := c.do("SENTINEL", "MASTER", "nope"); got != "-ERR No such master with that name\r\n" {
		t.Fatalf("unknown master: %q", got)
	}
}

func TestGetMasterAddrByName(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	if got := c.do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"); got != "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n" {
		t.Fatalf("RESP2: %q", got)
	}
	if got := c.do("sentinel", "get-master-addr-by-name", "nope"); got != "*-1\r\n" {
		t.Fatalf("RESP2 unknown: %q", got)
	}
	// The promoted replica's address once the failover reached RECONF_SLAVES.
	snap := fixture()
	snap.Masters[0].AddrHost, snap.Masters[0].AddrPort = "redis-b.example", 6380
	ts.backend.mu.Lock()
	ts.backend.snap = snap
	ts.backend.mu.Unlock()
	c.do("HELLO", "3")
	if got := c.do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"); got != "*2\r\n$15\r\nredis-b.example\r\n$4\r\n6380\r\n" {
		t.Fatalf("RESP3: %q", got)
	}
	if got := c.do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nope"); got != "_\r\n" {
		t.Fatalf("RESP3 unknown: %q", got)
	}
}

func TestReplicasAndSentinels(t *testing.T) {
	snap := fixture()
	r := &snap.Masters[0].Replicas[0]
	r.Flags = view.FlagSDown | view.FlagSlave
	r.SDownSince = time.Now().Add(-1500 * time.Millisecond)
	r.IneligibleReason = "s_down"
	ts := startServer(t, nil)
	ts.backend.snap = snap
	c := ts.dial(t)

	got := c.do("SENTINEL", "REPLICAS", "mymaster")
	if !strings.HasPrefix(got, "*1\r\n*46\r\n") { // unannounced replica omitted; 21 + s-down-time + reason
		t.Fatalf("REPLICAS header: %q", got[:12])
	}
	el := flat(got)
	var keys []string
	for i := 0; i < len(el); i += 2 {
		keys = append(keys, el[i])
	}
	wantKeys := []string{"name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
		"last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "s-down-time", "down-after-milliseconds",
		"info-refresh", "role-reported", "role-reported-time", "master-link-down-time", "master-link-status",
		"master-host", "master-port", "slave-priority", "slave-repl-offset", "replica-announced",
		"failover-ineligible-reason"}
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("replica keys:\n got %v\nwant %v", keys, wantKeys)
	}
	if age, _ := strconv.Atoi(el[21]); age < 1500 || age > 60000 {
		t.Fatalf("s-down-time = %q, want >= 1500 ms", el[21])
	}
	if got2 := c.do("SENTINEL", "SLAVES", "mymaster"); flat(got2)[0] != "name" || len(flat(got2)) != len(el) {
		t.Fatalf("SLAVES alias differs: %q", got2)
	}

	got = c.do("SENTINEL", "SENTINELS", "mymaster")
	want := "*2\r\n" + bulks("name", peerRunID, "ip", "127.0.0.1", "port", "26380", "runid", peerRunID,
		"flags", "sentinel", "link-pending-commands", "0", "link-refcount", "1", "last-ping-sent", "0",
		"last-ok-ping-reply", "0", "last-ping-reply", "0", "down-after-milliseconds", "30000",
		"last-hello-message", "0", "voted-leader", "?", "voted-leader-epoch", "0")
	if !strings.HasPrefix(got, want) {
		t.Fatalf("SENTINELS:\n got %q\nwant prefix %q", got, want)
	}
	c.do("HELLO", "3")
	if got := c.do("SENTINEL", "SENTINELS", "mymaster"); !strings.HasPrefix(got, "*2\r\n%14\r\n") {
		t.Fatalf("RESP3 SENTINELS: %q", got[:12])
	}
	if got := c.do("SENTINEL", "REPLICAS", "nope"); got != "-ERR No such master with that name\r\n" {
		t.Fatalf("unknown: %q", got)
	}
}

func TestConditionalMasterFields(t *testing.T) {
	snap := fixture()
	m := &snap.Masters[0].Instance
	m.Flags = view.FlagSDown | view.FlagODown | view.FlagMaster | view.FlagFailoverInProgress
	m.FailoverState = "wait_promotion"
	m.SDownSince = time.Now().Add(-time.Second)
	m.ODownSince = time.Now().Add(-time.Second)
	m.NotificationScript = "/bin/notify"
	m.ClientReconfigScript = "/bin/reconf"
	ts := startServer(t, nil)
	ts.backend.snap = snap
	el := flat(ts.dial(t).do("SENTINEL", "MASTER", "mymaster"))
	var keys []string
	for i := 0; i < len(el); i += 2 {
		keys = append(keys, el[i])
	}
	want := []string{"name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
		"failover-state", "last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "s-down-time", "o-down-time",
		"down-after-milliseconds", "info-refresh", "role-reported", "role-reported-time", "config-epoch",
		"num-slaves", "num-other-sentinels", "quorum", "failover-timeout", "parallel-syncs",
		"notification-script", "client-reconfig-script"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys:\n got %v\nwant %v", keys, want)
	}
}

func TestCkquorum(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	if got := c.do("SENTINEL", "CKQUORUM", "mymaster"); got != "+OK 3 usable Sentinels. Quorum and failover authorization can be reached\r\n" {
		t.Fatalf("ok: %q", got)
	}
	snap := fixture()
	snap.Masters[0].Sentinels[0].Flags = view.FlagSDown | view.FlagSentinel | view.FlagDisconnected
	snap.Masters[0].Sentinels[1].Flags = view.FlagODown | view.FlagSentinel
	snap.Masters[0].Instance.Quorum = 2
	ts.backend.mu.Lock()
	ts.backend.snap = snap
	ts.backend.mu.Unlock()
	want := "-NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master. " +
		"Not enough available Sentinels to reach the majority and authorize a failover\r\n"
	if got := c.do("SENTINEL", "CKQUORUM", "mymaster"); got != want {
		t.Fatalf("noquorum:\n got %q\nwant %q", got, want)
	}
}

func TestSentinelSubcommands(t *testing.T) {
	ts := startServer(t, nil)
	ts.backend.scripts = []Script{
		{Argv: []string{"/bin/notify", "+sdown", "master mymaster 127.0.0.1 6379"}, Running: true, PID: 42, RunTime: 1500 * time.Millisecond},
		{Argv: []string{"/bin/notify"}, RunDelay: 3 * time.Second, RetryNum: 2},
	}
	snap := fixture()
	snap.Masters[0].Instance.InfoText = "# Replication\r\nrole:master\r\n"
	ts.backend.snap = snap
	c := ts.dial(t)

	cases := []struct {
		args []string
		want string
		call string
	}{
		{[]string{"SENTINEL", "MYID"}, "$40\r\n" + myID + "\r\n", ""},
		{[]string{"SENTINEL", "RESET", "my*"}, ":1\r\n", "reset my*"},
		{[]string{"SENTINEL", "FAILOVER", "mymaster"}, "+OK\r\n", "failover mymaster"},
		{[]string{"SENTINEL", "FLUSHCONFIG"}, "+OK\r\n", "flushconfig"},
		{[]string{"SENTINEL", "REMOVE", "mymaster"}, "+OK\r\n", "remove mymaster"},
		{[]string{"SENTINEL", "SET", "mymaster", "quorum", "3", "down-after-milliseconds", "5000"}, "+OK\r\n", "set mymaster quorum 3 down-after-milliseconds 5000"},
		{[]string{"SENTINEL", "MONITOR", "m2", "10.0.0.5", "6379", "2"}, "+OK\r\n", "monitor m2 10.0.0.5 6379 2"},
		{[]string{"SENTINEL", "MONITOR", "m2", "10.0.0.5", "x", "y"}, "-ERR Invalid quorum\r\n", ""},
		{[]string{"SENTINEL", "MONITOR", "m2", "10.0.0.5", "x", "0"}, "-ERR Invalid port\r\n", ""},
		{[]string{"SENTINEL", "MONITOR", "m2", "10.0.0.5", "6379", "0"}, "-ERR Quorum must be 1 or greater.\r\n", ""},
		{[]string{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "6379", "7", "*"}, "*3\r\n:1\r\n$1\r\n*\r\n:7\r\n", `is-down 127.0.0.1 6379 7 ""`},
		{[]string{"SENTINEL", "IS-PRIMARY-DOWN-BY-ADDR", "127.0.0.1", "6379", "8", "*"}, "*3\r\n:1\r\n$1\r\n*\r\n:8\r\n", `is-down 127.0.0.1 6379 8 ""`},
		{[]string{"SENTINEL", "GET-PRIMARY-ADDR-BY-NAME", "mymaster"}, bulks("127.0.0.1", "6379"), ""},
		{[]string{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "port", "7", "*"}, "-ERR value is not an integer or out of range\r\n", ""},
		{[]string{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "6379", "x", "*"}, "-ERR value is not an integer or out of range\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "GET", "ANNOUNCE-*"}, bulks("announce-hostnames", "no", "announce-ip", "10.0.0.1", "announce-port", "0"), ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "announce-port", "26400"}, "+OK\r\n", "config-set announce-port 26400"},
		{[]string{"SENTINEL", "CONFIG", "GET"},
			"-ERR Only SENTINEL CONFIG GET <option> [<option> ...] / SET <option> <value> [<option> <value> ...] are supported.\r\n", ""},
		// Redis 7.2's forms: several names or globs, several pairs at once.
		{[]string{"SENTINEL", "CONFIG", "GET", "a", "b"}, "*0\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "GET", "announce-port", "*-hostnames", "ANNOUNCE-PORT"},
			bulks("resolve-hostnames", "no", "announce-hostnames", "no", "announce-port", "0"), ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "announce-ip", "10.1.1.1", "Announce-Hostnames", "YES"}, "+OK\r\n",
			"config-set announce-ip 10.1.1.1 Announce-Hostnames YES"},
		{[]string{"SENTINEL", "CONFIG", "SET", "announce-ip", "10.1.1.1", "announce-port", "70000"},
			"-ERR Invalid value '70000' to SENTINEL CONFIG SET 'announce-port'\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "announce-ip", "10.1.1.1", "resolve-hostnames", "maybe"},
			"-ERR Invalid value 'maybe' to SENTINEL CONFIG SET 'resolve-hostnames'\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "announce-ip", "a", "ANNOUNCE-IP", "b"},
			"-ERR Duplicate argument 'ANNOUNCE-IP' to SENTINEL CONFIG SET\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "announce-ip", "a", "announce-port"}, "-ERR Missing argument 'announce-port' value\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "announce-ip", "a", "bind", "x"}, "-ERR Invalid argument 'bind' to SENTINEL CONFIG SET\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "announce-ip"},
			"-ERR Only SENTINEL CONFIG GET <option> [<option> ...] / SET <option> <value> [<option> <value> ...] are supported.\r\n", ""},
		// tls-* (docs/tls.md): the form is checked here, the files by the Backend.
		{[]string{"SENTINEL", "CONFIG", "SET", "TLS-Cert-File", "/etc/n.crt", "tls-key-file", "/etc/n.key", "announce-port", "1"},
			"+OK\r\n", "config-set TLS-Cert-File /etc/n.crt tls-key-file /etc/n.key announce-port 1"},
		{[]string{"SENTINEL", "CONFIG", "SET", "tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256", "tls-ciphersuites", "TLS_AES_128_GCM_SHA256"},
			"+OK\r\n", "config-set tls-ciphers ECDHE-RSA-AES128-GCM-SHA256 tls-ciphersuites TLS_AES_128_GCM_SHA256"},
		{[]string{"SENTINEL", "CONFIG", "SET", "announce-port", "1", "tls-auth-clients", "maybe"},
			"-ERR Invalid value 'maybe' to SENTINEL CONFIG SET 'tls-auth-clients': argument must be 'yes', 'no' or 'optional'\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "tls-ciphers", "HIGH:!aNULL"},
			"-ERR Invalid value 'HIGH:!aNULL' to SENTINEL CONFIG SET 'tls-ciphers': unsupported cipher \"HIGH\": expected OpenSSL names of " +
				"ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-ECDSA-AES128-SHA, ECDHE-ECDSA-AES256-GCM-SHA384, ECDHE-ECDSA-AES256-SHA, " +
				"ECDHE-ECDSA-CHACHA20-POLY1305, ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-SHA, ECDHE-RSA-AES256-GCM-SHA384, " +
				"ECDHE-RSA-AES256-SHA, ECDHE-RSA-CHACHA20-POLY1305\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "tls-protocols", "TLSv1.1"},
			"-ERR Invalid value 'TLSv1.1' to SENTINEL CONFIG SET 'tls-protocols': unsupported protocol \"TLSv1.1\": expected TLSv1.2 and/or TLSv1.3\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "tls-cert-file", "a", "TLS-CERT-FILE", "b"},
			"-ERR Duplicate argument 'TLS-CERT-FILE' to SENTINEL CONFIG SET\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "tls-cert-file", "a", "tls-port", "26380"},
			"-ERR 'tls-port' cannot be changed at run time: edit the config file and restart\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "Port", "0"},
			"-ERR 'Port' cannot be changed at run time: edit the config file and restart\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "tls-replication", "no"},
			"-ERR 'tls-replication' cannot be changed at run time: edit the config file and restart\r\n", ""},
		{[]string{"SENTINEL", "CONFIG", "SET", "tls-prefer-server-ciphers", "yes"},
			"-ERR Invalid argument 'tls-prefer-server-ciphers' to SENTINEL CONFIG SET\r\n", ""},
		{[]string{"SENTINEL", "SIMULATE-FAILURE", "help"}, bulks("crash-after-election", "crash-after-promotion"), ""},
		{[]string{"SENTINEL", "SIMULATE-FAILURE", "bogus"}, "-ERR Unknown failure simulation specified\r\n", ""},
		{[]string{"SENTINEL", "SIMULATE-FAILURE", "CRASH-AFTER-ELECTION"}, "+OK\r\n", "simulate crash-after-election"},
		{[]string{"SENTINEL", "DEBUG", "info-period", "100"}, "+OK\r\n", "debug info-period 100"},
		{[]string{"SENTINEL", "DEBUG"}, bulks("INFO-PERIOD", "10000", "PING-PERIOD", "1000", "ASK-PERIOD", "1000",
			"PUBLISH-PERIOD", "2000", "DEFAULT-DOWN-AFTER", "30000", "DEFAULT-FAILOVER-TIMEOUT", "180000",
			"TILT-TRIGGER", "2000", "TILT-PERIOD", "30000", "SLAVE-RECONF-TIMEOUT", "10000",
			"MIN-LINK-RECONNECT-PERIOD", "15000", "ELECTION-TIMEOUT", "10000", "SCRIPT-MAX-RUNTIME", "60000",
			"SCRIPT-RETRY-DELAY", "30000"), ""},
		{[]string{"SENTINEL", "PENDING-SCRIPTS"}, "*2\r\n*10\r\n$4\r\nargv\r\n" + bulks("/bin/notify", "+sdown", "master mymaster 127.0.0.1 6379") +
			"$5\r\nflags\r\n$7\r\nrunning\r\n$3\r\npid\r\n$2\r\n42\r\n$8\r\nrun-time\r\n$4\r\n1500\r\n$9\r\nretry-num\r\n$1\r\n0\r\n" +
			"*10\r\n$4\r\nargv\r\n" + bulks("/bin/notify") +
			"$5\r\nflags\r\n$9\r\nscheduled\r\n$3\r\npid\r\n$1\r\n0\r\n$9\r\nrun-delay\r\n$4\r\n3000\r\n$9\r\nretry-num\r\n$1\r\n2\r\n", ""},
		{[]string{"SENTINEL", "PROXIES"}, "*0\r\n", ""}, // a backend without proxies
		{[]string{"SENTINEL", "HEALTH"}, bulks("config-save", "ok", "config-save-error", "", "config-save-failing-ms", "0",
			"config-save-failures", "0", "invalid-input", "0"), ""},
		{[]string{"SENTINEL", "INFO-CACHE", "mymaster", "nope", "mymaster"}, "*2\r\n$8\r\nmymaster\r\n*3\r\n*2\r\n:0\r\n$28\r\n# Replication\r\nrole:master\r\n\r\n*2\r\n:0\r\n$-1\r\n*2\r\n:0\r\n$-1\r\n", ""},
	}
	for _, tc := range cases {
		before := ts.backend.lastCall()
		if got := c.do(tc.args...); got != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.args, got, tc.want)
		}
		if tc.call != "" && ts.backend.lastCall() != tc.call {
			t.Errorf("%v: backend saw %q, want %q", tc.args, ts.backend.lastCall(), tc.call)
		}
		if tc.call == "" && ts.backend.lastCall() != before {
			t.Errorf("%v: unexpected backend call %q", tc.args, ts.backend.lastCall())
		}
	}

	// Backend errors keep their own code.
	ts.backend.mu.Lock()
	ts.backend.err = errors.New("INPROG Failover already in progress")
	ts.backend.mu.Unlock()
	if got := c.do("SENTINEL", "FAILOVER", "mymaster"); got != "-INPROG Failover already in progress\r\n" {
		t.Fatalf("backend error: %q", got)
	}

	help := c.do("SENTINEL", "HELP")
	lines := strings.Split(strings.TrimSuffix(help, "\r\n"), "\r\n")
	if !strings.HasPrefix(lines[1], "+SENTINEL <subcommand>") || lines[len(lines)-2] != "+HELP" ||
		lines[0] != "*"+strconv.Itoa(len(lines)-1) {
		t.Fatalf("HELP layout: %q", help)
	}
}

func TestDispatcherErrors(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"FOO", "a", "b"}, "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"},
		{[]string{"CONFIG", "GET", "port"}, "-ERR unknown command 'CONFIG', with args beginning with: 'GET' 'port' \r\n"},
		{[]string{"get"}, "-ERR unknown command 'get', with args beginning with: \r\n"},
		{[]string{"SENTINEL", "FOO"}, "-ERR unknown subcommand 'FOO'. Try SENTINEL HELP.\r\n"},
		{[]string{"client", "foo"}, "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"},
		{[]string{"SENTINEL", "SET", "mymaster", "quorum"}, "-ERR wrong number of arguments for 'sentinel|set' command\r\n"},
		{[]string{"SENTINEL", "MASTER"}, "-ERR wrong number of arguments for 'sentinel|master' command\r\n"},
		{[]string{"SENTINEL"}, "-ERR wrong number of arguments for 'sentinel' command\r\n"},
		{[]string{"PING", "a", "b"}, "-ERR wrong number of arguments for 'ping' command\r\n"},
		{[]string{"PUBLISH", "chan", "x"}, "-ERR Only HELLO messages are accepted by Sentinel instances.\r\n"},
		{[]string{"SELECT", "0"}, "+OK\r\n"},
		{[]string{"SELECT", "1"}, "-ERR DB index is out of range\r\n"},
		{[]string{"PING"}, "+PONG\r\n"},
		{[]string{"PING", "hi"}, "$2\r\nhi\r\n"},
		{[]string{"ROLE"}, "*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n"},
		{[]string{"COMMAND", "COUNT"}, ":15\r\n"},
	}
	for _, tc := range cases {
		if got := c.do(tc.args...); got != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.args, got, tc.want)
		}
	}
	if got := c.do("PUBLISH", "__sentinel__:hello", "127.0.0.1,26380,"+peerRunID+",1,mymaster,127.0.0.1,6379,0"); got != ":1\r\n" {
		t.Fatalf("hello publish: %q", got)
	}
	if ts.backend.hellos[0] != "127.0.0.1,26380,"+peerRunID+",1,mymaster,127.0.0.1,6379,0" {
		t.Fatalf("hello payload: %v", ts.backend.hellos)
	}
	list := flat(c.do("COMMAND", "LIST"))
	if len(list) != 72 || !slices.Contains(list, "sentinel|get-master-addr-by-name") || !slices.Contains(list, "acl|whoami") {
		t.Fatalf("COMMAND LIST has %d names: %v", len(list), list)
	}
	if got := c.do("COMMAND", "INFO", "ping", "nope"); !strings.HasPrefix(got, "*2\r\n*10\r\n$4\r\nping\r\n:-1\r\n") || !strings.HasSuffix(got, "$-1\r\n") {
		t.Fatalf("COMMAND INFO: %q", got)
	}
	if got := c.do("COMMAND", "DOCS", "role"); got != "*2\r\n$4\r\nrole\r\n*8\r\n$7\r\nsummary\r\n$61\r\nReturn the role of the instance in the context of replication\r\n"+
		"$5\r\nsince\r\n$6\r\n2.8.12\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n" {
		t.Fatalf("COMMAND DOCS: %q", got)
	}
}

func TestInfo(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	info := flat(c.do("INFO"))[0]
	var headers []string
	for l := range strings.SplitSeq(info, "\r\n") {
		if strings.HasPrefix(l, "# ") {
			headers = append(headers, l)
		}
	}
	if !slices.Equal(headers, []string{"# Server", "# Clients", "# Stats", "# CPU", "# Sentinel"}) {
		t.Fatalf("sections: %v", headers)
	}
	for _, want := range []string{"\r\nredis_version:7.0.15\r\n", "\r\nredis_mode:sentinel\r\n", "\r\ntcp_port:26379\r\n",
		"\r\nconfig_file:/etc/sentinel.conf\r\n", "\r\nconnected_clients:1\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
	if strings.Contains(info, myID) {
		t.Error("run_id must not be the persisted myid")
	}
	want := "# Sentinel\r\nsentinel_masters:1\r\nsentinel_tilt:0\r\nsentinel_tilt_since_seconds:-1\r\n" +
		"sentinel_total_tilt:0\r\nsentinel_running_scripts:0\r\nsentinel_scripts_queue_length:0\r\nsentinel_simulate_failure_flags:0\r\n" +
		"master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=2,sentinels=3\r\n"
	if got := c.do("INFO", "sentinel", "bogus"); got != "$"+strconv.Itoa(len(want))+"\r\n"+want+"\r\n" {
		t.Fatalf("INFO sentinel:\n got %q\nwant %q", got, want)
	}
	c.do("HELLO", "3")
	if got := c.do("INFO", "sentinel"); got != "$"+strconv.Itoa(len(want))+"\r\n"+want+"\r\n" { // bulk, as Redis Sentinel
		t.Fatalf("RESP3 INFO sentinel: %q", got)
	}
}

// The PRIMARY names of Redis 7.2 and Valkey answer as the MASTER ones.
func TestPrimaryAliases(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	for _, p := range [][2][]string{
		{{"SENTINEL", "PRIMARY", "mymaster"}, {"SENTINEL", "MASTER", "mymaster"}},
		{{"SENTINEL", "PRIMARIES"}, {"SENTINEL", "MASTERS"}},
		{{"SENTINEL", "REPLICAS", "mymaster"}, {"SENTINEL", "SLAVES", "mymaster"}},
	} {
		// Ages in ms may tick between the two calls: compare the field names
		// and the values that do not move.
		a, b := flat(c.do(p[0]...)), flat(c.do(p[1]...))
		if len(a) != len(b) || len(a) == 0 {
			t.Fatalf("%v: %d values, %v: %d", p[0], len(a), p[1], len(b))
		}
		for i := 0; i < len(a); i += 2 {
			if a[i] != b[i] || (!strings.HasPrefix(a[i], "last-") && !strings.HasSuffix(a[i], "-time") && a[i] != "info-refresh" && a[i+1] != b[i+1]) {
				t.Errorf("%v field %d: %s=%s vs %s=%s", p[0], i/2, a[i], a[i+1], b[i], b[i+1])
			}
		}
	}
}
