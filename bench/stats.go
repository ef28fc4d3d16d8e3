package main

import (
	"fmt"
	"slices"
	"strings"
)

// Dist summarises the samples of one measurement on one sentinel.
type Dist struct {
	N       int       `json:"n"`
	Min     float64   `json:"min"`
	Median  float64   `json:"median"`
	Max     float64   `json:"max"`
	Samples []float64 `json:"samples"`
}

// newDist returns nil for no samples, so an unmeasured side stays absent
// from the report instead of showing zeros.
func newDist(samples []float64) *Dist {
	if len(samples) == 0 {
		return nil
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &Dist{N: len(s), Min: s[0], Median: med, Max: s[len(s)-1], Samples: slices.Clone(samples)}
}

// Stat names which figure of a Dist a row or target looks at.
type Stat string

const (
	StatMedian Stat = "median"
	StatMax    Stat = "max"
)

func (d *Dist) stat(s Stat) float64 {
	if s == StatMax {
		return d.Max
	}
	return d.Median
}

// Target is one goal a row is checked against.
type Target struct {
	// Kind is one of the target kinds below.
	Kind string `json:"kind"`
	// Stat is the figure of ours that AtMost compares.
	Stat Stat `json:"stat,omitempty"`
	// Limit is AtMost's bound or RatioAtLeast's minimum.
	Limit float64 `json:"limit,omitempty"`
}

const (
	// KindAtMost: our Stat is at most Limit.
	KindAtMost = "at-most"
	// KindRatioAtLeast: ours/redis is at least Limit.
	KindRatioAtLeast = "ratio-at-least"
	// KindRatioAtMost: ours/redis is at most Limit.
	KindRatioAtMost = "ratio-at-most"
	// KindNotWorse: our headline is no worse than redis-sentinel's.
	KindNotWorse = "not-worse-than-redis"
)

func atMost(s Stat, limit float64) Target { return Target{Kind: KindAtMost, Stat: s, Limit: limit} }
func ratioAtLeast(min float64) Target     { return Target{Kind: KindRatioAtLeast, Limit: min} }
func ratioAtMost(limit float64) Target    { return Target{Kind: KindRatioAtMost, Limit: limit} }
func notWorse() Target                    { return Target{Kind: KindNotWorse} }

// Check is a target evaluated on a row; Met is nil when the row lacks
// what the target needs (no runs, or redis-sentinel skipped).
type Check struct {
	Target
	Desc string `json:"desc"`
	Met  *bool  `json:"met"`
}

// Row is one measurement, ours and redis-sentinel's side by side.
type Row struct {
	Section string `json:"section"`
	Metric  string `json:"metric"`
	Unit    string `json:"unit"`
	// Better is "lower" or "higher".
	Better string `json:"better"`
	// Headline is the figure the ratio compares (median, or max for a
	// best-of-N throughput).
	Headline Stat  `json:"headline"`
	Ours     *Dist `json:"ours,omitempty"`
	Redis    *Dist `json:"redis,omitempty"`
	// Ratio is ours/redis of the headline figures.
	Ratio  *float64 `json:"ratio,omitempty"`
	Checks []Check  `json:"checks,omitempty"`
}

// rowSpec is what a measurement knows about a row before its samples.
type rowSpec struct {
	section, metric, unit string
	higherBetter          bool
	headline              Stat
	targets               []Target
}

// newRow builds a row from raw samples and evaluates its targets.
func newRow(spec rowSpec, ours, redis []float64) Row {
	r := Row{Section: spec.section, Metric: spec.metric, Unit: spec.unit, Better: "lower",
		Headline: spec.headline, Ours: newDist(ours), Redis: newDist(redis)}
	if r.Headline == "" {
		r.Headline = StatMedian
	}
	if spec.higherBetter {
		r.Better = "higher"
	}
	if r.Ours != nil && r.Redis != nil && r.Redis.stat(r.Headline) != 0 {
		ratio := r.Ours.stat(r.Headline) / r.Redis.stat(r.Headline)
		r.Ratio = &ratio
	}
	for _, t := range spec.targets {
		r.Checks = append(r.Checks, r.check(t))
	}
	return r
}

func (r Row) check(t Target) Check {
	c := Check{Target: t}
	var met bool
	var known bool
	switch t.Kind {
	case KindAtMost:
		c.Desc = fmt.Sprintf("%s ≤ %s", t.Stat, formatNum(t.Limit))
		if r.Ours != nil {
			met, known = r.Ours.stat(t.Stat) <= t.Limit, true
		}
	case KindRatioAtLeast:
		c.Desc = fmt.Sprintf("ours/redis ≥ %s×", formatNum(t.Limit))
		if r.Ratio != nil {
			met, known = *r.Ratio >= t.Limit, true
		}
	case KindRatioAtMost:
		c.Desc = fmt.Sprintf("ours/redis ≤ %s×", formatNum(t.Limit))
		if r.Ratio != nil {
			met, known = *r.Ratio <= t.Limit, true
		}
	case KindNotWorse:
		c.Desc = "≤ redis"
		if r.Better == "higher" {
			c.Desc = "≥ redis"
		}
		// Compared directly, not through Ratio: redis-sentinel may idle at 0.
		if r.Ours != nil && r.Redis != nil {
			ours, redis := r.Ours.stat(r.Headline), r.Redis.stat(r.Headline)
			met, known = ours <= redis, true
			if r.Better == "higher" {
				met = ours >= redis
			}
		}
	default:
		c.Desc = "unknown target " + t.Kind
	}
	if known {
		c.Met = &met
	}
	return c
}

// formatNum prints a figure with precision that suits its size.
func formatNum(v float64) string {
	a := v
	if a < 0 {
		a = -a
	}
	var s string
	switch {
	case a >= 100:
		s = fmt.Sprintf("%.0f", v)
	case a >= 10:
		s = fmt.Sprintf("%.1f", v)
	default:
		s = fmt.Sprintf("%.2f", v)
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
