package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Source is what the metrics need from the running sentinel.
type Source interface {
	// Snapshot is the current published state; it may be nil before the
	// first one is built. Called on every scrape, so it must be cheap.
	Snapshot() *view.Snapshot
	// GossipMembers counts the other sentinels in the gossip group.
	GossipMembers() (alive, known int)
	// Ready reports whether the gossip group has settled.
	Ready() bool
	// Refusals counts what the edges refused; called on every scrape.
	Refusals() Refusals
}

// Refusals are the edges' counters of refused input (the state machine's
// own are in the snapshot).
type Refusals struct {
	GossipDropped       map[string]uint64 // by reason
	AuthFailures        int64
	RejectedConnections int64 // over maxclients
}

// phaseBuckets span 1 ms (one gossip round trip) to 60 s (a slow replica
// reconfiguration), in seconds.
var phaseBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60}

// Failover outcomes, the values of failovers_total's outcome label.
const (
	outcomeSuccess      = "success"
	outcomeNotElected   = "not_elected"
	outcomeNoGoodSlave  = "no_good_slave"
	outcomeSlaveTimeout = "slave_timeout"
)

var outcomes = [...]string{outcomeSuccess, outcomeNotElected, outcomeNoGoodSlave, outcomeSlaveTimeout}

// Metrics is a sentinel's Prometheus registry plus its health endpoints.
type Metrics struct {
	src     Source
	reg     *prometheus.Registry
	handler http.Handler

	events    *prometheus.CounterVec
	failovers *prometheus.CounterVec
	switches  *prometheus.CounterVec
	phases    *prometheus.HistogramVec
	lastPhase *prometheus.GaugeVec

	mu    sync.Mutex // guards clock
	clock phaseClock
}

// New builds the registry around src. It registers nothing globally.
func New(src Source) *Metrics {
	m := &Metrics{
		src: src,
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_events_total",
			Help: "Sentinel events emitted by this sentinel, by event type.",
		}, []string{"type"}),
		failovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_failovers_total",
			Help: "Failovers run by this sentinel, by outcome (success, not_elected, no_good_slave, slave_timeout).",
		}, []string{"master", "outcome"}),
		switches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_switch_master_total",
			Help: "Master address switches seen by this sentinel (+switch-master), whoever led the failover.",
		}, []string{"master"}),
		phases: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sentinel_failover_phase_seconds",
			Help:    "Duration of failover phases on this sentinel, from event timestamps.",
			Buckets: phaseBuckets,
		}, []string{"master", "phase"}),
		lastPhase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_last_failover_phase_seconds",
			Help: "Duration of the most recent occurrence of each failover phase on this sentinel.",
		}, []string{"master", "phase"}),
		clock: phaseClock{groups: make(map[string]*groupClock)},
	}
	m.reg.MustRegister(
		newSnapshotCollector(src),
		m.events, m.failovers, m.switches, m.phases, m.lastPhase,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = m.newMux()
	return m
}

// ObserveEvent feeds one event, stamped with the time it happened, into the
// counters and the failover phase clock.
func (m *Metrics) ObserveEvent(e notify.Event, at time.Time) {
	m.events.WithLabelValues(e.Channel()).Inc()
	if e.Master == "" {
		return
	}
	switch e.Kind {
	case notify.KindMonitor:
		// Start the group's counters at zero so the first failover is a
		// visible increase rather than a new series.
		for _, o := range outcomes {
			m.failovers.WithLabelValues(e.Master, o)
		}
		m.switches.WithLabelValues(e.Master)
	case notify.KindUnmonitor:
		m.forget(e.Master)
		return
	case notify.KindSwitchMaster:
		m.switches.WithLabelValues(e.Master).Inc()
	}

	m.mu.Lock()
	r := m.clock.observe(e, at)
	m.mu.Unlock()

	if r.phase != "" {
		s := r.elapsed.Seconds()
		m.phases.WithLabelValues(e.Master, r.phase).Observe(s)
		m.lastPhase.WithLabelValues(e.Master, r.phase).Set(s)
	}
	if r.outcome != "" {
		m.failovers.WithLabelValues(e.Master, r.outcome).Inc()
	}
}

// forget drops a removed group's series and clock so they do not linger.
func (m *Metrics) forget(master string) {
	l := prometheus.Labels{"master": master}
	m.failovers.DeletePartialMatch(l)
	m.switches.DeletePartialMatch(l)
	m.phases.DeletePartialMatch(l)
	m.lastPhase.DeletePartialMatch(l)
	m.mu.Lock()
	delete(m.clock.groups, master)
	m.mu.Unlock()
}

// Handler serves /metrics, /healthz (200 while the process serves) and
// /readyz (200 once Source.Ready, else 503).
func (m *Metrics) Handler() http.Handler { return m.handler }

// Register adds collectors owned elsewhere (the proxy's) to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }

func (m *Metrics) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if m.src.Ready() {
			writeText(w, http.StatusOK, "ready")
			return
		}
		writeText(w, http.StatusServiceUnavailable, "not ready")
	})
	return mux
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
