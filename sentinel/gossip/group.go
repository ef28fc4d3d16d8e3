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
	// reconnectTimeout is how long a failed peer is remembered and redialled;
	// after that it is presumed decommissioned.
	reconnectTimeout = 6 * time.Hour
	leaveTimeout     = 500 * time.Millisecond
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
	onMessage    func(from string, msg any)
	onMembership func(name string, alive bool)

	ml     *memberlist.Memberlist
	queue  *memberlist.TransmitLimitedQueue
	others atomic.Int32 // alive other nodes; sizes the retransmit count

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
	seeds   map[string]struct{} // Join addresses not yet joined through
	lost    map[string]lostPeer // failed (not left) peers, by name
	leaving map[string]struct{} // peers that announced their leave
	changes []change            // for OnMembership, oldest first
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
		kick:         make(chan struct{}, 1),
		changed:      make(chan struct{}, 1),
		seeds:        make(map[string]struct{}),
		lost:         make(map[string]lostPeer),
		leaving:      make(map[string]struct{}),
	}
	g.queue = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return int(g.others.Load()) + 1 },
		RetransmitMult: retransmitMult,
	}
	g.queue.QueueBroadcast(queueAnchor{})
	mc, err := cfg.memberlistConfig(t, &delegate{g: g})
	if err != nil {
		return nil, fmt.Errorf("gossip config: %w", err)
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("start memberlist: %w", err)
	}
	g.ml = ml
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.loops.Add(2)
	go g.joinLoop()
	go g.notifyLoop()
	return g, nil
}

// Join adds seed addresses ("ip:port", "host:port" or "ip") and returns at
// once; a background loop retries them with back-off until one answers.
func (g *Group) Join(addrs ...string) {
	g.mu.Lock()
	for _, a := range addrs {
		g.seeds[a] = struct{}{}
	}
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default: // a kick is already pending
	}
}

// Broadcast gossips msg to every member. A queued message with the same type,
// sender and master is replaced, so only the latest opinion travels.
// Messages that cannot be encoded are logged and dropped.
func (g *Group) Broadcast(msg any) {
	b, err := encodeEnvelope(g.name, msg)
	if err != nil {
		g.log.Error().Err(err).Msg("gossip broadcast dropped")
		return
	}
	g.queue.QueueBroadcast(&broadcast{key: broadcastKey(msg), msg: b})
}

// Send delivers msg to one member in a single best-effort packet. Safe to
// call from OnMessage (it never waits on a stream).
func (g *Group) Send(name string, msg any) error {
	b, err := encodeEnvelope(g.name, msg)
	if err != nil {
		return fmt.Errorf("send to %s: %w", name, err)
	}
	for _, n := range g.ml.Members() {
		if n.Name == name {
			if err := g.ml.SendBestEffort(n, b); err != nil {
				return fmt.Errorf("send to %s: %w", name, err)
			}
			return nil
		}
	}
	return fmt.Errorf("send to %s: %w", name, ErrUnknownMember)
}

// Alive reports whether name is a member not (yet) declared failed.
func (g *Group) Alive(name string) bool {
	for _, n := range g.ml.Members() {
		if n.Name == name {
			return true
		}
	}
	return false
}

// Members lists the other nodes: live ones and failed ones still being
// reconnected, sorted by name. Nodes that left gracefully are not listed.
func (g *Group) Members() []Member {
	var out []Member
	live := make(map[string]bool)
	for _, n := range g.ml.Members() {
		if n.Name == g.name {
			continue
		}
		live[n.Name] = true
		out = append(out, Member{Name: n.Name, Addr: n.Addr.String(), Port: int(n.Port), Alive: true})
	}
	g.mu.Lock()
	for name, p := range g.lost {
		if !live[name] {
			out = append(out, p.member)
		}
	}
	g.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Close announces the leave (so peers see "left", not "failed"), shuts
// memberlist down and stops the Group's goroutines. Safe to call again.
func (g *Group) Close() error {
	g.closeOnce.Do(func() {
		g.cancel()
		g.announceLeave()
		if err := g.ml.Leave(leaveTimeout); err != nil {
			// Nobody reachable to tell; they will detect the failure instead.
			g.log.Warn().Err(err).Msg("gossip leave not acknowledged")
		}
		if err := g.ml.Shutdown(); err != nil {
			g.closeErr = fmt.Errorf("shutdown memberlist: %w", err)
		}
		g.loops.Wait()
	})
	return g.closeErr
}

// announceLeave gossips our intent to leave and waits until it has been
// sent. memberlist's own leave reaches peers' NotifyLeave without saying
// whether the node left or failed, so peers learn it from this intent first.
func (g *Group) announceLeave() {
	if g.others.Load() == 0 {
		return // nobody to tell, and nothing would ever send it
	}
	sent := make(chan struct{})
	g.queue.QueueBroadcast(&broadcast{key: "leave\x00" + g.name, msg: encodeLeave(g.name), finished: sent})
	timer := time.NewTimer(leaveTimeout)
	defer timer.Stop()
	select {
	case <-sent:
	case <-timer.C:
		g.log.Warn().Msg("gossip leave intent not sent in time")
	}
}

// joinLoop owns joining: seeds with back-off until one answers, and periodic
// reconnects to failed peers, whom memberlist alone forgets after a partition.
func (g *Group) joinLoop() {
	defer g.loops.Done()
	var backoff time.Duration
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
		timer.Reset(wait)
	}
}

// joinTargets snapshots pending seeds (minus addresses of live members) and
// addresses of failed peers, forgetting peers lost for too long.
func (g *Group) joinTargets(now time.Time) (seeds, lost []string) {
	live := make(map[string]bool)
	for _, n := range g.ml.Members() {
		live[net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))] = true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for a := range g.seeds {
		if live[a] {
			delete(g.seeds, a)
			continue
		}
		seeds = append(seeds, a)
	}
	for name, p := range g.lost {
		if now.Sub(p.since) > reconnectTimeout {
			delete(g.lost, name)
			continue
		}
		lost = append(lost, net.JoinHostPort(p.member.Addr, strconv.Itoa(p.member.Port)))
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

// delegate receives memberlist's callbacks for a Group.
type delegate struct{ g *Group }

var (
	_ memberlist.Delegate      = (*delegate)(nil)
	_ memberlist.EventDelegate = (*delegate)(nil)
)

func (d *delegate) NodeMeta(int) []byte { return nil }

func (d *delegate) NotifyMsg(b []byte) {
	from, msg, err := decodeEnvelope(b)
	if err != nil {
		// Expected from peers running a newer format during an upgrade.
		d.g.log.Debug().Err(err).Msg("gossip message dropped")
		return
	}
	if msg == nil { // leave intent
		d.g.mu.Lock()
		d.g.leaving[from] = struct{}{}
		delete(d.g.lost, from)
		d.g.mu.Unlock()
		return
	}
	if d.g.onMessage != nil {
		d.g.onMessage(from, msg)
	}
}

func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.g.queue.GetBroadcasts(overhead, limit)
}

// Opinions are re-broadcast periodically, so no state rides on push/pull.
func (d *delegate) LocalState(bool) []byte { return nil }

func (d *delegate) MergeRemoteState([]byte, bool) {}

func (d *delegate) NotifyJoin(n *memberlist.Node) {
	if n.Name == d.g.name {
		return
	}
	d.g.others.Add(1)
	d.g.mu.Lock()
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
	d.g.others.Add(-1)
	// n.State is not maintained by memberlist here, hence the intent.
	d.g.mu.Lock()
	_, left := d.g.leaving[n.Name]
	delete(d.g.leaving, n.Name)
	if !left {
		d.g.lost[n.Name] = lostPeer{
			member: Member{Name: n.Name, Addr: n.Addr.String(), Port: int(n.Port)},
			since:  time.Now(),
		}
	}
	d.g.mu.Unlock()
	d.g.log.Info().Str("node", n.Name).Bool("left", left).Msg("gossip member gone")
	d.g.notify(n.Name, false)
}

func (d *delegate) NotifyUpdate(*memberlist.Node) {}

// broadcast is a queued gossip message; its key decides which older queued
// message it replaces.
type broadcast struct {
	key      string
	msg      []byte
	finished chan struct{} // closed once sent or replaced; may be nil
}

var _ memberlist.NamedBroadcast = (*broadcast)(nil)

func (b *broadcast) Name() string    { return b.key }
func (b *broadcast) Message() []byte { return b.msg }
func (b *broadcast) Finished() {
	if b.finished != nil {
		close(b.finished)
	}
}

func (b *broadcast) Invalidates(other memberlist.Broadcast) bool {
	o, ok := other.(memberlist.NamedBroadcast)
	return ok && o.Name() == b.key
}

// queueAnchor works around a TransmitLimitedQueue bug (memberlist PR #263,
// unfixed in v0.7.0): whenever the queue drains to empty, even momentarily
// while a message replaces its predecessor, its id counter restarts and a
// later message of equal length silently overwrites a queued one. The anchor
// keeps the queue non-empty and, larger than any packet, is never sent.
type queueAnchor struct{}

var anchorMsg = make([]byte, maxPacket)

var _ memberlist.UniqueBroadcast = queueAnchor{}

func (queueAnchor) Invalidates(memberlist.Broadcast) bool { return false }
func (queueAnchor) Message() []byte                       { return anchorMsg }
func (queueAnchor) Finished()                             {}
func (queueAnchor) UniqueBroadcast()                      {}

// broadcastKey is (type, sender, master). A Hello's sender and master are
// fields 3 and 5 of its payload; a malformed payload only replaces itself.
func broadcastKey(msg any) string {
	switch m := msg.(type) {
	case *peer.Opinion:
		return broadcastKey(*m)
	case *peer.VoteRequest:
		return broadcastKey(*m)
	case *peer.VoteReply:
		return broadcastKey(*m)
	case *peer.Hello:
		return broadcastKey(*m)
	case peer.Opinion:
		return "opinion\x00" + m.From + "\x00" + m.Master
	case peer.VoteRequest:
		return "vote-request\x00" + m.From + "\x00" + m.Master
	case peer.VoteReply:
		return "vote-reply\x00" + m.From + "\x00" + m.Master
	case peer.Hello:
		if f := strings.Split(m.Payload, ","); len(f) == 8 {
			return "hello\x00" + f[2] + "\x00" + f[4]
		}
		return "hello-raw\x00" + m.Payload
	}
	return fmt.Sprintf("%T", msg)
}

// The envelope names the sender, which memberlist does not tell NotifyMsg:
// a kind byte, uvarint name length, name, then for envelopePeer a peer codec
// message. envelopeLeave carries nothing more.
const (
	envelopePeer  byte = 1
	envelopeLeave byte = 2
)

func encodeEnvelope(from string, msg any) ([]byte, error) {
	body, err := peer.Encode(msg)
	if err != nil {
		return nil, err
	}
	return append(envelopeHeader(envelopePeer, from), body...), nil
}

func encodeLeave(from string) []byte { return envelopeHeader(envelopeLeave, from) }

func envelopeHeader(kind byte, from string) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(from)+peer.MaxSize)
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(from)))
	return append(b, from...)
}

// decodeEnvelope returns the sender and the peer message, or a nil message
// for a leave intent.
func decodeEnvelope(b []byte) (string, any, error) {
	if len(b) == 0 || (b[0] != envelopePeer && b[0] != envelopeLeave) {
		return "", nil, errors.New("decode envelope: unknown kind")
	}
	kind, rest := b[0], b[1:]
	n, size := binary.Uvarint(rest)
	if size <= 0 || n == 0 || n > maxName || uint64(len(rest)-size) < n {
		return "", nil, errors.New("decode envelope: bad sender")
	}
	from, body := string(rest[size:size+int(n)]), rest[size+int(n):]
	if kind == envelopeLeave {
		if len(body) != 0 {
			return "", nil, errors.New("decode envelope: trailing bytes after leave")
		}
		return from, nil, nil
	}
	msg, err := peer.Decode(body)
	if err != nil {
		return "", nil, fmt.Errorf("decode envelope from %s: %w", from, err)
	}
	return from, msg, nil
}
