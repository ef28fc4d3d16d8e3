package sentinel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/fakeredis"
	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/core"
	"github.com/seed877ff415/sentinel/sentinel/gossip"
	"github.com/seed877ff415/sentinel/sentinel/gossip/gossiptest"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/server"
)

// Three daemons in one process, on fake time (testing/synctest): real
// gossip groups on gossiptest's network, and fake Redis instances (one
// master, two replicas) behind the Links seam.

const (
	testMaster  = "10.0.0.1:6379"
	testBest    = "10.0.0.3:6379" // the replica to promote: lowest priority
	testOther   = "10.0.0.2:6379"
	sentinelPrt = 26379
	// fakeRecheck is how often a fake link notices that its instance died
	// or came back: a multiple of the loop's ticks, so it adds no instants
	// of its own (see TestDaemonWakesAtNextWake).
	fakeRecheck = 100 * time.Millisecond
)

// fakeWorld holds the instances and every daemon's links.
type fakeWorld struct {
	mu      sync.Mutex
	redis   fakeredis.Set
	links   []*fakeLinks
	daemons map[string]*Daemon // by sentinel address
	// votes are the IS-MASTER-DOWN-BY-ADDR replies that granted a vote,
	// by the voter's address.
	votes map[string]int
}

func newFakeWorld() *fakeWorld {
	w := &fakeWorld{redis: fakeredis.Set{}, daemons: map[string]*Daemon{}, votes: map[string]int{}}
	add := func(host, id, role, master string, priority int) {
		w.redis.Add(&fakeredis.Instance{Host: host, Port: 6379, Alive: true, RunID: strings.Repeat(id, 40), Role: role,
			Master: master, Priority: priority})
	}
	add("10.0.0.1", "a", "master", "", 100)
	add("10.0.0.2", "b", "slave", testMaster, 100)
	add("10.0.0.3", "c", "slave", testMaster, 10)
	return w
}

func (w *fakeWorld) kill(addr string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.redis[addr].Alive = false
}

func (w *fakeWorld) instance(addr string) fakeredis.Instance {
	w.mu.Lock()
	defer w.mu.Unlock()
	return *w.redis[addr]
}

func (w *fakeWorld) votesBy(addr string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.votes[addr]
}

// fakeLinks is one daemon's link manager onto the fake world. Replies are
// delivered in order by one goroutine, as a link's are, never from Send.
type fakeLinks struct {
	w      *fakeWorld
	selfIP string
	sink   func(monitor.Observation)

	mu    sync.Mutex
	specs map[string]monitor.LinkSpec
	up    map[string]bool
	queue []func()
	kick  chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

var _ Links = (*fakeLinks)(nil)

func newFakeLinks(w *fakeWorld, selfIP string, sink func(monitor.Observation)) *fakeLinks {
	l := &fakeLinks{w: w, selfIP: selfIP, sink: sink, specs: map[string]monitor.LinkSpec{}, up: map[string]bool{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	w.mu.Lock()
	w.links = append(w.links, l)
	w.mu.Unlock()
	go l.run()
	return l
}

func (l *fakeLinks) run() {
	defer close(l.done)
	t := time.NewTicker(fakeRecheck)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.recheck()
		case <-l.kick:
		}
		l.mu.Lock()
		q := l.queue
		l.queue = nil
		l.mu.Unlock()
		for _, f := range q {
			f()
		}
	}
}

// push queues f; l.mu is held.
func (l *fakeLinks) push(f func()) {
	l.queue = append(l.queue, f)
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *fakeLinks) observe(o monitor.Observation) {
	l.push(func() {
		o.At = time.Now()
		l.sink(o)
	})
}

// reachable: w.mu is held.
func (l *fakeLinks) reachable(sp monitor.LinkSpec) bool {
	if sp.Kind == monitor.LinkSentinel {
		return l.w.daemons[sp.Addr] != nil
	}
	return l.w.redis.Reachable(sp.Addr)
}

// recheck reports links whose instance died or came back, in key order.
func (l *fakeLinks) recheck() {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.specs))
	for k := range l.specs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if up := l.reachable(l.specs[k]); up != l.up[k] {
			l.up[k] = up
			o := monitor.Observation{Key: k, Kind: monitor.ObsConnected}
			if !up {
				o = monitor.Observation{Key: k, Kind: monitor.ObsDisconnected, Err: errors.New("connection refused")}
			}
			l.observe(o)
		}
	}
}

func (l *fakeLinks) Reconcile(specs []monitor.LinkSpec) {
	l.mu.Lock()
	keep := map[string]monitor.LinkSpec{}
	for _, sp := range specs {
		keep[sp.Key] = sp
		if old, ok := l.specs[sp.Key]; !ok || !old.Equal(sp) {
			l.up[sp.Key] = false
		}
	}
	for k := range l.up {
		if _, ok := keep[k]; !ok {
			delete(l.up, k)
		}
	}
	l.specs = keep
	l.mu.Unlock()
	l.recheck()
}

func (l *fakeLinks) Pending(string) int { return 0 }

func (l *fakeLinks) Close() {
	close(l.stop)
	<-l.done
}

func (l *fakeLinks) Send(key string, req monitor.Request) bool {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	sp, ok := l.specs[key]
	if !ok || !l.up[key] {
		return false
	}
	reply := func(o monitor.Observation) {
		o.Key, o.Request = key, req
		l.observe(o)
	}
	if sp.Kind == monitor.LinkSentinel {
		l.sentinel(sp, req, reply)
		return true
	}
	r := l.w.redis[sp.Addr]
	if !r.Alive {
		return true // no reply: the recheck reports the link down
	}
	if q, ok := req.(monitor.Hello); ok {
		payload := orDefault(q.AnnounceIP, l.selfIP) + "," + q.Rest
		for _, o := range l.w.links { // w.mu orders the links' locks
			if o != l {
				o.mu.Lock()
			}
			o.deliverHello(sp.Addr, payload)
			if o != l {
				o.mu.Unlock()
			}
		}
		reply(monitor.Observation{Kind: monitor.ObsReply, OK: true})
		return true
	}
	replies, ok := l.w.redis.Answer(r, req)
	if !ok {
		replies = []monitor.Observation{{Kind: monitor.ObsReply, Reply: fmt.Sprintf("ERR fake: %T", req)}}
	}
	for _, o := range replies {
		reply(o)
	}
	return true
}

// deliverHello hands payload to l's subscriptions to addr; l.mu is held.
func (l *fakeLinks) deliverHello(addr, payload string) {
	for k, sp := range l.specs {
		if sp.Addr == addr && sp.Subscribe && l.up[k] {
			l.observe(monitor.Observation{Key: k, Kind: monitor.ObsHello, Payload: payload})
		}
	}
}

// sentinel answers a request on a link to a peer sentinel through that
// daemon's backend, as its RESP server would; w.mu and l.mu are held.
func (l *fakeLinks) sentinel(sp monitor.LinkSpec, req monitor.Request, reply func(monitor.Observation)) {
	peer := l.w.daemons[sp.Addr]
	switch q := req.(type) {
	case monitor.Ping:
		reply(monitor.Observation{Kind: monitor.ObsPingReply, OK: true, Reply: "PONG"})
	case monitor.Hello:
		payload := orDefault(q.AnnounceIP, l.selfIP) + "," + q.Rest
		l.push(func() { peer.Hello(payload) })
		reply(monitor.Observation{Kind: monitor.ObsReply, OK: true})
	case monitor.AskMasterDown:
		l.push(func() {
			v := peer.IsMasterDownByAddr(q.Vote)
			if v.Leader != "" {
				l.w.mu.Lock()
				l.w.votes[sp.Addr]++
				l.w.mu.Unlock()
			}
			o := monitor.Observation{Key: sp.Key, Kind: monitor.ObsAskReply, Request: req, At: time.Now(), Ask: v}
			l.sink(o)
		})
	default:
		reply(monitor.Observation{Kind: monitor.ObsReply, Reply: fmt.Sprintf("ERR fake: %T", req)})
	}
}

// recordingPeers is the real gossip group, recording what the daemon sends.
type recordingPeers struct {
	*gossip.Group
	mu   sync.Mutex
	sent []peer.Message
}

func (p *recordingPeers) record(msg peer.Message) {
	p.mu.Lock()
	p.sent = append(p.sent, msg)
	p.mu.Unlock()
}

func (p *recordingPeers) Send(name string, msg peer.Message) error {
	p.record(msg)
	return p.Group.Send(name, msg)
}

func (p *recordingPeers) Broadcast(msg peer.Message) {
	p.record(msg)
	p.Group.Broadcast(msg)
}

// voteReplies counts the vote replies sent that grant a vote.
func (p *recordingPeers) voteReplies() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.sent {
		if r, ok := m.(peer.VoteReply); ok && r.Leader != "" {
			n++
		}
	}
	return n
}

// journal is one daemon's saves and published events, in order.
type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(e string) {
	j.mu.Lock()
	j.entries = append(j.entries, e)
	j.mu.Unlock()
}

func (j *journal) after(e string) []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, x := range j.entries {
		if x == e {
			return append([]string(nil), j.entries[i+1:]...)
		}
	}
	return nil
}

// fakeStore saves nowhere, and fails while told to.
type fakeStore struct {
	mu      sync.Mutex
	fail    bool
	saves   int
	journal *journal
}

func (s *fakeStore) Save(*config.Config) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return false, errors.New("disk full")
	}
	s.saves++
	s.journal.add("save")
	return false, nil
}

func (s *fakeStore) saved() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

func (s *fakeStore) setFail(fail bool) {
	s.mu.Lock()
	s.fail = fail
	s.mu.Unlock()
}

// published is an event as a subscriber saw it.
type published struct {
	at      time.Time
	channel string
	payload string
}

// fakeServer serves nobody and records what is published.
type fakeServer struct {
	mu      sync.Mutex
	events  []published
	closed  chan struct{}
	once    sync.Once
	journal *journal
}

var _ Server = (*fakeServer)(nil)

func (s *fakeServer) Serve() error { <-s.closed; return nil }
func (s *fakeServer) Close() error { s.once.Do(func() { close(s.closed) }); return nil }

func (s *fakeServer) Stats() server.Stats { return server.Stats{} }

func (s *fakeServer) Publish(channel, payload string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, published{at: time.Now(), channel: channel, payload: payload})
	s.journal.add(channel)
	return 0
}

func (s *fakeServer) find(channel string) []published {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []published
	for _, e := range s.events {
		if e.channel == channel {
			out = append(out, e)
		}
	}
	return out
}

type testDaemon struct {
	d     *Daemon
	addr  string
	peers *recordingPeers
	store *fakeStore
	srv   *fakeServer
	done  chan error
	// crashed: Run returned ErrSimulatedCrash, taken from done.
	crashed bool
}

type testCluster struct {
	t       *testing.T
	w       *fakeWorld
	nodes   []*testDaemon
	cancel  context.CancelFunc
	started time.Time
	stopped bool
}

// startCluster starts n daemons at one instant, the others joining the
// first by gossip; tick is the loop's fast period.
func startCluster(t *testing.T, n int, tick time.Duration) *testCluster {
	t.Helper()
	w := newFakeWorld()
	network := gossiptest.NewNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	c := &testCluster{t: t, w: w, cancel: cancel, started: time.Now()}
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	for i := range n {
		ip := "10.0.1." + strconv.Itoa(i+1)
		addr := net.JoinHostPort(ip, strconv.Itoa(sentinelPrt))
		cfg := config.Default()
		cfg.MyID = strings.Repeat(strconv.Itoa(i+1), 40)
		cfg.Port = sentinelPrt
		cfg.AnnounceIP = ip
		if i > 0 {
			cfg.GossipJoin = []string{c.nodes[0].addr}
		}
		m := config.NewMaster("mymaster", "10.0.0.1", 6379, 2)
		m.DownAfter = time.Second
		m.FailoverTimeout = 5 * time.Second
		cfg.Masters = []*config.Master{m}
		nlog := log.With().Str("sentinel", addr).Logger()
		j := &journal{}
		td := &testDaemon{addr: addr, store: &fakeStore{journal: j}, srv: &fakeServer{closed: make(chan struct{}), journal: j},
			done: make(chan error, 1)}
		d, err := New(cfg, Deps{
			Log: nlog, SelfIP: ip, Tick: tick, Store: td.store,
			Links: func(sink func(monitor.Observation)) Links { return newFakeLinks(w, ip, sink) },
			Peers: func(onMessage func(string, peer.Message), onMembership func(string, bool)) (Peers, error) {
				g, err := gossip.NewOn(gossip.Config{Name: cfg.MyID, BindAddr: ip, Port: sentinelPrt,
					AdvertiseAddr: ip, AdvertisePort: sentinelPrt, Label: "sentinel",
					Log: nlog.With().Str("component", "gossip").Logger(), OnMessage: onMessage,
					OnMembership: onMembership}, network.Transport(ip, sentinelPrt))
				if err != nil {
					return nil, err
				}
				td.peers = &recordingPeers{Group: g}
				return td.peers, nil
			},
			Server: func(*Daemon) Server { return td.srv },
		})
		if err != nil {
			t.Fatalf("new daemon %s: %v", addr, err)
		}
		td.d = d
		w.mu.Lock()
		w.daemons[addr] = d
		w.mu.Unlock()
		c.nodes = append(c.nodes, td)
	}
	for _, td := range c.nodes {
		go func() { td.done <- td.d.Run(ctx) }()
	}
	t.Cleanup(c.stop) // in the bubble, also after a failure
	return c
}

// settle waits until every daemon knows both replicas and both other
// sentinels, and gossips with them.
func (c *testCluster) settle() {
	c.t.Helper()
	testutil.Eventually(c.t, 30*time.Second, "discovery of replicas and sentinels", func() bool {
		for _, td := range c.nodes {
			m := td.d.Snapshot().Master("mymaster")
			if m == nil || len(m.Replicas) != 2 || len(m.Sentinels) != len(c.nodes)-1 {
				return false
			}
			if alive, _ := td.d.GossipMembers(); alive != len(c.nodes)-1 {
				return false
			}
		}
		return true
	})
}

// stop cancels the daemons and checks that each Run returns, cleanly and
// at once: no call waits out callTimeout.
func (c *testCluster) stop() {
	c.t.Helper()
	if c.stopped {
		return
	}
	c.stopped = true
	c.cancel()
	deadline := time.After(3 * time.Second) // under callTimeout
	for _, td := range c.nodes {
		if td.crashed {
			continue
		}
		select {
		case err := <-td.done:
			if err != nil {
				c.t.Errorf("%s: Run returned %v", td.addr, err)
			}
		case <-deadline:
			c.t.Fatalf("%s: Run did not return within 3s of the cancel", td.addr)
		}
	}
	// memberlist's in-flight probes and streams, which its Shutdown does
	// not wait for, run out on fake time before the bubble ends.
	time.Sleep(5 * time.Second)
}

func (c *testCluster) waitSwitched(within time.Duration) {
	c.t.Helper()
	want := "mymaster 10.0.0.1 6379 10.0.0.3 6379"
	testutil.Eventually(c.t, within, "+switch-master on every daemon", func() bool {
		for _, td := range c.nodes {
			sw := td.srv.find("+switch-master")
			if len(sw) == 0 {
				return false
			}
			if sw[0].payload != want {
				c.t.Fatalf("%s: +switch-master %q, want %q", td.addr, sw[0].payload, want)
			}
		}
		return true
	})
}

// TestDaemonFailover: killing the master fails over end to end through
// three daemons, and every one then answers the promoted replica.
func TestDaemonFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := startCluster(t, 3, 0)
		c.settle()
		c.w.kill(testMaster)
		killed := time.Now()
		c.waitSwitched(10 * time.Second)
		if d := time.Since(killed); d > 3*time.Second {
			t.Errorf("failover took %v of fake time after the kill", d)
		}
		leaders := map[string]bool{}
		for _, td := range c.nodes {
			for _, e := range td.srv.find("+elected-leader") {
				leaders[td.addr+" "+e.payload] = true
			}
		}
		if len(leaders) != 1 {
			t.Errorf("+elected-leader events %v, want one", leaders)
		}
		testutil.Eventually(t, 10*time.Second, "the other replica follows the promoted one", func() bool {
			return c.w.instance(testBest).Role == "master" && c.w.instance(testOther).Master == testBest
		})
		for _, td := range c.nodes {
			m := td.d.Snapshot().Master("mymaster")
			if got := net.JoinHostPort(m.AddrHost, strconv.Itoa(m.AddrPort)); got != testBest {
				t.Errorf("%s answers %s, want %s", td.addr, got, testBest)
			}
		}
		c.stop()
	})
}

// TestDaemonPersistBeforeSend: a sentinel whose saves fail grants no vote,
// neither by gossip nor on the Redis port, so no failover can happen
// (docs/elections.md); once saves work again the withheld state goes out
// and the failover completes.
func TestDaemonPersistBeforeSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := startCluster(t, 3, 0)
		c.settle()
		failing := c.nodes[1:]
		for _, td := range failing {
			td.store.setFail(true)
		}
		c.w.kill(testMaster)
		testutil.Eventually(t, 10*time.Second, "a candidacy", func() bool {
			return len(c.nodes[0].srv.find("+try-failover")) > 0
		})
		time.Sleep(10 * time.Second) // elections are retried meanwhile
		for _, td := range failing {
			if len(td.srv.find("-config-save-failed")) == 0 {
				t.Errorf("%s: no -config-save-failed", td.addr)
			}
			if n := td.peers.voteReplies(); n != 0 {
				t.Errorf("%s: sent %d vote replies while its saves failed", td.addr, n)
			}
			if n := c.w.votesBy(td.addr); n != 0 {
				t.Errorf("%s: granted %d votes on the Redis port while its saves failed", td.addr, n)
			}
		}
		// Asked directly, as a peer on the Redis port would.
		v := failing[0].d.IsMasterDownByAddr(peer.VoteRequest{MasterIP: "10.0.0.1", MasterPort: 6379, Epoch: 1000, Candidate: strings.Repeat("1", 40)})
		if v.Leader != "" {
			t.Errorf("IS-MASTER-DOWN-BY-ADDR granted a vote for %q while saves failed", v.Leader)
		}
		for _, td := range c.nodes {
			if e := td.srv.find("+elected-leader"); len(e) > 0 {
				t.Fatalf("%s elected with a majority that cannot save: %v", td.addr, e)
			}
		}
		for _, td := range failing {
			td.store.setFail(false)
		}
		c.waitSwitched(60 * time.Second)
		for _, td := range failing {
			if len(td.srv.find("+config-save-ok")) == 0 {
				t.Errorf("%s: no +config-save-ok after saves recovered", td.addr)
			}
		}
		c.stop()
	})
}

// TestDaemonWakesAtNextWake: with no fast ticks (Tick = the 100 ms idle
// period), the first candidacy still starts at the randomised moment the
// core asked for, not at a tick: every other input arrives on the 100 ms
// grid the daemons share (they started at one instant).
func TestDaemonWakesAtNextWake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := startCluster(t, 3, idleTick)
		c.settle()
		c.w.kill(testMaster)
		testutil.Eventually(t, 10*time.Second, "a candidacy", func() bool {
			for _, td := range c.nodes {
				if len(td.srv.find("+try-failover")) > 0 {
					return true
				}
			}
			return false
		})
		var first *testDaemon
		var at time.Time
		for _, td := range c.nodes {
			if e := td.srv.find("+try-failover"); len(e) > 0 && (first == nil || e[0].at.Before(at)) {
				first, at = td, e[0].at
			}
		}
		odown := first.srv.find("+odown")
		if len(odown) == 0 {
			t.Fatalf("%s stood without +odown", first.addr)
		}
		if wait := at.Sub(odown[0].at); wait < 0 || wait >= core.CandidacyDelay {
			t.Errorf("%s stood %v after +odown, want within the candidacy delay %v", first.addr, wait, core.CandidacyDelay)
		}
		if off := at.Sub(c.started) % idleTick; off == 0 {
			t.Errorf("%s stood on a tick (%v after start): the loop did not wake at NextWake", first.addr, at.Sub(c.started))
		}
		c.stop()
	})
}

// TestDaemonStopsPromptly: a stopped daemon's Run returns with everything
// it started stopped (synctest fails the test on a goroutine left
// blocked), and calls made afterwards fail at once instead of waiting
// callTimeout.
func TestDaemonStopsPromptly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := startCluster(t, 3, 0)
		c.settle()
		c.stop()
		for _, td := range c.nodes {
			start := time.Now()
			if err := td.d.FlushConfig(); !errors.Is(err, errBusy) {
				t.Errorf("%s: FLUSHCONFIG after stop: %v, want %v", td.addr, err, errBusy)
			}
			if d := time.Since(start); d != 0 {
				t.Errorf("%s: a call after stop waited %v", td.addr, d)
			}
			if td.store.saved() == 0 {
				t.Errorf("%s: no save on the way out", td.addr)
			}
		}
	})
}

// TestDaemonSimulatedCrash: SIMULATE-FAILURE crash-after-election stops the
// elected daemon like a real crash: Run returns ErrSimulatedCrash and
// nothing is saved after the election.
func TestDaemonSimulatedCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := startCluster(t, 3, 0)
		c.settle()
		for _, td := range c.nodes {
			if err := td.d.SimulateFailure([]string{"crash-after-election"}); err != nil {
				t.Fatal(err)
			}
		}
		c.w.kill(testMaster)
		var leader *testDaemon
		testutil.Eventually(t, 10*time.Second, "a daemon crashing after its election", func() bool {
			for _, td := range c.nodes {
				select {
				case err := <-td.done:
					td.crashed = true
					if !errors.Is(err, ErrSimulatedCrash) {
						t.Fatalf("%s: Run returned %v, want %v", td.addr, err, ErrSimulatedCrash)
					}
					leader = td
					return true
				default:
				}
			}
			return false
		})
		if len(leader.srv.find("+elected-leader")) == 0 {
			t.Fatalf("%s crashed without being elected", leader.addr)
		}
		if after := leader.store.journal.after("+elected-leader"); slices.Contains(after, "save") {
			t.Errorf("%s saved after its election: %v", leader.addr, after)
		}
		c.stop()
	})
}
