package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one run of bench measured; it is what -out holds.
type Report struct {
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	Env     Env       `json:"env"`
	Rows    []Row     `json:"rows"`
	// Notes are failed runs and other things a reader of the figures
	// should know; Errors are measurements that could not be completed.
	Notes  []string `json:"notes"`
	Errors []string `json:"errors"`
}

// Env describes what was compared and where.
type Env struct {
	Ours      string `json:"ours"`
	Redis     string `json:"redis,omitempty"`
	CPUs      int    `json:"cpus"`
	Platform  string `json:"platform"`
	Quick     bool   `json:"quick"`
	Only      string `json:"only,omitempty"`
	SkipRedis bool   `json:"skip_redis"`
}

// sectionTitles heads each section of the printed table.
var sectionTitles = map[string]string{
	sectionDrills:     "1. Kill-the-master drills (3 sentinels, 2 replicas)",
	sectionAgreement:  "2. Agreement after the kill (first event on any sentinel)",
	sectionThroughput: "3. Query throughput (redis-benchmark -c 50, SENTINEL GET-MASTER-ADDR-BY-NAME)",
	sectionIdle:       "4. Idle cost of one sentinel (master + 1 replica per group)",
	sectionPartition:  "6. Master's host cut off (3 hosts in network namespaces, writer per host, down-after 2000)",
	sectionLoaded:     "7. Kill-the-master drills under stress-ng --cpu 2 (down-after 1000)",
	sectionProxy:      "5. Built-in proxy, plain go-redis client (columns: the two named in the metric)",
	sectionTLS:        "8. Kill-the-master drills over TLS beside plaintext (TLS only, port 0; 3 sentinels, 2 replicas)",
}

const (
	sectionDrills     = "drills"
	sectionAgreement  = "agreement"
	sectionThroughput = "throughput"
	sectionIdle       = "idle"
	sectionPartition  = "partition"
	sectionLoaded     = "loaded"
)

// sections is the order measurements run and print in.
var sections = []string{sectionDrills, sectionAgreement, sectionThroughput, sectionIdle, sectionProxy, sectionPartition, sectionLoaded, sectionTLS}

// Render prints the report as tables, one per section, then notes and
// errors.
func (r *Report) Render(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "sentinel bench — %s, %d CPUs, %.0fs", r.Started.Format(time.RFC3339), r.Env.CPUs, r.Seconds)
	if r.Env.Quick {
		b.WriteString(" (quick)")
	}
	fmt.Fprintf(&b, "\nours:  %s\n", r.Env.Ours)
	if r.Env.Redis != "" {
		fmt.Fprintf(&b, "redis: %s\n", r.Env.Redis)
	} else {
		b.WriteString("redis: not measured\n")
	}
	for _, sec := range sections {
		var rows []Row
		for _, row := range r.Rows {
			if row.Section == sec {
				rows = append(rows, row)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s\n", sectionTitles[sec])
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "metric\tours\tredis-sentinel\tours/redis\ttarget")
		for _, row := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", row.label(), formatDist(row.Ours, row.Headline),
				formatDist(row.Redis, row.Headline), formatRatio(row.Ratio), formatChecks(row.Checks))
		}
		// Writes to a strings.Builder cannot fail.
		_ = tw.Flush()
	}
	writeList(&b, "notes", r.Notes)
	writeList(&b, "errors", r.Errors)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

func writeList(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:\n", title)
	for _, it := range items {
		fmt.Fprintf(b, "  - %s\n", it)
	}
}

func (r Row) label() string {
	if r.Unit == "" {
		return r.Metric
	}
	return r.Metric + " (" + r.Unit + ")"
}

// formatDist prints min/median/max over n runs, "best of n" for a max
// headline, or the single value.
func formatDist(d *Dist, headline Stat) string {
	switch {
	case d == nil:
		return "-"
	case d.N == 1:
		return formatNum(d.Median)
	case headline == StatMax:
		return fmt.Sprintf("best %s of %d", formatNum(d.Max), d.N)
	default:
		return fmt.Sprintf("%s / %s / %s  n=%d", formatNum(d.Min), formatNum(d.Median), formatNum(d.Max), d.N)
	}
}

func formatRatio(r *float64) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f×", *r)
}

func formatChecks(cs []Check) string {
	var parts []string
	for _, c := range cs {
		mark := "n/a"
		if c.Met != nil {
			mark = "FAIL"
			if *c.Met {
				mark = "ok"
			}
		}
		parts = append(parts, c.Desc+" "+mark)
	}
	return strings.Join(parts, "; ")
}

// WriteJSON writes the report to path atomically, so an interrupted run
// never leaves half a file behind.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".results-*.json")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
