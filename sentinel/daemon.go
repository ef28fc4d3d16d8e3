package sentinel

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	sockaddr "github.com/hashicorp/go-sockaddr"
	"github.com/rs/zerolog"
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
	links    *link.Manager
	srv      *server.Server
	tls      *tlsconf.Set // nil without TLS; swapped by SENTINEL CONFIG SET
	group    *gossip.Group
	scripts  *script.Runner
	hooks    *webhook.Sender
	metrics  *metrics.Metrics
	proxies  *proxy.Manager
	proxyOn  bool // some listener was configured at the last Update
	proxySet bool // the config or a SENTINEL SET may have added a listener
	started  time.Time
	obs      chan monitor.Observation
	peerIn   chan any
	members  chan membership
	calls    chan func()
	stop     context.CancelFunc
	stale    atomic.Bool
	snap     atomic.Pointer[view.Snapshot]
	saveErr  error
	users    []*acl.User // set by ACL SETUSER/DELUSER; nil: the config's
	exitCode int
	warnedRO bool

	// Persist before send: while unsaved, nothing carrying the unsaved
	// state leaves (core.Output.Withhold); the save is retried with back-off.
	unsaved     bool
	saveRetryAt time.Time
	saveBackoff time.Duration
	rejectLog   *ratelog.Limiter // by source of the invalid input
}

const (
	saveRetryMin = 100 * time.Millisecond
	saveRetryMax = 5 * time.Second
	// rejectLogEvery is how often invalid input of one source is logged;
	// the rest is counted (Snapshot.Rejected) and summed into the next line.
	rejectLogEvery = 10 * time.Second
)

type membership struct {
	name  string
	alive bool
}

// Run runs the sentinel until ctx ends or a SHUTDOWN arrives. The state is
// persisted on the way out.
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
	if o.Tick <= 0 {
		o.Tick = 10 * time.Millisecond
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	d := &Daemon{
		log:     o.Log,
		cfg:     cfg,
		obs:     make(chan monitor.Observation, 1024),
		peerIn:  make(chan any, 1024),
		members: make(chan membership, 64),
		calls:   make(chan func()),
		stop:    stop,
		started: time.Now(),

		rejectLog: ratelog.New(rejectLogEvery),
	}
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
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			d.log.Warn().Err(err).Str("pidfile", cfg.PidFile).Msg("cannot write pid file")
		} else {
			defer os.Remove(cfg.PidFile)
		}
	}
	if cfg.Daemonize {
		d.log.Warn().Msg("daemonize yes is ignored: run under a supervisor (systemd) instead")
	}

	maxClients, err := fitMaxClients(cmp.Or(cfg.MaxClients, server.DefaultMaxClients), d.log)
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
		d.log.Warn().Str("advertise", selfIP).Msg(w)
	}
	timers := view.DefaultTimers()
	d.state = core.New(core.Options{
		MyID: cfg.MyID, Port: helloPort(cfg), AnnounceIP: cfg.AnnounceIP, AnnouncePort: cfg.AnnouncePort,
		ResolveHostnames: cfg.ResolveHostnames, AnnounceHostnames: cfg.AnnounceHostnames,
		DenyScriptsReconfig: cfg.DenyScriptsReconfig, SentinelUser: cfg.SentinelUser,
		SentinelPass: cfg.SentinelPass, RequirePass: cfg.RequirePass, SelfIP: selfIP,
		Timers: timers, Seed: time.Now().UnixNano(), Desync: core.CandidacyDelay,
		Executable: func(p string) bool { return unix.Access(p, unix.X_OK) == nil },
		Resolve:    resolveHost,
	}, cfg, time.Now())

	if firstStart {
		d.save()
		if d.saveErr != nil {
			return fmt.Errorf("persist generated sentinel myid: %w", d.saveErr)
		}
	}

	d.scripts = script.New(script.Options{
		MaxRunning: 16, MaxQueued: 256, MaxRuntime: timers.ScriptMaxRuntime, RetryDelay: timers.ScriptRetryDelay,
		MaxRuns: 10, OnEvent: d.emit, Log: d.log.With().Str("component", "scripts").Logger(),
	})
	d.hooks = webhook.New(webhook.Options{SentinelID: cfg.MyID,
		Log: d.log.With().Str("component", "webhooks").Logger()})
	d.links = link.NewManager(d.sink(ctx), d.log.With().Str("component", "monitor").Logger())
	if tlsSet != nil {
		d.tls = tlsSet
		d.links.SetTLS(linkTLS(cfg, tlsSet))
	}
	defer d.links.Close()

	keys, err := gossipSecrets(cfg, d.log)
	if err != nil {
		return err
	}
	gport := cmp.Or(cfg.GossipPort, lns.muxPort)
	var gmux *gossip.Mux
	if gport == lns.muxPort {
		gmux = lns.mux
	}
	d.group, err = gossip.New(gossip.Config{
		Name: cfg.MyID, BindAddr: orDefault(bind, "0.0.0.0"), Port: gport, AdvertiseAddr: selfIP,
		AdvertisePort: gport, Label: "sentinel", Keys: keys,
		Log:          d.log.With().Str("component", "gossip").Logger(),
		OnMessage:    d.onPeerMessage,
		OnMembership: d.onMembership,
	}, gmux)
	if err != nil {
		return fmt.Errorf("start gossip on port %d: %w", gport, err)
	}
	defer func() {
		if d.exitCode != 0 {
			d.group.Crash()
		} else {
			d.group.Close()
		}
	}()

	d.srv = server.New(server.Options{
		Listener: lns.redis, Backend: d, RequirePass: cfg.RequirePass, Version: Version,
		ConfigFile: cfg.Path, MaxClients: maxClients, Shutdown: stop, Log: d.log.With().Str("component", "server").Logger(),
		Users: cfg.Users, SaveUsers: d.saveUsers,
	})
	srvDone := make(chan error, 1)
	go func() { srvDone <- d.srv.Serve() }()
	defer func() { d.srv.Close(); <-srvDone }()

	if tlsSet != nil {
		d.watchTLS(ctx, tlsSet) // after d.srv is set: it may publish at once
	}
	go d.scripts.Run(ctx)
	go d.hooks.Run(ctx)
	if cfg.MetricsAddr != "" {
		go func() {
			if err := metrics.Serve(ctx, cfg.MetricsAddr, d.metrics, d.log.With().Str("component", "metrics").Logger()); err != nil {
				d.log.Error().Err(err).Msg("metrics server stopped")
			}
		}()
	}

	d.log.Info().Str("config", cfg.Path).Str("dir", cfg.Dir).Int("port", cfg.Port).Int("tls-port", cfg.TLS.Port).Str("myid", cfg.MyID).
		Int("masters", len(cfg.Masters)).Msg("sentinel started")
	if o.Ready != nil {
		close(o.Ready)
	}
	join := append([]string(nil), cfg.GossipJoin...)
	for _, m := range cfg.Masters {
		for _, ks := range m.KnownSentinels {
			join = append(join, net.JoinHostPort(ks.Host, strconv.Itoa(ks.Port)))
		}
	}
	if len(join) > 0 {
		d.group.Join(join...)
	}
	d.loop(ctx, o.Tick, 100*time.Millisecond)
	d.proxies.Close()
	if d.exitCode != 0 {
		// A simulated crash stops like a real one: nothing saved, no leave.
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
	d.apply(d.state.Drain())
	for {
		ticked := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.state.Tick(time.Now())
			ticked = true
		case <-wake.C:
			wakeAt = time.Time{}
			d.state.Tick(time.Now())
			ticked = true
		case o := <-d.obs:
			d.state.Observe(time.Now(), o)
		case m := <-d.peerIn:
			d.state.HandlePeer(time.Now(), m)
		case m := <-d.members:
			d.state.SetPeerGossip(m.name, m.alive)
		case f := <-d.calls:
			f()
		}
		urgent := d.state.Urgent()
		if urgent && !ticked {
			d.state.Tick(time.Now())
		}
		d.apply(d.state.Drain())
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

// apply carries out what the state machine asked for. The state is on disk
// before anything that reflects it leaves: when the save fails, votes and
// announcements are withheld until a retry succeeds.
func (d *Daemon) apply(out core.Output) {
	now := time.Now()
	if out.Persist {
		d.unsaved = true
	}
	if d.unsaved && (out.Persist || !now.Before(d.saveRetryAt)) {
		d.save()
		if d.saveErr == nil {
			d.unsaved, d.saveBackoff = false, 0
		} else {
			d.saveBackoff = min(max(2*d.saveBackoff, saveRetryMin), saveRetryMax)
			d.saveRetryAt = now.Add(d.saveBackoff)
		}
		// Saved's events and re-announcements go out with this step.
		more := d.state.Drain()
		out.Events = append(out.Events, more.Events...)
		out.Peers = append(out.Peers, more.Peers...)
		out.Requests = append(out.Requests, more.Requests...)
	}
	if d.unsaved {
		out.Withhold()
	}
	d.logRejected(now, out.Rejected)
	if out.LinksChanged {
		d.links.Reconcile(d.state.Links("sentinel-" + d.cfg.MyID[:8]))
	}
	for _, e := range out.Events {
		d.emit(e)
		if e.Level == notify.LevelWarning && e.Master != "" {
			for _, url := range d.state.Webhooks(e.Master) {
				d.hooks.Post(url, e)
			}
		}
	}
	for _, argv := range out.Scripts {
		if !d.scripts.Queue(argv...) {
			d.log.Warn().Strs("argv", argv).Msg("script queue full: script dropped")
		}
	}
	for _, r := range out.Requests {
		d.links.Send(r.Key, r.Req)
	}
	for _, p := range out.Peers {
		d.sendPeer(p)
	}
	if len(out.Join) > 0 {
		d.group.Join(out.Join...)
	}
	if out.Exit != 0 {
		d.log.Warn().Int("code", out.Exit).Msg("simulated failure: crashing")
		d.exitCode = out.Exit
		d.stop()
	}
	if d.state.Dirty() {
		d.stale.Store(true)
	}
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

// save writes the state and reports the outcome to the state machine.
func (d *Daemon) save() {
	c := d.state.Config()
	if d.users != nil {
		c.Users = d.users
	}
	stateFile, err := config.Save(c)
	d.saveErr = err
	d.state.Saved(time.Now(), err)
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

// saveUsers persists the users after an ACL change, in the loop.
func (d *Daemon) saveUsers(users []*acl.User) error {
	return d.exec(true, func(time.Time) error { d.users = users; return nil })
}

// sink hands link observations to the loop, blocking (back-pressure) until
// the daemon stops.
func (d *Daemon) sink(ctx context.Context) func(monitor.Observation) {
	return func(o monitor.Observation) {
		select {
		case d.obs <- o:
		case <-ctx.Done():
		}
	}
}

// onPeerMessage is called from the gossip filter goroutine: never block it.
func (d *Daemon) onPeerMessage(from string, msg any) {
	select {
	case d.peerIn <- msg:
	default:
		d.log.Warn().Str("from", from).Msg("peer message dropped: daemon busy")
	}
}

func (d *Daemon) onMembership(name string, alive bool) {
	select {
	case d.members <- membership{name, alive}:
	default:
		d.log.Warn().Str("peer", name).Msg("membership change dropped: daemon busy")
	}
}

// call runs f in the loop goroutine and waits for it.
func (d *Daemon) call(f func()) bool {
	done := make(chan struct{})
	select {
	case d.calls <- func() { f(); close(done) }:
	case <-time.After(5 * time.Second):
		return false
	}
	<-done
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
