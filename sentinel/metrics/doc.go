// Package metrics exposes a sentinel's state to Prometheus and answers the
// liveness and readiness probes of process supervisors.
//
// It owns its own prometheus.Registry (nothing is registered globally), the
// event-fed counters and failover-phase histograms, and the small per-master
// clock that turns one failover's event timestamps into phase durations.
// Gauges describing the monitored groups are not stored: a custom collector
// reads Source.Snapshot on every scrape, so a scrape never disagrees with the
// snapshot the Redis-protocol server answers from.
//
// Concurrency: every method is safe for concurrent use. ObserveEvent is meant
// to be called from the daemon's event goroutine and only takes an
// uncontended mutex around the phase clock; scrapes run on HTTP goroutines
// and touch only the immutable snapshot and Prometheus' own synchronised
// vectors. Serve runs one http.Server and returns after it has shut down.
package metrics
