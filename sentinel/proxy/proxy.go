package proxy

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/sentinel/config"
)

// Spec is one listener to run.
type Spec struct {
	Master     string
	Role       string // config.ProxyMaster or config.ProxyReplicas
	Addr       string // bind host:port
	MaxClients int    // <= 0: config.DefaultProxyMaxClients
}

// Options configure a Manager.
type Options struct {
	Log     zerolog.Logger
	Metrics *Metrics // nil: NewMetrics()
	// Drain is how long Close lets forwarding connections finish
	// (default 2 s).
	Drain time.Duration
	// DialTimeout bounds one connect to a backend (default 1 s); a failed
	// one is retried until the connection's wait ends.
	DialTimeout time.Duration
}

// retryDelay spaces the connects of a waiting connection to a backend that
// refused it, e.g. a master killed but not yet SDOWN.
const retryDelay = 50 * time.Millisecond

// bufSize is the most one read moves before the byte counters are updated.
const bufSize = 32 << 10

var bufs = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// maxClientsReply is Redis' own answer to one client too many.
const maxClientsReply = "-ERR max number of clients reached\r\n"

// Manager runs the listeners and routes their connections.
type Manager struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine started here

	loopMu  sync.Mutex
	loops   []*loop                              // forward the connected clients
	newLoop func(context.Context) (*loop, error) // newLoop; tests make it fail

	mu        sync.Mutex
	routes    map[string]*cell     // by master
	listeners map[string]*listener // by master + "/" + role
	closed    bool
}

// cell holds the current route of one master group; changed is closed and
// replaced at every change, waking connections that wait for a backend.
type cell struct {
	mu      sync.Mutex
	route   Route
	changed chan struct{}
}

func newCell() *cell { return &cell{changed: make(chan struct{})} }

func (c *cell) get() (Route, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.route, c.changed
}

// set stores r and reports whether it differs from the previous route, and
// the previous master.
func (c *cell) set(r Route) (changed bool, old string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old = c.route.Master
	if sameRoute(c.route, r) {
		return false, old
	}
	c.route = r
	close(c.changed)
	c.changed = make(chan struct{})
	return true, old
}

func sameRoute(a, b Route) bool {
	return a.Accept == b.Accept && a.Fenced == b.Fenced && a.Master == b.Master && a.Wait == b.Wait &&
		slices.Equal(a.Replicas, b.Replicas)
}

// NewManager returns a Manager with no listeners.
func NewManager(o Options) *Manager {
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.Drain <= 0 {
		o.Drain = 2 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{opts: o, ctx: ctx, cancel: cancel, newLoop: newLoop, routes: map[string]*cell{}, listeners: map[string]*listener{}}
}

// Update applies the wanted listeners and the routes of every master group:
// listeners are opened or closed, new connections follow the routes at
// once, and existing ones a route no longer keeps are closed. It does not
// block on the network but for binding a new listener.
func (m *Manager) Update(specs []Spec, routes map[string]Route) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	for master, r := range routes {
		c := m.routes[master]
		if c == nil {
			c = newCell()
			m.routes[master] = c
		}
		changed, old := c.set(r)
		if !changed {
			continue
		}
		if old != r.Master && r.Master != "" && old != "" {
			m.opts.Metrics.switches.WithLabelValues(master).Inc()
		}
		m.opts.Log.Info().Str("master", master).Str("backend", r.Master).Strs("replicas", r.Replicas).
			Bool("accept", r.Accept).Bool("fenced", r.Fenced).Msg("proxy route changed")
		for _, l := range m.listeners {
			if l.spec.Master == master {
				l.sweep(r)
			}
		}
	}
	want := map[string]Spec{}
	for _, s := range specs {
		if s.MaxClients <= 0 {
			s.MaxClients = config.DefaultProxyMaxClients
		}
		want[s.Master+"/"+s.Role] = s
	}
	for master := range m.routes {
		if _, ok := routes[master]; !ok {
			delete(m.routes, master) // no longer monitored
		}
	}
	for k, l := range m.listeners {
		if s, ok := want[k]; !ok || s.Addr != l.spec.Addr || m.routes[s.Master] == nil {
			l.stop()
			delete(m.listeners, k)
		}
	}
	for k, s := range want {
		c := m.routes[s.Master]
		if c == nil {
			continue // the master is not monitored (any more)
		}
		if l := m.listeners[k]; l != nil {
			l.retry(s)
			continue
		}
		m.listeners[k] = m.start(s, c)
	}
}

// Close stops accepting, lets forwarding connections run for the drain
// period, then closes everything and waits for every goroutine.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	ls := make([]*listener, 0, len(m.listeners))
	for _, l := range m.listeners {
		ls = append(ls, l)
		l.closeListener()
	}
	m.mu.Unlock()
	deadline := time.Now().Add(m.opts.Drain)
	for _, l := range ls {
		for l.forwarding() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	m.cancel()
	for _, l := range ls {
		l.stop()
	}
	m.wg.Wait()
}

// Status describes one listener.
type Status struct {
	Spec
	Listening  bool
	Err        string // why it is not listening
	Backend    string // the master new connections go to; "" while there is none
	Accepting  bool
	Clients    int // forwarding connections
	Waiting    int // connections waiting for a master
	Total      uint64
	BytesIn    uint64 // client to server
	BytesOut   uint64 // server to client
	BoundAddr  string // the address actually bound (port 0 resolved)
	MaxClients int
}

// Status lists the listeners, sorted by master and role.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.listeners))
	for _, l := range m.listeners {
		out = append(out, l.status())
	}
	slices.SortFunc(out, func(a, b Status) int {
		return cmp.Or(cmp.Compare(a.Master, b.Master), cmp.Compare(a.Role, b.Role))
	})
	return out
}

// listener is one bound address of one master group and role.
type listener struct {
	m     *Manager
	spec  Spec
	cell  *cell
	log   zerolog.Logger
	seq   atomic.Uint64
	total atomic.Uint64
	in    atomic.Uint64
	out   atomic.Uint64

	mu      sync.Mutex
	ln      net.Listener // nil while not bound
	err     error
	triedAt time.Time
	conns   map[*pconn]struct{}
	stopped bool
}

func (m *Manager) start(s Spec, c *cell) *listener {
	l := &listener{m: m, spec: s, cell: c, conns: map[*pconn]struct{}{},
		log: m.opts.Log.With().Str("master", s.Master).Str("role", s.Role).Str("addr", s.Addr).Logger()}
	l.retry(s)
	return l
}

// retry binds the listener if it is not bound, at most once a second (the
// address may be busy for a while), and takes a new client limit.
func (l *listener) retry(s Spec) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.spec.MaxClients = s.MaxClients
	if l.ln != nil || l.stopped || time.Since(l.triedAt) < time.Second {
		return
	}
	l.triedAt = time.Now()
	ln, err := net.Listen("tcp", l.spec.Addr)
	if err != nil {
		if l.err == nil || l.err.Error() != err.Error() {
			l.log.Error().Err(err).Msg("proxy cannot listen")
		}
		l.err = err
		return
	}
	l.ln, l.err = ln, nil
	l.log.Info().Str("bound", ln.Addr().String()).Msg("proxy listening")
	l.m.wg.Add(1)
	go func() {
		defer l.m.wg.Done()
		l.accept(ln)
	}()
}

func (l *listener) accept(ln net.Listener) {
	metrics := l.m.opts.Metrics
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and the like: back off instead of spinning.
			l.log.Warn().Err(err).Msg("proxy accept failed")
			select {
			case <-time.After(100 * time.Millisecond):
				continue
			case <-l.m.ctx.Done():
				return
			}
		}
		r, _ := l.cell.get()
		if !r.Accept {
			metrics.conns.WithLabelValues(l.spec.Master, l.spec.Role, "refused_not_ready").Inc()
			c.Close()
			continue
		}
		pc := &pconn{client: c}
		if !l.add(pc) {
			metrics.conns.WithLabelValues(l.spec.Master, l.spec.Role, "refused_maxclients").Inc()
			c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			io.WriteString(c, maxClientsReply)
			c.Close()
			continue
		}
		l.m.wg.Add(1)
		go func() {
			defer l.m.wg.Done()
			if !l.serve(pc) {
				l.remove(pc)
			}
		}()
	}
}

func (l *listener) add(pc *pconn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped || len(l.conns) >= l.spec.MaxClients {
		return false
	}
	l.conns[pc] = struct{}{}
	return true
}

func (l *listener) remove(pc *pconn) {
	pc.close()
	l.mu.Lock()
	delete(l.conns, pc)
	l.mu.Unlock()
}

// attach makes be the backend of pc if the route current now still keeps
// addr; under l.mu, so a sweep for a newer route sees it.
func (l *listener) attach(pc *pconn, be net.Conn, addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, _ := l.cell.get()
	if l.stopped || !r.Keeps(l.spec.Role, addr) {
		return false
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.done {
		return false
	}
	pc.backend, pc.addr = be, addr
	return true
}

// sweep closes the connections r no longer keeps.
func (l *listener) sweep(r Route) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for pc := range l.conns {
		if addr := pc.backendAddr(); addr != "" && !r.Keeps(l.spec.Role, addr) {
			pc.close()
			n++
		}
	}
	if n > 0 {
		l.m.opts.Metrics.routeClosed.WithLabelValues(l.spec.Master, l.spec.Role).Add(float64(n))
		l.log.Info().Int("closed", n).Str("backend", r.Master).Msg("proxy closed connections the new route does not keep")
	}
}

func (l *listener) closeListener() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		l.ln.Close()
		l.ln = nil
	}
	l.stopped = true
	for pc := range l.conns {
		if pc.backendAddr() == "" {
			pc.close() // still waiting for a master: nothing to drain
		}
	}
}

// stop closes the listener and every connection at once.
func (l *listener) stop() {
	l.closeListener()
	l.mu.Lock()
	defer l.mu.Unlock()
	for pc := range l.conns {
		pc.close()
	}
}

func (l *listener) forwarding() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for pc := range l.conns {
		if pc.backendAddr() != "" {
			n++
		}
	}
	return n
}

func (l *listener) status() Status {
	r, _ := l.cell.get()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := Status{Spec: l.spec, Listening: l.ln != nil, Backend: r.Master, Accepting: r.Accept,
		Total: l.total.Load(), BytesIn: l.in.Load(), BytesOut: l.out.Load(), MaxClients: l.spec.MaxClients}
	if l.err != nil {
		st.Err = l.err.Error()
	}
	if l.ln != nil {
		st.BoundAddr = l.ln.Addr().String()
	}
	for pc := range l.conns {
		if pc.backendAddr() != "" {
			st.Clients++
		} else {
			st.Waiting++
		}
	}
	return st
}

// pconn is one client connection and, once connected, its backend.
type pconn struct {
	client net.Conn

	mu      sync.Mutex
	backend net.Conn
	addr    string
	flow    *flow // set once the loop owns the sockets
	done    bool
	closed  chan struct{} // made lazily by wait
}

func (pc *pconn) backendAddr() string {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.addr
}

// close ends both sides; safe to call more than once and from any goroutine.
func (pc *pconn) close() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.done {
		return
	}
	pc.done = true
	if pc.flow != nil {
		pc.flow.kill()
		return
	}
	pc.client.Close()
	if pc.backend != nil {
		pc.backend.Close()
	}
	if pc.closed != nil {
		close(pc.closed)
	}
}

// markDone records that the loop has closed pc's sockets.
func (pc *pconn) markDone() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.done = true
}

// closedChan is closed once pc is.
func (pc *pconn) closedChan() <-chan struct{} {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.closed == nil {
		pc.closed = make(chan struct{})
		if pc.done {
			close(pc.closed)
		}
	}
	return pc.closed
}

// serve waits for a backend, bounded by the route's wait, then hands the
// connection to the loop. It reports whether it did; if not, the caller
// removes pc.
func (l *listener) serve(pc *pconn) bool {
	metrics := l.m.opts.Metrics
	labels := []string{l.spec.Master, l.spec.Role}
	start := time.Now()
	first, _ := l.cell.get()
	deadline := start.Add(first.Wait)
	seq := l.seq.Add(1)
	closed := pc.closedChan()
	for {
		r, changed := l.cell.get()
		if !r.Accept {
			metrics.conns.WithLabelValues(l.spec.Master, l.spec.Role, "refused_not_ready").Inc()
			return false
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			metrics.conns.WithLabelValues(l.spec.Master, l.spec.Role, "wait_timeout").Inc()
			l.log.Warn().Dur("waited", time.Since(start)).Msg("proxy gave up waiting for a master")
			pc.client.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			io.WriteString(pc.client, "-ERR no master for '"+l.spec.Master+"' within "+
				strconv.FormatInt(first.Wait.Milliseconds(), 10)+" ms\r\n")
			return false
		}
		if addr := r.Pick(l.spec.Role, seq); addr != "" {
			d := net.Dialer{Timeout: min(l.m.opts.DialTimeout, wait)}
			be, err := d.DialContext(l.m.ctx, "tcp", addr)
			if err == nil {
				if l.attach(pc, be, addr) {
					break
				}
				be.Close()
				continue
			}
			wait = min(wait, retryDelay)
		}
		t := time.NewTimer(wait)
		select {
		case <-changed:
		case <-t.C:
		case <-closed:
		case <-l.m.ctx.Done():
		}
		t.Stop()
		select {
		case <-closed:
			return false
		case <-l.m.ctx.Done():
			return false
		default:
		}
	}
	metrics.wait.WithLabelValues(labels...).Observe(time.Since(start).Seconds())
	metrics.conns.WithLabelValues(l.spec.Master, l.spec.Role, "forwarded").Inc()
	l.total.Add(1)
	return l.forward(pc, seq)
}

// forward hands pc's sockets to the Manager's loop, which copies both
// ways until either side ends, then closes both and removes pc.
func (l *listener) forward(pc *pconn, seq uint64) bool {
	lp, err := l.m.forwarder(seq)
	if err != nil {
		l.log.Error().Err(err).Msg("proxy cannot forward")
		return false
	}
	metrics := l.m.opts.Metrics
	labels := []string{l.spec.Master, l.spec.Role}
	in := metrics.bytes.WithLabelValues(l.spec.Master, l.spec.Role, "in")
	out := metrics.bytes.WithLabelValues(l.spec.Master, l.spec.Role, "out")
	open := metrics.open.WithLabelValues(labels...)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.done {
		return false
	}
	open.Inc()
	fl, err := lp.add(pc, pc.client, pc.backend,
		func(n int) { l.in.Add(uint64(n)); in.Add(float64(n)) },
		func(n int) { l.out.Add(uint64(n)); out.Add(float64(n)) },
		func() { open.Dec(); l.remove(pc) })
	if err != nil {
		open.Dec()
		l.log.Warn().Err(err).Msg("proxy cannot forward")
		return false
	}
	// The loop has its own descriptors of both sockets.
	pc.client.Close()
	pc.backend.Close()
	pc.flow = fl
	return true
}

// forwarder returns the loop for connection number n of a listener. The
// loops start on first use, one per CPU but one, at least one: a loop
// woken from the Go poller runs while no thread watches the poller for the
// others, so a second loop on 2 CPUs mostly waited for the first, and a
// single loop forwarded more (docs/proxy.md, "Bytes"). A loop that could
// not start (no descriptors left) or has stopped is tried again here, so
// the proxy forwards again once the cause is gone.
func (m *Manager) forwarder(n uint64) (*loop, error) {
	m.loopMu.Lock()
	defer m.loopMu.Unlock()
	m.loops = slices.DeleteFunc(m.loops, (*loop).isStopped)
	var err error
	for len(m.loops) < max(1, runtime.GOMAXPROCS(0)-1) && m.ctx.Err() == nil {
		var lp *loop
		if lp, err = m.newLoop(m.ctx); err != nil {
			break
		}
		m.loops = append(m.loops, lp)
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			lp.run(m.ctx)
		}()
	}
	if len(m.loops) == 0 {
		if err == nil {
			err = errors.New("proxy: stopped")
		}
		return nil, err
	}
	return m.loops[n%uint64(len(m.loops))], nil
}

// Fields renders s as SENTINEL PROXIES field/value pairs.
func (s Status) Fields() []string {
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	i := strconv.Itoa
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	return []string{
		"master", s.Master, "role", s.Role, "addr", s.Addr, "bound", s.BoundAddr,
		"listening", yes(s.Listening), "error", s.Err, "accepting", yes(s.Accepting), "backend", s.Backend,
		"clients", i(s.Clients), "waiting", i(s.Waiting), "maxclients", i(s.MaxClients),
		"connections", u(s.Total), "bytes-in", u(s.BytesIn), "bytes-out", u(s.BytesOut),
	}
}
