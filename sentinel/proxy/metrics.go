package proxy

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the proxy's Prometheus collectors; the daemon registers them
// with the sentinel's registry.
type Metrics struct {
	conns       *prometheus.CounterVec
	open        *prometheus.GaugeVec
	bytes       *prometheus.CounterVec
	switches    *prometheus.CounterVec
	routeClosed *prometheus.CounterVec
	wait        *prometheus.HistogramVec
}

// NewMetrics builds unregistered collectors.
func NewMetrics() *Metrics {
	group := []string{"master", "role"}
	return &Metrics{
		conns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_proxy_connections_total",
			Help: "Client connections to the proxy, by outcome (forwarded, refused_not_ready, refused_maxclients, wait_timeout).",
		}, []string{"master", "role", "outcome"}),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sentinel_proxy_open_connections",
			Help: "Client connections the proxy forwards now.",
		}, group),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_proxy_bytes_total",
			Help: "Bytes forwarded, by direction (in: client to server, out: server to client).",
		}, []string{"master", "role", "direction"}),
		switches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_proxy_route_switches_total",
			Help: "Times new proxy connections of the group started going to another master.",
		}, []string{"master"}),
		routeClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sentinel_proxy_route_closed_total",
			Help: "Connections closed because their backend stopped being a route (old master, unhealthy replica).",
		}, group),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sentinel_proxy_connect_wait_seconds",
			Help:    "Time from accepting a client connection to being connected to its backend.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, group),
	}
}

// Collectors lists the collectors to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.conns, m.open, m.bytes, m.switches, m.routeClosed, m.wait}
}
