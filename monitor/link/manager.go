package link

import (
	"context"
	"crypto/tls"
	"maps"
	"sync"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/monitor"
)

// Manager runs the links of one sentinel, keyed by monitor.LinkSpec.Key.
type Manager struct {
	sink   func(monitor.Observation)
	log    zerolog.Logger
	limits Limits
	tls    TLS
	wg     sync.WaitGroup // every link goroutine, stopped or not

	mu     sync.Mutex
	links  map[string]*link
	closed bool
}

// NewManager returns a Manager reporting to sink; see the package doc for
// the goroutines sink is called from.
func NewManager(sink func(monitor.Observation), log zerolog.Logger) *Manager {
	return &Manager{sink: sink, log: log, limits: DefaultLimits, links: make(map[string]*link)}
}

// TLS says which links dial TLS: each function returns the config of a
// dial to host (it checks the certificate names host); nil dials plaintext.
type TLS struct {
	Instances, Sentinels func(host string) *tls.Config
}

// SetTLS applies to links started from now on; call it before Reconcile.
func (m *Manager) SetTLS(t TLS) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tls = t
}

// Reconcile makes the running links match specs: it starts missing links,
// stops vanished ones and restarts those whose spec changed. It does not wait
// for stopped links to finish (they may be inside the sink); Close does.
func (m *Manager) Reconcile(specs []monitor.LinkSpec) {
	want := make(map[string]monitor.LinkSpec, len(specs))
	for _, s := range specs {
		if s.Timeout <= 0 {
			s.Timeout = defaultTimeout
		}
		want[s.Key] = s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	for key, l := range m.links {
		if s, ok := want[key]; !ok || !l.spec.Equal(s) {
			l.cancel()
			delete(m.links, key)
		}
	}
	for key, s := range want {
		if _, ok := m.links[key]; !ok {
			m.links[key] = m.start(s)
		}
	}
}

func (m *Manager) start(spec monitor.LinkSpec) *link {
	spec.Rename = maps.Clone(spec.Rename) // the caller may reuse its map
	ctx, cancel := context.WithCancel(context.Background())
	tlsFor := m.tls.Instances
	if spec.Kind == monitor.LinkSentinel {
		tlsFor = m.tls.Sentinels
	}
	l := &link{
		spec:   spec,
		tls:    tlsFor,
		limits: m.limits,
		sink:   m.sink,
		log:    m.log.With().Str("link", spec.Key).Str("addr", spec.Addr).Stringer("kind", spec.Kind).Logger(),
		cancel: cancel,
		wake:   make(chan struct{}, 1),
		probe:  make(chan struct{}, 1),
	}
	m.wg.Go(func() { l.runCommand(ctx) })
	if spec.Subscribe && spec.Kind != monitor.LinkSentinel {
		m.wg.Go(func() { l.runPubSub(ctx) })
	}
	return l
}

func (m *Manager) lookup(key string) *link {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.links[key]
}

// Send queues r on the link without blocking. It reports false if r is nil,
// there is no such link, it is not connected, or maxPending requests are
// pending.
func (m *Manager) Send(key string, r monitor.Request) bool {
	l := m.lookup(key)
	return l != nil && r != nil && l.enqueue(r)
}

// Pending returns the requests queued or in flight on the link
// (SENTINEL MASTER's link-pending-commands).
func (m *Manager) Pending(key string) int {
	if l := m.lookup(key); l != nil {
		return l.pending()
	}
	return 0
}

// Close stops every link and returns when all their goroutines and
// connections are gone. Later calls to Reconcile start nothing.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	for _, l := range m.links {
		l.cancel()
	}
	clear(m.links)
	m.mu.Unlock()
	m.wg.Wait()
}
