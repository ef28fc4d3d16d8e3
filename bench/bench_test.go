package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/drill"
)

func TestDistOddEvenEmpty(t *testing.T) {
	if d := newDist(nil); d != nil {
		t.Fatalf("no samples: got %+v, want nil", d)
	}
	d := newDist([]float64{5, 1, 3})
	if d.N != 3 || d.Min != 1 || d.Median != 3 || d.Max != 5 {
		t.Fatalf("odd: %+v", d)
	}
	if !slices.Equal(d.Samples, []float64{5, 1, 3}) {
		t.Fatalf("samples must keep run order, got %v", d.Samples)
	}
	if d := newDist([]float64{4, 1, 3, 2}); d.Median != 2.5 {
		t.Fatalf("even: median %v, want 2.5", d.Median)
	}
}

func met(t *testing.T, c Check) bool {
	t.Helper()
	if c.Met == nil {
		t.Fatalf("%s: cannot tell", c.Desc)
	}
	return *c.Met
}

func TestDrillTargetsUseDownAfter(t *testing.T) {
	ours := []drillSample{{toSwitch: 1050, toWrite: 1100, rejoin: 900}, {toSwitch: 1260, toWrite: 1300, rejoin: 2100}, {toSwitch: 1080, toWrite: 1200, rejoin: 800}}
	rows := drillRows(time.Second, ours, nil)
	sw := rows[0]
	if sw.Checks[0].Desc != "median ≤ 1100" || !met(t, sw.Checks[0]) {
		t.Fatalf("median check: %+v", sw.Checks[0])
	}
	if sw.Checks[1].Desc != "max ≤ 1250" || met(t, sw.Checks[1]) {
		t.Fatalf("max check: %+v", sw.Checks[1])
	}
	if sw.Ratio != nil || sw.Redis != nil {
		t.Fatalf("no redis runs: ratio %v, redis %+v", sw.Ratio, sw.Redis)
	}
	if rj := rows[2]; met(t, rj.Checks[0]) {
		t.Fatalf("rejoin max 2100 must miss ≤ 2000: %+v", rj.Checks[0])
	}
	if tl := rows[3]; tl.Ours == nil || tl.Ours.N != 1 || tl.Ours.Max != 0 || !met(t, tl.Checks[0]) {
		t.Fatalf("no two leaders must meet ≤ 0: %+v", tl)
	}
	ours[1].twoLeaders = 2 // two epochs in attempts that failed before the second drill
	if tl := drillRows(time.Second, ours, nil)[3]; tl.Ours.Max != 2 || met(t, tl.Checks[0]) {
		t.Fatalf("2 epochs with two leaders must count and miss ≤ 0: %+v", tl)
	}
}

func TestRatioAndComparisonTargets(t *testing.T) {
	tp := throughputRow([]float64{100, 130, 120}, []float64{90, 100})
	if tp.Ratio == nil || *tp.Ratio != 1.3 {
		t.Fatalf("best-of ratio: %v, want 1.3", tp.Ratio)
	}
	if !met(t, tp.Checks[0]) {
		t.Fatalf("1.3× must meet ≥ 1.2×: %+v", tp.Checks[0])
	}
	idle := idleRows(1, []idleFigures{{cpuPercent: 0.1, rssMiB: 10}}, []idleFigures{{cpuPercent: 0, rssMiB: 12}})
	if idle[0].Ratio != nil {
		t.Fatalf("ratio against 0 must be absent, got %v", *idle[0].Ratio)
	}
	if met(t, idle[0].Checks[0]) {
		t.Fatal("0.1% CPU is worse than redis' 0%")
	}
	if !met(t, idle[1].Checks[0]) {
		t.Fatal("10 MiB is not worse than 12 MiB")
	}
	if c := throughputRow([]float64{100}, nil).Checks[0]; c.Met != nil {
		t.Fatalf("without redis the ratio target cannot be told: %+v", c)
	}
}

func sampleReport() *Report {
	rep := &Report{
		Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Seconds: 42,
		Env:   Env{Ours: "sentinel dev", Redis: "Redis server v=7.0.15", CPUs: 2, Platform: "linux/amd64"},
		Notes: []string{"drill redis attempt 3 failed"}, Errors: []string{},
	}
	rep.Rows = append(rep.Rows, drillRows(time.Second,
		[]drillSample{{toSwitch: 1050}, {toSwitch: 1070}},
		[]drillSample{{toSwitch: 2100}, {toSwitch: 2200}})...)
	rep.Rows = append(rep.Rows, throughputRow([]float64{120000}, nil))
	return rep
}

func TestRenderShowsSectionsFiguresAndTargets(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().Render(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		sectionTitles[sectionDrills], sectionTitles[sectionThroughput],
		"kill → +switch-master, down-after 1000 (ms)", "1050 / 1060 / 1070  n=2", "2100 / 2150 / 2200  n=2",
		"0.49×", "median ≤ 1100 ok", "ours/redis ≥ 1.2× n/a", "120000",
		"notes:", "drill redis attempt 3 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, sectionTitles[sectionIdle]) {
		t.Errorf("a section without rows must not print:\n%s", out)
	}
}

func TestJSONShape(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	if err := sampleReport().WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Started string           `json:"started"`
		Env     map[string]any   `json:"env"`
		Notes   []string         `json:"notes"`
		Errors  []string         `json:"errors"`
		Rows    []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Started == "" || doc.Env["cpus"] != float64(2) || doc.Errors == nil {
		t.Fatalf("header: %+v", doc)
	}
	row := doc.Rows[0]
	for _, k := range []string{"section", "metric", "unit", "better", "headline", "ours", "redis", "ratio", "checks"} {
		if _, ok := row[k]; !ok {
			t.Errorf("row lacks %q: %v", k, row)
		}
	}
	ours := row["ours"].(map[string]any)
	for _, k := range []string{"n", "min", "median", "max", "samples"} {
		if _, ok := ours[k]; !ok {
			t.Errorf("dist lacks %q: %v", k, ours)
		}
	}
	check := row["checks"].([]any)[0].(map[string]any)
	if check["kind"] != KindAtMost || check["stat"] != "median" || check["limit"] != float64(1100) || check["met"] != true {
		t.Errorf("check: %v", check)
	}
	last := doc.Rows[len(doc.Rows)-1]
	if _, ok := last["redis"]; ok {
		t.Errorf("an unmeasured side must be absent: %v", last)
	}
	if c := last["checks"].([]any)[0].(map[string]any); c["met"] != nil {
		t.Errorf("an unknown target must be null: %v", c)
	}
}

func TestParseRPSTakesFinalLine(t *testing.T) {
	out := "WARNING: Could not fetch server CONFIG\n" +
		"sentinel get-master-addr-by-name mymaster: rps=41051.8 (overall: 35635.1) avg_msec=0.792\r   \r" +
		"sentinel get-master-addr-by-name mymaster: 35273.37 requests per second, p50=0.631 msec\n"
	v, err := parseRPS(out)
	if err != nil || v != 35273.37 {
		t.Fatalf("got %v, %v", v, err)
	}
	if _, err := parseRPS("Could not connect to Redis at 127.0.0.1:1: Connection refused\n"); !errors.Is(err, errNoRPS) {
		t.Fatalf("no figure: %v", err)
	}
	args := strings.Join(benchmarkArgs(26379, 50, 200000, "mymaster"), " ")
	if args != "-h 127.0.0.1 -p 26379 -c 50 -n 200000 -q sentinel get-master-addr-by-name mymaster" {
		t.Fatalf("args: %s", args)
	}
}

func TestProcParsers(t *testing.T) {
	stat := "4242 (redis sentinel) S 1 4242 4242 0 -1 4194560 600 0 0 0 125 37 0 0 20 0 5 0 100 1000 300"
	ticks, err := parseCPUTicks(stat)
	if err != nil || ticks != 162 {
		t.Fatalf("ticks %d, %v; want 162", ticks, err)
	}
	if _, err := parseCPUTicks("4242 (x) S 1"); err == nil {
		t.Fatal("short stat must fail")
	}
	if a, b := cpuPercent(6, 30001*time.Millisecond), cpuPercent(6, 30002*time.Millisecond); a != b || a != 0.2 {
		t.Fatalf("6 ticks over ~30 s: %v and %v, want both 0.2", a, b)
	}
	kb, err := parseVmRSS("Name:\tsentinel\nVmHWM:\t   20000 kB\nVmRSS:\t   13516 kB\nRssAnon:\t 5000 kB\n")
	if err != nil || kb != 13516 {
		t.Fatalf("rss %d, %v", kb, err)
	}
	if _, err := parseVmRSS("Name:\tzombie\n"); err == nil {
		t.Fatal("missing VmRSS must fail")
	}
}

func TestCountMonitored(t *testing.T) {
	info := "# Sentinel\r\nsentinel_masters:3\r\nsentinel_tilt:0\r\n" +
		"master0:name=g1,status=ok,address=127.0.0.1:1001,slaves=1,sentinels=1\r\n" +
		"master1:name=g2,status=ok,address=127.0.0.1:1002,slaves=0,sentinels=1\r\n" +
		"master2:name=g3,status=sdown,address=127.0.0.1:1003,slaves=1,sentinels=1\r\n"
	if n := countMonitored(info); n != 1 {
		t.Fatalf("got %d, want 1 (ok and with a replica)", n)
	}
}

func TestIdleSentinelConfMonitorsFirstGroups(t *testing.T) {
	f := &fleet{masters: []*cluster.Redis{{Port: 1001}, {Port: 1002}, {Port: 1003}}}
	conf := f.idleSentinelConf(26379, 2)
	for _, want := range []string{"port 26379\n", "sentinel monitor g1 127.0.0.1 1001 1\n", "sentinel monitor g2 127.0.0.1 1002 1\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("conf lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, "1003") {
		t.Errorf("conf monitors a third group:\n%s", conf)
	}
}

func TestAgreementFromFirstEventsOnAnySentinel(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	events := []cluster.Event{
		{At: at(0), Sentinel: 1, Channel: "+sdown", Payload: "slave 127.0.0.1:2 127.0.0.1 2 @ mymaster 127.0.0.1 1"},
		{At: at(10), Sentinel: 2, Channel: "+sdown", Payload: "master mymaster 127.0.0.1 1"},
		{At: at(12), Sentinel: 0, Channel: "+sdown", Payload: "master mymaster 127.0.0.1 1"},
		{At: at(14), Sentinel: 1, Channel: "+odown", Payload: "master other 127.0.0.1 9 #quorum 2/2"},
		{At: at(25), Sentinel: 0, Channel: "+odown", Payload: "master mymaster 127.0.0.1 1 #quorum 2/2"},
		{At: at(30), Sentinel: 2, Channel: "+odown", Payload: "master mymaster 127.0.0.1 1 #quorum 2/2"},
		{At: at(33), Sentinel: 0, Channel: "+elected-leader", Payload: "master mymaster 127.0.0.1 1"},
	}
	s, err := agreementFromEvents(events, "mymaster")
	if err != nil {
		t.Fatal(err)
	}
	if s.sdownToOdown != 15 || s.odownToElected != 8 {
		t.Fatalf("got %+v, want 15 and 8 ms", s)
	}
	if _, err := agreementFromEvents(events[:6], "mymaster"); !errors.Is(err, errNoEvent) {
		t.Fatalf("without +elected-leader: %v", err)
	}
}

func TestSampleFromDrillResult(t *testing.T) {
	r := &drill.Result{Phases: []drill.PhaseTime{
		{Phase: drill.PhaseKill, MS: 0}, {Phase: drill.PhaseSDown, MS: 1001}, {Phase: drill.PhaseODown, MS: 1010},
		{Phase: drill.PhaseElected, MS: 1030}, {Phase: drill.PhasePromoted, MS: 1060}, {Phase: drill.PhaseSwitch, MS: 1070},
		{Phase: drill.PhaseWrite, MS: 1090}, {Phase: drill.PhaseRepointed, MS: 1200},
		{Phase: drill.PhaseRestarted, MS: 1300}, {Phase: drill.PhaseRejoined, MS: 2500},
	}}
	s, err := sampleFromResult(r)
	if err != nil {
		t.Fatal(err)
	}
	want := drillSample{toSwitch: 1070, toElected: 1030, toWrite: 1090, rejoin: 1200, agreement: agreementSample{sdownToOdown: 9, odownToElected: 20}}
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}
	r.Phases = r.Phases[:len(r.Phases)-1]
	if _, err := sampleFromResult(r); err == nil {
		t.Fatal("a run without the rejoin must not make a sample")
	}
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	c, err := parseFlags([]string{"-sentinel", "x", "-quick", "-skip-redis", "-only", "idle", "-out", "o.json"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if c.sentinel != "x" || !c.quick || !c.skipRedis || c.only != "idle" || c.out != "o.json" {
		t.Fatalf("parsed %+v", c)
	}
	if _, err := parseFlags([]string{"-only", "latency"}, &stderr); err == nil {
		t.Fatal("unknown -only must fail")
	}
	if q, f := planFor(true), planFor(false); f.drills1000 < 10 || f.drills5000 < 3 || f.agreement < 10 || f.rounds < 3 ||
		f.requests != 200000 || slices.Max(f.idleGroups) != 100 || q.drills1000 >= f.drills1000 {
		t.Fatalf("plans: quick %+v, full %+v", q, f)
	}
}
