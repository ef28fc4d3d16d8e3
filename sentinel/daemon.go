package sentinel

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sockaddr "github.com/hashicorp/go-sockaddr"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/seed877ff415/sentinel/election"
	"github.com/seed877ff415/sentinel/internal/ratelog"
	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/monitor/link"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/notify/script"
	"github.com/seed877ff415/sentinel/notify/webhook"
	"github.com/seed877ff415/sentinel/sentinel/acl"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/core"
	"github.com/seed877ff415/sentinel/sentinel/gossip"
	"github.com/seed877ff415/sentinel/sentinel/metrics"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/proxy"
	"github.com/seed877ff415/sentinel/sentinel/server"
	"github.com/seed877ff415/sentinel/sentinel/tlsconf"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Version is the Redis version this sentinel reports to clients.
const Version = "7.0.15"

// ErrSimulatedCrash is returned by Run when SENTINEL SIMULATE-FAILURE asked
// for a crash; the process exits with code 99 as Redis does.
var ErrSimulatedCrash = errors.New("simulated crash (SENTINEL SIMULATE-FAILURE)")

var errSaveFailed = errors.New("ERR Failed to save config file. Check server logs.")

// Options start a daemon.
type Options struct {
	// Config is the loaded and validated configuration (config.Load); the
	// daemon owns it from here on.
	Config *config.Config
	Log    zerolog.Logger
	// Tick is how often timers run while a decision may be due (default
	// 10 ms); otherwise they run every 100 ms, as Redis does.
	Tick time.Duration
	// Ready, if set, is closed once the daemon listens.
	Ready chan<- struct{}
}

// Daemon is one running sentinel.
type Daemon struct {
	log      zerolog.Logger
	cfg      *config.Config
	state    *core.State // owned by the loop goroutine
	links    Links
	srv      Server
	group    Peers
	store    Store
	tls      *tlsconf.Set // nil without TLS; swapped by SENTINEL CONFIG SET
	tick     time.Duration
	scripts  *script.Runner
	hooks    *webhook.Sender
	metrics  *metrics.Metrics
	proxies  *proxy.Manager
	proxyOn  bool // some listener was configured at the last Update
	proxySet bool // the config or a SENTINEL SET may have added a listener
	started  time.Time
	obs      chan monitor.Observation
	peerIn   chan core.Peer
	members  chan struct{} // cap 1: the gossip membership changed
	calls    chan func()
	stop     func()        // asks the loop to stop: SHUTDOWN, a simulated crash
	stopc    chan struct{} // closed by stop
	done     chan struct{} // closed once the loop has stopped
	stale    atomic.Bool
	snap     atomic.Pointer[view.Snapshot]
	saveErr  error
	users    []*acl.User // set by ACL SETUSER/DELUSER; nil: the config's
	exitCode int
	warnedRO bool

	// Persist before send: while unsaved, nothing carrying the unsaved
	// state leaves (core.Ready.Withhold); the save is retried with back-off.
	// hard and settings are what the core last handed out, to be saved.
	hard        view.HardState
	settings    view.Settings
	unsaved     bool
	saveRetryAt time.Time
	saveBackoff time.Duration
	rejectLog   *ratelog.Limiter // by source of the invalid input
	unsentLog   *ratelog.Limiter // by link
}

const (
	saveRetryMin = 100 * time.Millisecond
	saveRetryMax = 5 * time.Second
	// rejectLogEvery is how often invalid input of one source is logged;
	// the rest is counted (Snapshot.Rejected) and summed into the next line.
	rejectLogEvery = 10 * time.Second
	// idleTick is the timers' period while all is calm, as in Redis.
	idleTick = 100 * time.Millisecond
	// callTimeout bounds how long a client waits for a busy loop.
	callTimeout = 5 * time.Second
)

// Run runs the sentinel until ctx ends or a SHUTDOWN arrives: it prepares
// the process (dir, pid file, listeners), builds the real parts and runs
// the Daemon. The state is persisted on the way out.
func Run(ctx context.Context, o Options) error {
	cfg := o.Config
	for _, w := range cfg.Warnings {
		o.Log.Warn().Str("config", cfg.Path).Msg(w)
	}
	// As Redis does: relative paths from here on (pidfile, scripts set at
	// run time) resolve inside dir; the config path is already absolute.
	if err := os.Chdir(cfg.Dir); err != nil {
		return fmt.Errorf("dir %s: %w", cfg.Dir, err)
	}
	removed, err := config.RemoveTempFiles(cfg)
	for _, p := range removed {
		o.Log.Warn().Str("file", p).Msg("removed a temporary file left by an interrupted config rewrite")
	}
	if err != nil {
		return err
	}
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			o.Log.Warn().Err(err).Str("pidfile", cfg.PidFile).Msg("cannot write pid file")
		} else {
			defer os.Remove(cfg.PidFile)
		}
	}
	if cfg.Daemonize {
		o.Log.Warn().Msg("daemonize yes is ignored: run under a supervisor (systemd) instead")
	}

	maxClients, err := fitMaxClients(cmp.Or(cfg.MaxClients, server.DefaultMaxClients), o.Log)
	if err != nil {
		return err
	}
	bind := ""
	if len(cfg.Bind) > 0 {
		bind = cfg.Bind[0]
	}
	var tlsSet *tlsconf.Set
	if cfg.TLS.Enabled() {
		if tlsSet, err = tlsconf.Load(cfg.TLS); err != nil {
			return fmt.Errorf("%s: %w", cfg.Path, err)
		}
	}
	lns, err := listen(cfg, bind, tlsSet)
	if err != nil {
		return err
	}
	defer lns.close()

	selfIP, warnings := advertiseIP(cfg, bind)
	for _, w := range warnings {
		o.Log.Warn().Str("advertise", selfIP).Msg(w)
	}
	keys, err := gossipSecrets(cfg, o.Log)
	if err != nil {
		return err
	}
	gport := cmp.Or(cfg.GossipPort, lns.muxPort)
	var gmux *gossip.Mux
	gadvert := gport
	if gport == lns.muxPort {
		gmux = lns.mux
		// Sharing the port hellos announce: behind NAT, peers reach it at
		// announce-port, like the hellos say (docs/hostnames.md).
		if gport == helloPort(cfg) && cfg.AnnouncePort != 0 {
			gadvert = cfg.AnnouncePort
		}
	}
	d, err := New(cfg, Deps{
		Log: o.Log, SelfIP: selfIP, Tick: o.Tick, TLS: tlsSet, Store: fileStore{},
		Links: func(sink func(monitor.Observation)) Links {
			m := link.NewManager(sink, o.Log.With().Str("component", "monitor").Logger())
			if tlsSet != nil {
				m.SetTLS(linkTLS(cfg, tlsSet))
			}
			return m
		},
		Peers: func(onMessage func(string, peer.Message), onMembership func(string, bool)) (Peers, error) {
			g, err := gossip.New(gossip.Config{
				Name: cfg.MyID, BindAddr: orDefault(bind, "0.0.0.0"), Port: gport, AdvertiseAddr: selfIP,
				AdvertisePort: gadvert, Label: "sentinel", Keys: keys,
				Log:       o.Log.With().Str("component", "gossip").Logger(),
				OnMessage: onMessage, OnMembership: onMembership,
			}, gmux)
			if err != nil {
				return nil, fmt.Errorf("start gossip on port %d: %w", gport, err)
			}
			return g, nil
		},
		Server: func(d *Daemon) Server {
			return server.New(server.Options{
				Listener: lns.redis, Backend: d, RequirePass: cfg.RequirePass, Version: Version,
				ConfigFile: cfg.Path, MaxClients: maxClients, Shutdown: d.stop,
				Log: o.Log.With().Str("component", "server").Logger(), Users: cfg.Users, SaveUsers: d.saveUsers,
			})
		},
	})
	if err != nil {
		return err
	}
	o.Log.Info().Str("config", cfg.Path).Str("dir", cfg.Dir).Int("port", cfg.Port).Int("tls-port", cfg.TLS.Port).Str("myid", cfg.MyID).
		Int("masters", len(cfg.Masters)).Msg("sentinel started")
	if o.Ready != nil {
		close(o.Ready)
	}
	return d.Run(ctx)
}

// New builds a daemon on deps from a loaded and validated config, which it
// owns from here on. A first start generates and saves the sentinel's id.
// The peers are started; Run must follow, and closes them.
func New(cfg *config.Config, deps Deps) (*Daemon, error) {
	d := &Daemon{
		log:     deps.Log,
		cfg:     cfg,
		store:   deps.Store,
		tls:     deps.TLS,
		tick:    deps.Tick,
		obs:     make(chan monitor.Observation, 1024),
		peerIn:  make(chan core.Peer, 1024),
		members: make(chan struct{}, 1),
		calls:   make(chan func()),
		stopc:   make(chan struct{}),
		done:    make(chan struct{}),
		started: time.Now(),

		rejectLog: ratelog.New(rejectLogEvery),
		unsentLog: ratelog.New(rejectLogEvery),
	}
	if d.tick <= 0 {
		d.tick = 10 * time.Millisecond
	}
	var once sync.Once
	d.stop = func() { once.Do(func() { close(d.stopc) }) }
	d.metrics = metrics.New(d)
	proxyMetrics := proxy.NewMetrics()
	d.metrics.Register(proxyMetrics.Collectors()...)
	d.proxies = proxy.NewManager(proxy.Options{Metrics: proxyMetrics,
		Log: d.log.With().Str("component", "proxy").Logger()})
	d.proxySet = true // the config may name listeners
	firstStart := cfg.MyID == ""
	if firstStart {
		cfg.MyID = config.GenerateID()
	}
	timers := view.DefaultTimers()
	d.hard, d.settings = cfg.State(), cfg.Settings()
	d.state = core.New(core.Options{
		Port: helloPort(cfg), DenyScriptsReconfig: cfg.DenyScriptsReconfig, RequirePass: cfg.RequirePass,
		SelfIP: deps.SelfIP, Timers: timers, Seed: seed(cfg.MyID, time.Now()), Desync: core.CandidacyDelay,
		Executable: func(p string) bool { return unix.Access(p, unix.X_OK) == nil },
		Resolve:    resolveHost,
	}, d.hard, d.settings, time.Now())

	if firstStart {
		d.save()
		if d.saveErr != nil {
			return nil, fmt.Errorf("persist generated sentinel myid: %w", d.saveErr)
		}
	}

	d.scripts = script.New(script.Options{
		MaxRunning: 16, MaxQueued: 256, MaxRuntime: timers.ScriptMaxRuntime, RetryDelay: timers.ScriptRetryDelay,
		MaxRuns: 10, OnEvent: d.emit, Log: d.log.With().Str("component", "scripts").Logger(),
	})
	d.hooks = webhook.New(webhook.Options{SentinelID: cfg.MyID,
		Log: d.log.With().Str("component", "webhooks").Logger()})
	d.links = deps.Links(d.sink)
	group, err := deps.Peers(d.onPeerMessage, d.onMembership)
	if err != nil {
		d.links.Close()
		return nil, err
	}
	d.group = group
	d.srv = deps.Server(d)
	return d, nil
}

// seed differs between sentinels started at the same instant (fake time,
// coarse clocks): equal seeds draw equal candidacy delays, and candidates
// that stand together split the vote again and again.
func seed(myID string, now time.Time) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(myID))
	return now.UnixNano() ^ int64(h.Sum64())
}

// Run runs the daemon until ctx ends or it is stopped (SHUTDOWN, a
// simulated crash), and returns once every goroutine it started has
// stopped and its parts are closed. It runs once.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer cancel() // the loop's end stops everything else
		defer close(d.done)
		return d.run(ctx)
	})
	g.Go(d.srv.Serve)
	g.Go(func() error {
		<-d.done // clients are served until the last save is done
		return d.srv.Close()
	})
	g.Go(func() error { d.scripts.Run(ctx); return nil })
	g.Go(func() error { d.hooks.Run(ctx); return nil })
	if d.cfg.MetricsAddr != "" {
		g.Go(func() error {
			if err := metrics.Serve(ctx, d.cfg.MetricsAddr, d.metrics, d.log.With().Str("component", "metrics").Logger()); err != nil {
				d.log.Error().Err(err).Msg("metrics server stopped")
			}
			return nil
		})
	}
	if d.tls != nil {
		d.watchTLS(ctx, g, d.tls)
	}
	join := append([]string(nil), d.cfg.GossipJoin...)
	for _, m := range d.cfg.Masters {
		for _, ks := range m.KnownSentinels {
			join = append(join, net.JoinHostPort(ks.Host, strconv.Itoa(ks.Port)))
		}
	}
	if len(join) > 0 {
		d.group.Join(join...)
	}
	err := g.Wait()
	if d.exitCode != 0 {
		_ = d.group.Crash()
	} else {
		_ = d.group.Close()
	}
	d.links.Close()
	return err
}

// run is the loop goroutine: the loop, then the way out. A simulated crash
// stops like a real one: nothing saved, no leave.
func (d *Daemon) run(ctx context.Context) error {
	d.loop(ctx, d.tick, idleTick)
	d.proxies.Close()
	if d.exitCode != 0 {
		return ErrSimulatedCrash
	}
	d.save()
	d.log.Info().Msg("sentinel stopped")
	return nil
}

// loop is the single owner of the state machine. Timers run every idle
// period while all is well and every fast period while a decision may be
// due; an input that makes a decision urgent is followed by a tick at once.
func (d *Daemon) loop(ctx context.Context, fast, idle time.Duration) {
	period := idle
	t := time.NewTicker(period)
	defer t.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	var wakeAt time.Time
	d.apply(false)
	for {
		ticked := false
		select {
		case <-ctx.Done():
			return
		case <-d.stopc:
			return
		case <-t.C:
			d.state.Step(time.Now(), core.Tick{})
			ticked = true
		case <-wake.C:
			wakeAt = time.Time{}
			d.state.Step(time.Now(), core.Tick{})
			ticked = true
		case o := <-d.obs:
			d.state.Step(time.Now(), core.Observe{Obs: o})
		case m := <-d.peerIn:
			d.state.Step(time.Now(), m)
		case <-d.members:
			d.state.Step(time.Now(), core.Members{Live: d.liveMembers()})
		case f := <-d.calls:
			f()
		}
		urgent := d.state.Urgent()
		if urgent && !ticked {
			d.state.Step(time.Now(), core.Tick{})
		}
		d.apply(false)
		if d.exitCode != 0 {
			return
		}
		d.routeProxies()
		if next := d.state.NextWake(); !next.IsZero() && !next.Equal(wakeAt) {
			wakeAt = next
			wake.Reset(time.Until(next))
		}
		want := idle
		if urgent {
			want = fast
		}
		if want != period {
			period = want
			t.Reset(period)
		}
	}
}

// apply carries out what the state machine asked for, with a save even if
// nothing changed when force is set. The state is on disk before anything
// that reflects it leaves (core.Ready): when the save fails, votes and
// announcements are withheld until a retry succeeds. The outcome of a save
// goes back to the core, and the Ready it makes (its events, the withheld
// announcements again) is carried out at once.
func (d *Daemon) apply(force bool) {
	for {
		saved, err := d.carry(d.state.Ready(), force)
		if !saved {
			return
		}
		d.state.Step(time.Now(), core.Saved{Err: err})
		force = false
	}
}

// carry carries out one Ready and advances the core past it; saved says
// whether it tried a save, and err is that save's outcome.
func (d *Daemon) carry(rd core.Ready, force bool) (saved bool, err error) {
	now := time.Now()
	if rd.HardState != nil {
		d.hard = *rd.HardState
	}
	if rd.Settings != nil {
		d.settings = *rd.Settings
	}
	if rd.MustSave() || force {
		d.unsaved = true
	}
	if d.unsaved && (rd.MustSave() || force || !now.Before(d.saveRetryAt)) {
		d.save()
		err, saved = d.saveErr, true
		if err == nil {
			d.unsaved, d.saveBackoff = false, 0
		} else {
			d.saveBackoff = min(max(2*d.saveBackoff, saveRetryMin), saveRetryMax)
			d.saveRetryAt = now.Add(d.saveBackoff)
		}
	}
	if d.unsaved {
		rd.Withhold()
	}
	d.logRejected(now, rd.Rejected)
	if rd.Timers != nil {
		d.scripts.SetLimits(rd.Timers.ScriptMaxRuntime, rd.Timers.ScriptRetryDelay)
	}
	if rd.LinksChanged {
		d.links.Reconcile(d.state.Links("sentinel-" + d.cfg.MyID[:8]))
	}
	for _, e := range rd.Events {
		d.emit(e)
		if e.Level == notify.LevelWarning && e.Master != "" {
			for _, url := range d.state.Webhooks(e.Master) {
				d.hooks.Post(url, e)
			}
		}
	}
	for _, argv := range rd.Scripts {
		if !d.scripts.Queue(argv...) {
			d.log.Warn().Strs("argv", argv).Msg("script queue full: script dropped")
		}
	}
	for _, r := range rd.Requests {
		if !d.links.Send(r.Key, r.Req) {
			d.logUnsent(r)
		}
	}
	for _, p := range rd.Peers {
		d.sendPeer(p)
	}
	if len(rd.Join) > 0 {
		d.group.Join(rd.Join...)
	}
	if rd.Exit != 0 {
		d.log.Warn().Int("code", rd.Exit).Msg("simulated failure: crashing")
		d.exitCode = rd.Exit
		d.stop()
	}
	if rd.Changed {
		d.stale.Store(true)
	}
	d.state.Advance()
	return saved, err
}

func (d *Daemon) sendPeer(p core.PeerSend) {
	if p.To != "" {
		if err := d.group.Send(p.To, p.Msg); err != nil {
			d.log.Debug().Err(err).Str("to", p.To).Msg("gossip send failed")
		}
		return
	}
	d.group.Broadcast(p.Msg)
}

// emit logs an event and publishes it to subscribers.
func (d *Daemon) emit(e notify.Event) {
	lvl := zerolog.DebugLevel
	switch e.Level {
	case notify.LevelWarning:
		lvl = zerolog.WarnLevel
	case notify.LevelNotice:
		lvl = zerolog.InfoLevel
	}
	ev := d.log.WithLevel(lvl).Str("event", e.Channel())
	if e.Master != "" {
		ev = ev.Str("master", e.Master)
	}
	payload := e.Payload()
	ev.Msg(payload)
	d.metrics.ObserveEvent(e, time.Now())
	if e.Published() && d.srv != nil {
		d.srv.Publish(e.Channel(), payload)
	}
}

// save writes the state and settings the core last handed out into the
// config; d.saveErr is the outcome.
func (d *Daemon) save() {
	c := *d.cfg
	c.Apply(d.hard, d.settings)
	if d.users != nil {
		c.Users = d.users
	}
	stateFile, err := d.store.Save(&c)
	d.saveErr = err
	if err != nil {
		d.log.Error().Err(err).Str("config", d.cfg.Path).Msg("cannot save configuration: votes and announcements withheld")
		return
	}
	if stateFile && !d.warnedRO {
		d.warnedRO = true
		d.log.Warn().Str("config", d.cfg.Path).Str("dir", d.cfg.Dir).
			Msg("config file is not writable: state is kept in " + config.StateFileName + " in dir")
	}
}

// logRejected logs invalid network input, one line per source and
// rejectLogEvery at most, so a flood cannot flood the log.
func (d *Daemon) logRejected(now time.Time, rs []core.Rejection) {
	for _, r := range rs {
		if ok, suppressed := d.rejectLog.Allow(r.Source, now); ok {
			d.log.Warn().Str("source", r.Source).Uint64("suppressed", suppressed).Msg("invalid input dropped: " + r.Reason)
		}
	}
}

// logUnsent logs a command the link could not queue (the link is down or
// its queue is full): the core learns of it only by the missing reply, so
// a stalled failover step would otherwise leave no trace. The periodic
// PING, INFO and hello of a down instance are expected to fail and are not
// logged.
func (d *Daemon) logUnsent(r core.LinkRequest) {
	switch r.Req.(type) {
	case monitor.Ping, monitor.InfoRequest, monitor.Hello:
		return
	}
	if ok, suppressed := d.unsentLog.Allow(r.Key, time.Now()); ok {
		d.log.Warn().Str("link", r.Key).Str("request", fmt.Sprintf("%T", r.Req)).Uint64("suppressed", suppressed).
			Msg("request not sent: the link is gone or its queue is full")
	}
}

// saveUsers persists the users after an ACL change, in the loop.
func (d *Daemon) saveUsers(users []*acl.User) error {
	return d.exec(true, func(time.Time) error { d.users = users; return nil })
}

// sink hands link observations to the loop, blocking (back-pressure) until
// the loop stops.
func (d *Daemon) sink(o monitor.Observation) {
	select {
	case d.obs <- o:
	case <-d.done:
	}
}

// onPeerMessage is called from the gossip filter goroutine: never block it.
func (d *Daemon) onPeerMessage(from string, msg peer.Message) {
	select {
	case d.peerIn <- core.Peer{From: from, Msg: msg}:
	default:
		d.log.Warn().Str("from", from).Msg("peer message dropped: daemon busy")
	}
}

// onMembership only signals: the loop reads the latest set of members
// (liveMembers), so changes coalesce and none is lost.
func (d *Daemon) onMembership(string, bool) {
	select {
	case d.members <- struct{}{}:
	default:
	}
}

// liveMembers are the run ids of the live gossip members.
func (d *Daemon) liveMembers() []string {
	var live []string
	for _, m := range d.group.Members() {
		if m.Alive {
			live = append(live, m.Name)
		}
	}
	return live
}

// call runs f in the loop goroutine and waits for it. It gives up when the
// loop has stopped, and after callTimeout while the loop is busy.
func (d *Daemon) call(f func()) bool {
	done := make(chan struct{})
	timeout := time.NewTimer(callTimeout)
	defer timeout.Stop()
	select {
	case d.calls <- func() { f(); close(done) }:
	case <-d.done:
		return false
	case <-timeout.C:
		return false
	}
	<-done // the loop runs what it took
	return true
}

// gossipSecrets: the gossip-key lines, else a key derived from the password
// the sentinels already share, so a password secures gossip with no extra
// step.
func gossipSecrets(cfg *config.Config, log zerolog.Logger) ([][]byte, error) {
	var keys [][]byte
	for _, k := range cfg.GossipKeys {
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return nil, fmt.Errorf("sentinel gossip-key: %w", err)
		}
		keys = append(keys, b)
	}
	source := "gossip-key"
	switch {
	case len(keys) > 0:
	case cfg.SentinelPass != "":
		keys, source = [][]byte{gossip.KeyFromPassword(cfg.SentinelPass)}, "sentinel-pass"
	case cfg.RequirePass != "":
		keys, source = [][]byte{gossip.KeyFromPassword(cfg.RequirePass)}, "requirepass"
	case cfg.GossipRequireSecret:
		return nil, fmt.Errorf("%s: sentinel gossip-require-secret yes, but there is no secret: "+
			"set sentinel gossip-key, sentinel sentinel-pass or requirepass", cfg.Path)
	default:
		log.Warn().Msg("gossip is unauthenticated: anyone who reaches the gossip port can join the group, and " +
			"anyone who can send from a sentinel's address can speak for it; set requirepass, " +
			"sentinel sentinel-pass or sentinel gossip-key")
		return nil, nil
	}
	log.Info().Str("secret", source).Msg("gossip authenticated")
	return keys, nil
}

// advertiseIP is the address gossip peers reach us at, the one hellos on
// the master links carry: the announced one, else the bind address, else
// the address this host sends from towards the monitored masters. The
// warnings say where peers may not reach it.
func advertiseIP(cfg *config.Config, bind string) (string, []string) {
	if cfg.AnnounceIP != "" {
		return cfg.AnnounceIP, nil
	}
	ip := ""
	if b := net.ParseIP(bind); b != nil && !b.IsUnspecified() {
		ip = bind
	}
	var warnings []string
	for _, m := range cfg.Masters {
		src := sourceIP(m.Host, m.Port)
		switch {
		case src == "":
		case ip == "":
			ip = src
		case src != ip:
			warnings = append(warnings, fmt.Sprintf("hellos to master %s carry %s, gossip advertises %s: "+
				"set announce-ip to the address peers reach this sentinel at", m.Name, src, ip))
		}
	}
	if ip == "" {
		ip = "127.0.0.1"
		if private, err := sockaddr.GetPrivateIP(); err == nil && private != "" {
			ip = private
		}
	}
	if net.ParseIP(ip).IsLoopback() {
		for _, m := range cfg.Masters {
			if h := net.ParseIP(m.Host); h != nil && !h.IsLoopback() {
				warnings = append(warnings, "gossip advertises a loopback address: sentinels on other hosts "+
					"cannot reach this one; set announce-ip")
				break
			}
		}
	}
	return ip, warnings
}

// sourceIP is the local address this host sends from to an IP host (a UDP
// "connect" only consults the routing table); "" for a hostname or no route.
func sourceIP(host string, port int) string {
	if net.ParseIP(host) == nil {
		return ""
	}
	c, err := net.Dial("udp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return ""
	}
	defer c.Close()
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
		return a.IP.String()
	}
	return ""
}

// resolveHost looks a hostname up for the state machine, which reports
// IPs unless announce-hostnames is on. Like Redis it blocks the loop, once
// per new address, so the wait is short; an IPv4 address is preferred.
func resolveHost(host string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return "", false
	}
	for _, a := range addrs {
		if ip4 := a.IP.To4(); ip4 != nil {
			return ip4.String(), true
		}
	}
	return addrs[0].IP.String(), true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Refusals counts what gossip and the Redis port refused, for metrics.
func (d *Daemon) Refusals() metrics.Refusals {
	st := d.srv.Stats()
	return metrics.Refusals{GossipDropped: d.group.Dropped(), AuthFailures: st.AuthFailures,
		RejectedConnections: st.RejectedConnections}
}

// routeProxies hands the proxies this sentinel's current view; it runs in
// the loop after every change, so a promotion reroutes them at once.
func (d *Daemon) routeProxies() {
	if !d.proxyOn && !d.proxySet {
		return // without proxies the snapshot is not rebuilt at every change
	}
	d.proxySet = false
	snap := d.snapshot()
	var specs []proxy.Spec
	for _, m := range snap.Masters {
		for _, p := range m.Proxies {
			specs = append(specs, proxy.Spec{Master: m.Name, Role: p.Role, Addr: p.Addr, MaxClients: m.ProxyMaxClients})
		}
	}
	if len(specs) == 0 && !d.proxyOn {
		return
	}
	d.proxyOn = len(specs) > 0
	ready := d.ready(snap)
	routes := make(map[string]proxy.Route, len(snap.Masters))
	for i := range snap.Masters {
		routes[snap.Masters[i].Name] = proxy.RouteOf(&snap.Masters[i], snap.Tilt, ready)
	}
	d.proxies.Update(specs, routes)
}

// GossipMembers counts the other sentinels in the gossip group.
func (d *Daemon) GossipMembers() (alive, known int) {
	for _, m := range d.group.Members() {
		known++
		if m.Alive {
			alive++
		}
	}
	return alive, known
}

// Ready reports whether the gossip group has settled: a majority of the
// sentinels this one knows (itself included) gossip with it. Alone, it is
// ready once it had a few seconds to hear from peers.
func (d *Daemon) Ready() bool { return d.ready(d.Snapshot()) }

func (d *Daemon) ready(snap *view.Snapshot) bool {
	peers := map[string]bool{}
	for _, m := range snap.Masters {
		for _, s := range m.Sentinels {
			peers[s.RunID] = true
		}
	}
	if len(peers) == 0 {
		return time.Since(d.started) > 5*time.Second
	}
	alive := 0
	for id := range peers {
		if d.group.Alive(id) {
			alive++
		}
	}
	return alive+1 >= election.Majority(len(peers)+1)
}
