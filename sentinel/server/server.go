package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/rawio"
	"github.com/seed877ff415/sentinel/sentinel/acl"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Backend is the daemon side: it owns the sentinel state. Errors carry the
// full Redis error text without the leading '-', e.g. "ERR No such master
// with that name" or "INPROG Failover already in progress"; the server
// writes them as they are.
type Backend interface {
	Snapshot() *view.Snapshot
	// Monitor is called after the server checked quorum and port are
	// integers and quorum >= 1 (Redis' order, docs/behaviour.md §1.2).
	Monitor(name, host string, port, quorum int) error
	Remove(name string) error
	Set(name string, args []string) error // raw option/value args after the name
	Reset(pattern string) int
	Failover(name string) error
	FlushConfig() error
	ConfigSet(pairs []string) error // option value ..., each already checked, applied together
	// IsMasterDownByAddr answers a vote request that came as SENTINEL
	// IS-MASTER-DOWN-BY-ADDR: MasterIP, MasterPort, Epoch and Candidate
	// ("" for "*") are set; the reply's Down, Leader ("" for none) and
	// LeaderEpoch are sent back.
	IsMasterDownByAddr(q peer.VoteRequest) peer.VoteReply
	SimulateFailure(flags []string) error // "crash-after-election" / "crash-after-promotion"
	Debug(pairs []string) error           // SENTINEL DEBUG param value ...
	Hello(payload string)                 // PUBLISH __sentinel__:hello <payload>
	PendingScripts() []Script
}

// Script is one queued or running notification/reconfig script.
type Script struct {
	Argv              []string
	Running           bool
	PID               int
	RunTime, RunDelay time.Duration
	RetryNum          int
}

// Options configure a Server.
type Options struct {
	Listener    net.Listener // may be a demultiplexing listener shared with gossip
	Backend     Backend
	RequirePass string // default user's password ("" = nopass)
	Version     string // reported redis_version, e.g. "7.0.15"
	ConfigFile  string // INFO server config_file
	MaxClients  int    // connections beyond it are refused; 0 = DefaultMaxClients
	Shutdown    func() // called by SHUTDOWN, on its own goroutine
	Log         zerolog.Logger

	// Users come from `user` lines and may replace the default user;
	// SaveUsers, if set, persists them after ACL SETUSER or DELUSER.
	Users     []*acl.User
	SaveUsers func([]*acl.User) error
}

// Server answers Redis Sentinel clients on one listener.
type Server struct {
	opts    Options
	log     zerolog.Logger
	runID   string // INFO run_id: per process, unlike the persisted myid
	started time.Time
	cmds    map[string]*command
	acl     *userTable
	ps      pubsub
	wg      sync.WaitGroup
	nextID  atomic.Int64

	mu      sync.Mutex
	clients map[int64]*client
	closed  bool

	maxClients int
	rates      rates
	authFails  *authFailures

	stats struct {
		conns, commands, errors atomic.Int64
		inBytes, outBytes       atomic.Int64
		reads, writes           atomic.Int64 // socket reads and writes
		rejected                atomic.Int64 // over maxclients
	}
}

// DefaultMaxClients is Redis' default maxclients.
const DefaultMaxClients = 10000

// Stats are the server's counters for metrics.
type Stats struct {
	AuthFailures        int64 // failed AUTH and HELLO AUTH
	RejectedConnections int64 // refused over maxclients
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	return Stats{AuthFailures: s.authFails.total.Load(), RejectedConnections: s.stats.rejected.Load()}
}

// New builds a server; call Serve to start accepting.
func New(o Options) *Server {
	id := make([]byte, 20)
	_, _ = rand.Read(id) // crypto/rand.Read never fails
	s := &Server{
		opts:    o,
		log:     o.Log.With().Str("component", "server").Logger(),
		runID:   hex.EncodeToString(id),
		started: time.Now(),
		acl:     newUserTable(o.RequirePass, o.Users),
		clients: make(map[int64]*client),
		ps:      newPubsub(),
		// Failed AUTH is logged at a bounded rate.
		authFails: newAuthFailures(),
	}
	s.maxClients = o.MaxClients
	if s.maxClients <= 0 {
		s.maxClients = DefaultMaxClients
	}
	s.cmds = commandTable()
	return s
}

// Serve accepts connections until Close. It returns nil after Close.
func (s *Server) Serve() error {
	backoff := 5 * time.Millisecond
	for {
		nc, err := s.opts.Listener.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("accept: %w", err)
			}
			// Transient (EMFILE, a demultiplexer hiccup): retry like net/http.
			s.log.Warn().Err(err).Dur("retry_in", backoff).Msg("accept failed")
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		s.start(nc)
	}
}

func (s *Server) start(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return
	}
	if len(s.clients) >= s.maxClients {
		s.mu.Unlock()
		s.refuse(nc)
		return
	}
	c := newClient(s.nextID.Add(1), rawio.Wrap(nc), s.acl.defaultOpen())
	s.clients[c.id] = c
	s.wg.Go(func() { s.readLoop(c) })
	s.wg.Go(func() { s.writeLoop(c) })
	s.mu.Unlock()
	s.stats.conns.Add(1)
	s.log.Debug().Int64("client", c.id).Str("addr", c.addr).Msg("client connected")
}

// refuse answers a client over maxclients as Redis does and closes it. The
// write goes to an empty socket buffer, so it does not block the accept
// loop; the deadline covers a peer that already vanished.
func (s *Server) refuse(nc net.Conn) {
	s.stats.rejected.Add(1)
	_ = nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = nc.Write([]byte("-ERR max number of clients reached\r\n"))
	_ = nc.Close()
	s.log.Debug().Str("addr", addrString(nc.RemoteAddr())).Int("maxclients", s.maxClients).Msg("client refused: maxclients reached")
}

// Close closes the listener and every client connection, and waits for all
// connection goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	all := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		all = append(all, c)
	}
	s.mu.Unlock()
	err := s.opts.Listener.Close()
	for _, c := range all {
		c.kill()
	}
	s.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close listener: %w", err)
	}
	return nil
}

// Clients is the number of connected clients (INFO clients).
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// clientList returns the connected clients in id order.
func (s *Server) clientList() []*client {
	s.mu.Lock()
	all := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		all = append(all, c)
	}
	s.mu.Unlock()
	sortClients(all)
	return all
}

func (s *Server) readLoop(c *client) {
	defer s.drop(c)
	rr := newRequestReader(flushingReader{s, c})
	var counted int64
	for {
		args, err := rr.next(!s.authRequired(c))
		s.stats.inBytes.Add(rr.bytes - counted)
		counted = rr.bytes
		c.bufferedIn(rr.br.Buffered())
		if err != nil {
			var pe protocolError
			if errors.As(err, &pe) {
				s.log.Debug().Int64("client", c.id).Str("addr", c.addr).Err(err).Msg("protocol error, closing")
				r := reply{}
				r.err("ERR " + pe.Error())
				s.stats.errors.Add(1)
				s.send(c, r.b)
			}
			return
		}
		if args == nil {
			continue
		}
		s.exec(c, args)
		if c.closeAfterReply {
			return
		}
	}
}

// flushingReader writes the pending replies before every read from the
// socket: the reader asks the socket only when no complete request is
// buffered, so a reply never waits for bytes the client may never send
// (an empty line after PING, half a pipelined frame), while replies to
// requests that arrived together still leave in one write.
type flushingReader struct {
	s *Server
	c *client
}

func (f flushingReader) Read(p []byte) (int, error) {
	f.s.flush(f.c)
	f.s.stats.reads.Add(1)
	return f.c.nc.Read(p)
}

// drop unregisters a client whose reader ended. Pending output is still
// flushed (QUIT's +OK, a protocol error, replies to a half-closed client),
// but only for a bounded time.
func (s *Server) drop(c *client) {
	if len(c.batch) > 0 {
		c.out.reply(c.batch)
	}
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
	s.ps.unsubscribeAll(c)
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.out.closeAfterFlush()
	s.log.Debug().Int64("client", c.id).Msg("client disconnected")
}

func (s *Server) writeLoop(c *client) {
	defer func() { _ = c.nc.Close() }()
	var spare []byte
	for {
		data, done := c.out.take(spare)
		if done {
			return
		}
		n, err := c.nc.Write(data)
		s.stats.outBytes.Add(int64(n))
		s.stats.writes.Add(1)
		c.out.written()
		if err != nil {
			c.out.kill()
			return
		}
		spare = nil
		if cap(data) <= 64<<10 {
			spare = data[:0]
		}
	}
}
