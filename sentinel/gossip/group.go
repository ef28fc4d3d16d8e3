package gossip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/sentinel/peer"
)

const (
	joinMinBackoff    = 100 * time.Millisecond
	joinMaxBackoff    = 5 * time.Second
	reconnectInterval = 2 * time.Second
	// reconnectTimeout is how long a failed peer is remembered and redialled,
	// unless Join was given its address; after that it is presumed
	// decommissioned (or was never real: without a secret anyone can
	// announce a member).
	reconnectTimeout = 3 * time.Minute
	leaveTimeout     = 500 * time.Millisecond
	// maxWanted bounds the addresses Join remembers: far more sentinels
	// than any group has, far fewer than a flood of forged hellos offers.
	maxWanted = 1024
	// floorRefresh is how often the sequence floor is announced.
	floorRefresh = 10 * time.Second
)

// ErrUnknownMember is returned by Send for a name that is not a live member.
var ErrUnknownMember = errors.New("gossip: unknown or failed member")

// Member is another node of the group.
type Member struct {
	Name  string
	Addr  string
	Port  int
	Alive bool
}

// Group is this sentinel's membership in the gossip group.
type Group struct {
	name         string
	log          zerolog.Logger
	onMessage    func(from string, msg peer.Message)
	onMembership func(name string, alive bool)

	ml     *memberlist.Memberlist
	net    memberlist.Transport // sends our datagrams
	sealer sealer
	seq    atomic.Uint64 // last sequence number sent
	drops  *drops

	packets    chan *memberlist.Packet // memberlist's datagrams, ours filtered out
	filterDone chan struct{}           // stops the filter after memberlist's Shutdown

	kick    chan struct{} // new seeds for the joiner
	changed chan struct{} // new membership changes for the notifier
	ctx     context.Context
	cancel  context.CancelFunc
	loops   sync.WaitGroup // joiner and notifier

	closeOnce sync.Once
	closeErr  error

	// mu guards what memberlist callbacks update and the joiner reads; the
	// callbacks must not wait on the joiner, which may sit in a slow Join.
	mu      sync.Mutex
	seeds   map[string]struct{}      // Join addresses not yet joined through
	wanted  map[string]struct{}      // every Join address: redialled while lost
	lost    map[string]lostPeer      // failed (not left) peers, by name
	leaving map[string]struct{}      // peers that announced their leave
	live    map[string]liveNode      // other members alive in memberlist
	windows map[string]*replayWindow // by sender, while it is a member or lost
	changes []change                 // for OnMembership, oldest first
}

type change struct {
	name  string
	alive bool
}

type lostPeer struct {
	member Member
	since  time.Time
}

// New starts a node listening on cfg.Port (UDP, plus TCP streams through mux,
// or through a listener of its own when mux is nil). It joins nobody until
// Join is called.
func New(cfg Config, mux *Mux) (*Group, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("gossip config: %w", err)
	}
	t, err := newNetTransport(cfg, mux)
	if err != nil {
		return nil, fmt.Errorf("gossip transport: %w", err)
	}
	g, err := newGroup(cfg, t)
	if err != nil {
		return nil, errors.Join(err, t.Shutdown())
	}
	return g, nil
}

// newGroup starts memberlist on t; tests pass an in-memory transport.
func newGroup(cfg Config, t memberlist.Transport) (*Group, error) {
	g := &Group{
		name:         cfg.Name,
		log:          cfg.Log,
		onMessage:    cfg.OnMessage,
		onMembership: cfg.OnMembership,
		net:          t,
		sealer:       sealer{label: cfg.Label},
		drops:        newDrops(cfg.Log),
		packets:      make(chan *memberlist.Packet),
		filterDone:   make(chan struct{}),
		kick:         make(chan struct{}, 1),
		changed:      make(chan struct{}, 1),
		seeds:        make(map[string]struct{}),
		wanted:       make(map[string]struct{}),
		live:         make(map[string]liveNode),
		lost:         make(map[string]lostPeer),
		leaving:      make(map[string]struct{}),
		windows:      make(map[string]*replayWindow),
	}
	for _, k := range cfg.Keys {
		g.sealer.keys = append(g.sealer.keys, derive(k, infoMAC))
	}
	// Starting from the wall clock keeps sequences rising across restarts.
	g.seq.Store(uint64(time.Now().UnixNano()))
	mc, err := cfg.memberlistConfig(filtered{Transport: t, packets: g.packets}, &delegate{g: g}, g.drops)
	if err != nil {
		return nil, fmt.Errorf("gossip config: %w", err)
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("start memberlist: %w", err)
	}
	g.ml = ml
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.loops.Add(3)
	go g.filter()
	go g.joinLoop()
	go g.notifyLoop()
	return g, nil
}

// Dropped counts refused input by reason since start, for metrics:
// datagrams of ours (malformed, unauthenticated, replayed, stale,
// sender-mismatch, unknown-sender, wrong-address) and memberlist packets
// or streams it refused (memberlist).
func (g *Group) Dropped() map[string]uint64 { return g.drops.snapshot() }

// authenticated reports whether the group has a secret.
func (g *Group) authenticated() bool { return len(g.sealer.keys) > 0 }

// Join adds seed addresses ("ip:port", "host:port" or "ip") and returns at
// once; a background loop retries them with back-off until one answers.
func (g *Group) Join(addrs ...string) {
	g.mu.Lock()
	refused := 0
	for _, a := range addrs {
		if _, ok := g.wanted[a]; !ok && len(g.wanted) >= maxWanted {
			refused++
			continue
		}
		g.seeds[a] = struct{}{}
		g.wanted[a] = struct{}{}
	}
	g.mu.Unlock()
	if refused > 0 {
		g.log.Warn().Int("refused", refused).Int("limit", maxWanted).Msg("gossip join: too many addresses")
	}
	select {
	case g.kick <- struct{}{}:
	default: // a kick is already pending
	}
}

// Broadcast sends msg to every live member in one datagram each, at once
// rather than on the next gossip round. Messages that cannot be encoded are
// logged and dropped.
func (g *Group) Broadcast(msg peer.Message) {
	b, err := g.seal(kindPeer, msg)
	if err != nil {
		g.log.Error().Err(err).Msg("gossip broadcast dropped")
		return
	}
	g.writeAll(b)
}

// Send delivers msg to one member in a single best-effort datagram. Safe to
// call from OnMessage (it never waits on a stream).
func (g *Group) Send(name string, msg peer.Message) error {
	n, ok := g.member(name)
	if !ok {
		return fmt.Errorf("send to %s: %w", name, ErrUnknownMember)
	}
	b, err := g.seal(kindPeer, msg)
	if err != nil {
		return fmt.Errorf("send to %s: %w", name, err)
	}
	if _, err := g.net.WriteTo(b, n.addr()); err != nil {
		return fmt.Errorf("send to %s: %w", name, err)
	}
	return nil
}

func (g *Group) seal(kind byte, msg peer.Message) ([]byte, error) {
	return g.sealer.encode(envelope{kind: kind, from: g.name, seq: g.seq.Add(1), msg: msg})
}

// writeAll sends b to every live member.
func (g *Group) writeAll(b []byte) {
	g.mu.Lock()
	addrs := make(map[string]string, len(g.live))
	for name, n := range g.live {
		addrs[name] = n.addr()
	}
	g.mu.Unlock()
	for name, a := range addrs {
		if _, err := g.net.WriteTo(b, a); err != nil {
			g.log.Debug().Err(err).Str("to", name).Msg("gossip send failed")
		}
	}
}

// liveNode is our copy of a live member. memberlist keeps writing the
// nodes its Members returns, so they are read only in its callbacks.
type liveNode struct {
	ip    net.IP
	port  int
	floor uint64 // its sequence floor (NodeMeta); 0 if unknown
}

func liveNodeOf(n *memberlist.Node) liveNode {
	l := liveNode{ip: slices.Clone(n.Addr), port: int(n.Port)}
	if len(n.Meta) == seqSize {
		l.floor = binary.BigEndian.Uint64(n.Meta)
	}
	return l
}

func (n liveNode) addr() string { return net.JoinHostPort(n.ip.String(), strconv.Itoa(n.port)) }

// member returns the live member called name (never this node).
func (g *Group) member(name string) (liveNode, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, ok := g.live[name]
	return n, ok
}

// Alive reports whether name is another member not (yet) declared failed.
func (g *Group) Alive(name string) bool {
	_, ok := g.member(name)
	return ok
}

// Members lists the other nodes: live ones and failed ones still being
// reconnected, sorted by name. Nodes that left gracefully are not listed.
func (g *Group) Members() []Member {
	var out []Member
	g.mu.Lock()
	for name, n := range g.live {
		out = append(out, Member{Name: name, Addr: n.ip.String(), Port: n.port, Alive: true})
	}
	for name, p := range g.lost {
		if _, live := g.live[name]; !live {
			out = append(out, p.member)
		}
	}
	g.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Close announces the leave (so peers see "left", not "failed"), shuts
// memberlist down and stops the Group's goroutines. Safe to call again.
func (g *Group) Close() error { return g.shutdown(true) }

// Crash stops the Group as a crash would: no leave intent and no leave, so
// peers detect a failure (SENTINEL SIMULATE-FAILURE).
func (g *Group) Crash() error { return g.shutdown(false) }

func (g *Group) shutdown(leave bool) error {
	g.closeOnce.Do(func() {
		g.cancel()
		if leave {
			g.announceLeave()
			if err := g.ml.Leave(leaveTimeout); err != nil {
				// Nobody reachable to tell; they will detect the failure instead.
				g.log.Warn().Err(err).Msg("gossip leave not acknowledged")
			}
		}
		if err := g.ml.Shutdown(); err != nil {
			g.closeErr = fmt.Errorf("shutdown memberlist: %w", err)
		}
		close(g.filterDone)
		g.loops.Wait()
	})
	return g.closeErr
}

// announceLeave tells every member that we leave. memberlist's own leave
// reaches peers' NotifyLeave without saying whether the node left or
// failed, so peers learn it from this intent first.
func (g *Group) announceLeave() {
	b, err := g.seal(kindLeave, nil)
	if err != nil {
		g.log.Error().Err(err).Msg("gossip leave intent not sent")
		return
	}
	g.writeAll(b)
}

// joinLoop owns joining: seeds with back-off until one answers, and periodic
// reconnects to failed peers, whom memberlist alone forgets after a partition.
func (g *Group) joinLoop() {
	defer g.loops.Done()
	var backoff time.Duration
	floorAt := time.Now()
	timer := time.NewTimer(reconnectInterval)
	defer timer.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-g.kick:
		case <-timer.C:
		}
		seeds, lost := g.joinTargets(time.Now())
		wait := reconnectInterval
		if len(seeds) > 0 {
			if n, err := g.ml.Join(seeds); n > 0 {
				g.seedsJoined(seeds)
				backoff = 0
				g.log.Info().Strs("seeds", seeds).Int("contacted", n).Msg("gossip joined")
			} else {
				backoff = min(max(2*backoff, joinMinBackoff), joinMaxBackoff)
				wait = backoff
				g.log.Warn().Err(err).Strs("seeds", seeds).Dur("retry_in", backoff).Msg("gossip join failed")
			}
		}
		for _, addr := range lost {
			if g.ctx.Err() != nil {
				return
			}
			// On contact the peer refutes our stale "dead" and becomes alive.
			if _, err := g.ml.Join([]string{addr}); err != nil {
				g.log.Debug().Err(err).Str("addr", addr).Msg("gossip reconnect failed")
			}
		}
		if time.Since(floorAt) >= floorRefresh {
			floorAt = time.Now()
			g.raiseFloor()
		}
		timer.Reset(wait)
	}
}

// raiseFloor announces the last sequence number sent as this node's floor
// (memberlist node meta, authenticated with a secret). Receivers refuse
// anything at or below it even with an empty replay window, after they
// restarted, so a captured datagram stays good for floorRefresh at most.
func (g *Group) raiseFloor() {
	if err := g.ml.UpdateNode(tcpTimeout); err != nil {
		g.log.Debug().Err(err).Msg("gossip floor update not sent in time")
	}
}

// joinTargets snapshots pending seeds (minus addresses of live members) and
// addresses of failed peers, forgetting peers lost for too long.
func (g *Group) joinTargets(now time.Time) (seeds, lost []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	live := make(map[string]bool)
	for _, n := range g.live {
		live[n.addr()] = true
	}
	for a := range g.seeds {
		if live[a] {
			delete(g.seeds, a)
			continue
		}
		seeds = append(seeds, a)
	}
	for name, p := range g.lost {
		addr := net.JoinHostPort(p.member.Addr, strconv.Itoa(p.member.Port))
		if _, wanted := g.wanted[addr]; !wanted && now.Sub(p.since) > reconnectTimeout {
			delete(g.lost, name)
			delete(g.windows, name)
			continue
		}
		lost = append(lost, addr)
	}
	slices.Sort(seeds)
	slices.Sort(lost)
	return seeds, lost
}

func (g *Group) seedsJoined(seeds []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, a := range seeds {
		delete(g.seeds, a)
	}
}

// notify queues a membership change. memberlist holds its node lock while
// calling NotifyJoin/NotifyLeave, so OnMembership runs on the notifier
// goroutine instead, where it may call Alive, Members or Send.
func (g *Group) notify(name string, alive bool) {
	if g.onMembership == nil {
		return
	}
	g.mu.Lock()
	g.changes = append(g.changes, change{name, alive})
	g.mu.Unlock()
	select {
	case g.changed <- struct{}{}:
	default: // the notifier will see this change with the pending ones
	}
}

// notifyLoop delivers membership changes in order until Close.
func (g *Group) notifyLoop() {
	defer g.loops.Done()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-g.changed:
		}
		g.mu.Lock()
		batch := g.changes
		g.changes = nil
		g.mu.Unlock()
		for _, c := range batch {
			g.onMembership(c.name, c.alive)
		}
	}
}

// filtered is the transport memberlist sees: the Group's filter takes our
// datagrams out of the packet stream and passes memberlist the rest.
type filtered struct {
	memberlist.Transport
	packets chan *memberlist.Packet
}

func (f filtered) PacketCh() <-chan *memberlist.Packet { return f.packets }

// filter owns the transport's packet channel until memberlist has shut down.
func (g *Group) filter() {
	defer g.loops.Done()
	in := g.net.PacketCh()
	for {
		var p *memberlist.Packet
		select {
		case p = <-in:
		case <-g.filterDone:
			return
		}
		if len(p.Buf) > 0 && p.Buf[0] == packetMagic {
			g.receive(p)
			continue
		}
		select {
		case g.packets <- p:
		case <-g.filterDone:
			return
		}
	}
}

// receive checks one datagram of ours and hands its message on: it must
// carry the group's tag, name a live member as sender (the same the message
// names), arrive from that member's address when there is no secret, and
// carry a sequence number not seen before.
func (g *Group) receive(p *memberlist.Packet) {
	from := p.From
	e, err := g.sealer.decode(p.Buf)
	if err != nil {
		reason := dropMalformed
		if errors.Is(err, errUnauthenticated) {
			reason = dropUnauthenticated
		}
		g.drops.add(reason, func(ev *zerolog.Event) *zerolog.Event {
			return ev.Stringer("addr", from).Err(err)
		})
		return
	}
	refuse := func(reason string) {
		g.drops.add(reason, func(ev *zerolog.Event) *zerolog.Event {
			return ev.Stringer("addr", from).Str("sender", e.from)
		})
	}
	if e.kind == kindPeer && e.msg.Sender() != e.from {
		refuse(dropSenderMismatch)
		return
	}
	n, ok := g.member(e.from)
	if !ok {
		refuse(dropUnknownSender)
		return
	}
	if !g.authenticated() && !sameIP(from, n.ip) {
		refuse(dropWrongAddress)
		return
	}
	// Older than the member's announced floor: a replay that an empty
	// window (the member restarted, or we did) would let through.
	if e.seq <= n.floor {
		refuse(dropStale)
		return
	}
	g.mu.Lock()
	w := g.windows[e.from]
	if w == nil {
		w = &replayWindow{}
		g.windows[e.from] = w
	}
	ok, reason := w.accept(e.seq)
	if ok && e.kind == kindLeave {
		g.leaving[e.from] = struct{}{}
		delete(g.lost, e.from)
	}
	g.mu.Unlock()
	if !ok {
		refuse(reason)
		return
	}
	if e.msg != nil && g.onMessage != nil {
		g.onMessage(e.from, e.msg)
	}
}

func sameIP(a net.Addr, ip net.IP) bool {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.IP.Equal(ip)
	case *net.TCPAddr:
		return a.IP.Equal(ip)
	}
	return false
}

// delegate receives memberlist's callbacks for a Group.
type delegate struct{ g *Group }

var (
	_ memberlist.Delegate      = (*delegate)(nil)
	_ memberlist.EventDelegate = (*delegate)(nil)
)

// NodeMeta is this node's sequence floor: every datagram it sends from now
// on has a higher sequence number. (One being sent on another goroutine
// may be refused; every message is re-sent, so it is lost like a packet.)
func (d *delegate) NodeMeta(int) []byte { return binary.BigEndian.AppendUint64(nil, d.g.seq.Load()) }

// NotifyMsg: our messages travel as datagrams of their own (see filter),
// never as memberlist user messages, which carry no sender address.
func (d *delegate) NotifyMsg([]byte) { d.g.drops.add(dropMalformed, nil) }

func (d *delegate) GetBroadcasts(int, int) [][]byte { return nil }

// Opinions are re-sent periodically, so no state rides on push/pull.
func (d *delegate) LocalState(bool) []byte { return nil }

func (d *delegate) MergeRemoteState([]byte, bool) {}

func (d *delegate) NotifyJoin(n *memberlist.Node) {
	if n.Name == d.g.name {
		return
	}
	d.g.mu.Lock()
	d.g.live[n.Name] = liveNodeOf(n)
	delete(d.g.lost, n.Name)
	delete(d.g.leaving, n.Name)
	d.g.mu.Unlock()
	d.g.log.Info().Str("node", n.Name).Str("addr", n.Address()).Msg("gossip member alive")
	d.g.notify(n.Name, true)
}

func (d *delegate) NotifyLeave(n *memberlist.Node) {
	if n.Name == d.g.name {
		return
	}
	// n.State is not maintained by memberlist here, hence the intent.
	d.g.mu.Lock()
	delete(d.g.live, n.Name)
	_, left := d.g.leaving[n.Name]
	delete(d.g.leaving, n.Name)
	if left {
		delete(d.g.windows, n.Name) // it restarts with higher sequence numbers
	} else {
		d.g.lost[n.Name] = lostPeer{
			member: Member{Name: n.Name, Addr: n.Addr.String(), Port: int(n.Port)},
			since:  time.Now(),
		}
	}
	d.g.mu.Unlock()
	d.g.log.Info().Str("node", n.Name).Bool("left", left).Msg("gossip member gone")
	d.g.notify(n.Name, false)
}

// NotifyUpdate: a member announced a new sequence floor.
func (d *delegate) NotifyUpdate(n *memberlist.Node) {
	if n.Name == d.g.name {
		return
	}
	d.g.mu.Lock()
	if _, ok := d.g.live[n.Name]; ok {
		d.g.live[n.Name] = liveNodeOf(n)
	}
	d.g.mu.Unlock()
}
