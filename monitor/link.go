package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

const (
	// reconnectPeriod is short so that a returning instance is noticed fast.
	reconnectPeriod = 250 * time.Millisecond
	// maxPending bounds a link's queue, as Redis Sentinel does per link.
	maxPending   = 100
	helloChannel = "__sentinel__:hello"
)

// link runs one LinkSpec. Its command goroutine owns the command connection;
// mu guards only the queue shared with Send and Pending.
type link struct {
	spec   LinkSpec
	sink   func(Observation)
	log    zerolog.Logger
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: "the queue may be non-empty"
	// probe (capacity 1) asks the command goroutine to check its idle
	// connection now: the pub/sub connection, always reading, learns of a
	// dead instance at once, while an idle command connection would only
	// learn it from its next command.
	probe chan struct{}

	mu        sync.Mutex
	connected bool
	queue     []Request
	inFlight  bool
}

// enqueue adds r without blocking.
func (l *link) enqueue(r Request) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connected || l.pendingLocked() >= maxPending {
		return false
	}
	l.queue = append(l.queue, r)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return true
}

func (l *link) pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pendingLocked()
}

func (l *link) pendingLocked() int {
	n := len(l.queue)
	if l.inFlight {
		n++
	}
	return n
}

// next pops the oldest request and marks it in flight.
func (l *link) next() (Request, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight = false
	if len(l.queue) == 0 {
		return nil, false
	}
	r := l.queue[0]
	l.queue[0] = nil
	l.queue = l.queue[1:]
	l.inFlight = true
	return r, true
}

// setConnected opens or closes the queue; closing drops what is left in it.
func (l *link) setConnected(up bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.connected = up
	l.queue = nil
	l.inFlight = false
}

// emit reports o unless the link has been stopped.
func (l *link) emit(ctx context.Context, o Observation) {
	if ctx.Err() != nil {
		return
	}
	o.Key = l.spec.Key
	l.sink(o)
}

// runCommand connects, serves requests until the connection fails, and
// retries every reconnectPeriod until ctx is cancelled.
func (l *link) runCommand(ctx context.Context) {
	reported := "" // failure last reported since the last success
	for {
		s, err := l.connect(ctx)
		if err == nil {
			reported = ""
			err = l.serve(ctx, s)
		}
		if ctx.Err() != nil {
			return
		}
		// A dead instance fails the same way every 250 ms: report and log
		// only what is news.
		if err.Error() != reported {
			reported = err.Error()
			l.disconnected(ctx, err)
		}
		if !sleep(ctx, reconnectPeriod) {
			return
		}
	}
}

func (l *link) disconnected(ctx context.Context, err error) {
	if errors.Is(err, ErrAuth) {
		l.log.Warn().Err(err).Msg("cannot authenticate to instance")
	} else {
		l.log.Debug().Err(err).Msg("command link down")
	}
	l.emit(ctx, Observation{Kind: ObsDisconnected, At: time.Now(), Err: err})
}

// session is the command connection of a link.
type session struct {
	*socket
	conn *redis.Conn
	spec LinkSpec
}

func (l *link) connect(ctx context.Context) (*session, error) {
	sock, err := dialSocket(ctx, l.spec)
	if err != nil {
		return nil, err
	}
	s := &session{socket: sock, conn: sock.client.Conn(), spec: l.spec}
	do := func(ctx context.Context, args ...any) error { return s.conn.Do(ctx, args...).Err() }
	if err := handshake(ctx, do, l.spec, "-cmd"); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *session) close() {
	_ = s.conn.Close()
	s.socket.close()
}

// do runs one command, its name passed through rename-command.
func (s *session) do(ctx context.Context, name string, args ...any) *redis.Cmd {
	return s.conn.Do(ctx, append([]any{s.spec.rename(name)}, args...)...)
}

// serve runs queued requests in order until the connection fails.
func (l *link) serve(ctx context.Context, s *session) error {
	defer s.close()
	l.setConnected(true)
	defer l.setConnected(false)
	l.log.Debug().Msg("command link up")
	l.emit(ctx, Observation{Kind: ObsConnected, At: time.Now()})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.probe:
			if err := s.conn.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("probe after pub/sub loss: %w", err)
			}
			continue
		case <-l.wake:
		}
		for r, ok := l.next(); ok; r, ok = l.next() {
			if err := l.exec(ctx, s, r); err != nil {
				return err
			}
		}
	}
}

// exec runs r and reports its outcome; it returns only connection errors.
func (l *link) exec(ctx context.Context, s *session, r Request) error {
	switch r := r.(type) {
	case Ping:
		reply, err := s.do(ctx, "ping").Text()
		if err := connError(err); err != nil {
			return err
		}
		ok := err == nil && strings.HasPrefix(reply, "PONG") ||
			redis.HasErrorPrefix(err, "LOADING") || redis.HasErrorPrefix(err, "MASTERDOWN")
		l.emit(ctx, Observation{Kind: ObsPingReply, At: time.Now(), OK: ok, Reply: replyText(reply, err), Request: r})
		return nil
	case InfoRequest:
		return l.info(ctx, s)
	case Hello:
		ip := r.AnnounceIP
		if ip == "" {
			ip = s.localIP
		}
		return l.reply(ctx, r, s.do(ctx, "publish", helloChannel, ip+","+r.Rest))
	case SlaveOf:
		return l.slaveOf(ctx, s, r)
	case AskMasterDown:
		return l.ask(ctx, s, r)
	case Failover:
		var args []any
		if r.Host != "" {
			args = append(args, "TO", r.Host, r.Port)
		}
		if r.Timeout > 0 {
			args = append(args, "TIMEOUT", r.Timeout.Milliseconds())
		}
		return l.reply(ctx, r, s.do(ctx, "failover", args...))
	case ScriptKill:
		return l.reply(ctx, r, s.do(ctx, "script", "KILL"))
	case ConfigGet:
		return l.configGet(ctx, s, r)
	case ConfigSet:
		return l.reply(ctx, r, s.do(ctx, "config", "SET", r.Param, r.Value))
	default: // a caller's type embedding one of ours
		l.emit(ctx, Observation{Kind: ObsReply, At: time.Now(), Reply: fmt.Sprintf("unsupported request %T", r), Request: r})
		return nil
	}
}

// reply reports a command's outcome as ObsReply.
func (l *link) reply(ctx context.Context, r Request, cmd *redis.Cmd) error {
	val, err := cmd.Result()
	if err := connError(err); err != nil {
		return err
	}
	l.emit(ctx, Observation{Kind: ObsReply, At: time.Now(), OK: err == nil, Reply: replyText(val, err), Request: r})
	return nil
}

func (l *link) info(ctx context.Context, s *session) error {
	cmd := s.do(ctx, "info")
	text, err := cmd.Text()
	if err := connError(err); err != nil {
		return err
	}
	if err != nil {
		return l.reply(ctx, InfoRequest{}, cmd)
	}
	info := ParseInfo(text)
	l.emit(ctx, Observation{Kind: ObsInfo, At: time.Now(), Info: &info, Request: InfoRequest{}})
	return nil
}

func (l *link) ask(ctx context.Context, s *session, r AskMasterDown) error {
	runID := r.RunID
	if runID == "" {
		runID = "*"
	}
	vals, err := s.do(ctx, "sentinel", "IS-MASTER-DOWN-BY-ADDR", r.IP, r.Port, r.Epoch, runID).Slice()
	if err := connError(err); err != nil {
		return err
	}
	now := time.Now()
	if err == nil {
		if a, ok := parseAskReply(vals); ok {
			l.emit(ctx, Observation{Kind: ObsAskReply, At: now, Ask: a, Request: r})
			return nil
		}
		err = fmt.Errorf("malformed is-master-down-by-addr reply %v", vals)
	}
	l.emit(ctx, Observation{Kind: ObsReply, At: now, Reply: err.Error(), Request: r})
	return nil
}

// configGet reports the value of one parameter; CONFIG GET answers
// [name, value], or [] for an unknown name.
func (l *link) configGet(ctx context.Context, s *session, r ConfigGet) error {
	vals, err := s.do(ctx, "config", "GET", r.Param).StringSlice()
	if err := connError(err); err != nil {
		return err
	}
	o := Observation{Kind: ObsReply, At: time.Now(), Reply: replyText(vals, err), Request: r}
	if err == nil && len(vals) == 2 {
		o.OK, o.Reply = true, vals[1]
	}
	l.emit(ctx, o)
	return nil
}

// parseAskReply reads [int down, bulk leader or "*", int leader-epoch].
func parseAskReply(vals []any) (AskReply, bool) {
	if len(vals) != 3 {
		return AskReply{}, false
	}
	down, ok1 := vals[0].(int64)
	leader, ok2 := vals[1].(string)
	epoch, ok3 := vals[2].(int64)
	if !ok1 || !ok2 || !ok3 || epoch < 0 {
		return AskReply{}, false
	}
	if leader == "*" {
		leader = ""
	}
	return AskReply{Down: down == 1, Leader: leader, LeaderEpoch: uint64(epoch)}, true
}

// slaveOf sends the reconfiguration transaction (spec §4.1), then INFO so
// the caller sees the new role without waiting for its next INFO tick.
func (l *link) slaveOf(ctx context.Context, s *session, r SlaveOf) error {
	target := []any{"NO", "ONE"}
	if r.Host != "" {
		target = []any{r.Host, strconv.Itoa(r.Port)}
	}
	var exec *redis.Cmd
	_, err := s.conn.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, s.spec.rename("multi"))
		p.Do(ctx, append([]any{s.spec.rename("slaveof")}, target...)...)
		p.Do(ctx, s.spec.rename("config"), "REWRITE")
		p.Do(ctx, s.spec.rename("client"), "KILL", "TYPE", "normal")
		p.Do(ctx, s.spec.rename("client"), "KILL", "TYPE", "pubsub")
		exec = p.Do(ctx, s.spec.rename("exec"))
		return nil
	})
	if err := connError(err); err != nil {
		return err
	}
	if err := l.reply(ctx, r, exec); err != nil {
		return err
	}
	// CLIENT KILL spares its caller (SKIPME defaults to yes), so the same
	// connection can ask for the new role at once.
	return l.info(ctx, s)
}

// replyText renders a reply, or an error reply's text, for Observation.Reply.
func replyText(val any, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprint(val)
}

// runPubSub keeps a pub/sub connection subscribed to the hello channel and
// reports every message, reconnecting every reconnectPeriod on failure.
func (l *link) runPubSub(ctx context.Context) {
	reported := ""
	for {
		err := l.subscribe(ctx)
		if ctx.Err() != nil {
			return
		}
		if err.Error() != reported {
			reported = err.Error()
			l.log.Debug().Err(err).Msg("pub/sub link down")
		}
		select {
		case l.probe <- struct{}{}:
		default:
		}
		if !sleep(ctx, reconnectPeriod) {
			return
		}
	}
}

// subscribe runs one pub/sub connection until it fails.
func (l *link) subscribe(ctx context.Context) error {
	d := net.Dialer{Timeout: l.spec.Timeout, KeepAliveConfig: keepAlive}
	nc, err := d.DialContext(ctx, "tcp", l.spec.Addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()
	c := newRespConn(nc, l.spec.Timeout)
	if err := handshake(ctx, c.do, l.spec, "-pubsub"); err != nil {
		return err
	}
	if err := c.do(ctx, l.spec.rename("subscribe"), helloChannel); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	// Messages come when they come; TCP keepalive notices a vanished peer.
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return err
	}
	for {
		v, err := c.read()
		if err != nil {
			return err
		}
		if m, ok := v.([]any); ok && len(m) == 3 && m[0] == "message" {
			if payload, ok := m[2].(string); ok {
				l.emit(ctx, Observation{Kind: ObsHello, At: time.Now(), Payload: payload})
			}
		}
	}
}

// sleep waits for d and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
