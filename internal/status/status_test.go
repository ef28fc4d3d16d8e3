package status

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fixture has a group in the middle of a failover (one replica promoted,
// one ineligible by our sentinel's reason, one with priority 0 on a sentinel
// that does not send reasons) and a healthy group without INFO-CACHE.
func fixture() Snapshot {
	return Snapshot{Source: "127.0.0.1:26379", Groups: []Group{
		{
			Master: map[string]string{
				"name": "cache", "ip": "10.0.0.1", "port": "6379", "runid": "a1b2", "flags": "s_down,o_down,master,failover_in_progress",
				"failover-state": "reconf_slaves", "config-epoch": "7", "num-slaves": "3", "num-other-sentinels": "2",
				"quorum": "2", "down-after-milliseconds": "5000", "failover-timeout": "60000",
			},
			MasterOffset: 120500,
			Replicas: []map[string]string{
				{"name": "10.0.0.3:6379", "ip": "10.0.0.3", "port": "6379", "flags": "slave", "role-reported": "slave",
					"master-link-status": "err", "master-host": "10.0.0.1", "master-port": "6379", "slave-priority": "100",
					"slave-repl-offset": "98000", "failover-ineligible-reason": "master-link-down-too-long"},
				{"name": "10.0.0.2:6379", "ip": "10.0.0.2", "port": "6379", "flags": "slave,promoted", "role-reported": "master",
					"master-link-status": "ok", "master-host": "?", "master-port": "0", "slave-priority": "100",
					"slave-repl-offset": "120500"},
				{"name": "10.0.0.4:6379", "ip": "10.0.0.4", "port": "6379", "flags": "slave,reconf_sent", "role-reported": "slave",
					"master-link-status": "ok", "master-host": "10.0.0.1", "master-port": "6379", "slave-priority": "0",
					"slave-repl-offset": "120400"},
			},
			Sentinels: []map[string]string{
				{"name": "ffeeddccbbaa99887766554433221100ffeeddcc", "ip": "10.0.1.2", "port": "26379",
					"runid": "ffeeddccbbaa99887766554433221100ffeeddcc", "flags": "sentinel", "last-hello-message": "412",
					"voted-leader": "0123456789abcdef0123456789abcdef01234567", "voted-leader-epoch": "7"},
				{"name": "0123456789abcdef0123456789abcdef01234567", "ip": "10.0.1.3", "port": "26379",
					"runid": "0123456789abcdef0123456789abcdef01234567", "flags": "s_down,sentinel,disconnected",
					"last-hello-message": "9120", "voted-leader": "?", "voted-leader-epoch": "0"},
			},
		},
		{
			Master: map[string]string{
				"name": "sessions", "ip": "10.0.2.1", "port": "6380", "flags": "master", "config-epoch": "0",
				"num-other-sentinels": "0", "quorum": "1", "down-after-milliseconds": "30000", "failover-timeout": "180000",
			},
			MasterOffset: -1,
			Replicas: []map[string]string{
				{"ip": "10.0.2.2", "port": "6380", "flags": "slave", "role-reported": "slave", "master-link-status": "ok",
					"master-host": "10.0.2.1", "master-port": "6380", "slave-priority": "100", "slave-repl-offset": "5"},
			},
		},
	}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, Build(fixture())); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.golden", buf.Bytes())
}

func TestJSONGolden(t *testing.T) {
	doc, err := json.MarshalIndent(Build(fixture()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "status.json.golden", append(doc, '\n'))
}

func TestBuildEligibility(t *testing.T) {
	v := Build(fixture())
	got := map[string]string{}
	for _, r := range v.Masters[0].Replicas {
		got[r.Addr] = r.Reason
		if r.Eligible != (r.Reason == "") {
			t.Errorf("%s: eligible %t with reason %q", r.Addr, r.Eligible, r.Reason)
		}
	}
	want := map[string]string{"10.0.0.2:6379": "", "10.0.0.3:6379": "master-link-down-too-long", "10.0.0.4:6379": "replica-priority-0"}
	for a, w := range want {
		if got[a] != w {
			t.Errorf("%s: reason %q, want %q", a, got[a], w)
		}
	}
	if m := v.Masters[0]; m.State != "odown" || m.Failover != "reconf_slaves" {
		t.Errorf("master state %q failover %q", m.State, m.Failover)
	}
}

// fakeSentinel answers from canned replies, the way go-redis would parse a
// RESP3 sentinel's.
type fakeSentinel map[string]any

func (f fakeSentinel) Process(_ context.Context, cmd redis.Cmder) error {
	key := ""
	for _, a := range cmd.Args()[1:] {
		key += a.(string) + " "
	}
	switch c := cmd.(type) {
	case *redis.MapStringStringSliceCmd:
		v, ok := f[key].([]map[string]string)
		if !ok {
			c.SetErr(errors.New("ERR Unknown sentinel subcommand"))
			return c.Err()
		}
		c.SetVal(v)
	case *redis.SliceCmd:
		v, ok := f[key]
		if !ok {
			c.SetErr(redis.Nil)
			return redis.Nil
		}
		c.SetVal(v.([]any))
	}
	return nil
}

// fixtureSentinel answers the fixture's SENTINEL MASTERS, REPLICAS and
// SENTINELS, masters out of order.
func fixtureSentinel() fakeSentinel {
	fx := fixture()
	return fakeSentinel{
		"masters ":            []map[string]string{fx.Groups[1].Master, fx.Groups[0].Master},
		"replicas cache ":     fx.Groups[0].Replicas,
		"sentinels cache ":    fx.Groups[0].Sentinels,
		"replicas sessions ":  fx.Groups[1].Replicas,
		"sentinels sessions ": []map[string]string(nil),
	}
}

func TestFetchReadsGroupsAndMasterOffset(t *testing.T) {
	f := fixtureSentinel()
	f["info-cache cache "] = []any{"cache", []any{
		[]any{int64(120), "# Replication\r\nrole:master\r\nmaster_repl_offset:120500\r\n"},
		[]any{int64(130), nil},
	}}
	s, err := Fetch(context.Background(), f, "127.0.0.1:26379")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Groups) != 2 || s.Groups[0].Master["name"] != "cache" || s.Groups[1].Master["name"] != "sessions" {
		t.Fatalf("groups not sorted by name: %+v", s.Groups)
	}
	if s.Groups[0].MasterOffset != 120500 || s.Groups[1].MasterOffset != -1 {
		t.Errorf("offsets %d, %d; want 120500, -1", s.Groups[0].MasterOffset, s.Groups[1].MasterOffset)
	}
	if len(s.Groups[0].Replicas) != 3 || len(s.Groups[0].Sentinels) != 2 {
		t.Errorf("cache group: %d replicas, %d sentinels", len(s.Groups[0].Replicas), len(s.Groups[0].Sentinels))
	}
}

// TestRenderShowsAFailingSave: a sentinel that cannot save withholds votes,
// and the operator sees it first; refused input is counted.
func TestRenderShowsAFailingSave(t *testing.T) {
	s := fixture()
	s.Health = map[string]string{"config-save": "failing", "config-save-error": "no space left on device",
		"config-save-failing-ms": "4200", "config-save-failures": "9", "invalid-input": "3"}
	var b bytes.Buffer
	if err := Render(&b, Build(s)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"CONFIG NOT SAVED for 4200ms: no space left on device (votes and announcements withheld until a save works)\n",
		"invalid network input dropped: 3\n",
	} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	s.Health["config-save"] = "ok"
	b.Reset()
	if err := Render(&b, Build(s)); err != nil || bytes.Contains(b.Bytes(), []byte("NOT SAVED")) {
		t.Errorf("a working save is reported as failing:\n%s", b.String())
	}
}
