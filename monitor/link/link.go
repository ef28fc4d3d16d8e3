package link

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/peer"
)

const (
	// reconnectPeriod is short so that a returning instance is noticed fast.
	reconnectPeriod = 250 * time.Millisecond
	// maxPending bounds a link's queue, as Redis Sentinel does per link.
	maxPending   = 100
	helloChannel = "__sentinel__:hello"
)

// link runs one monitor.LinkSpec. Its command goroutine owns the command
// connection; mu guards only the queue shared with Send and Pending.
type link struct {
	spec   monitor.LinkSpec
	tls    func(host string) *tls.Config // nil: plaintext
	limits Limits
	sink   func(monitor.Observation)
	log    zerolog.Logger
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: "the queue may be non-empty"
	// probe (capacity 1) asks the command goroutine to check its idle
	// connection now: the pub/sub connection, always reading, learns of a
	// dead instance at once, while an idle command connection would only
	// learn it from its next command.
	probe chan struct{}

	// Owned by the command goroutine: overLimit is set once a reply broke
	// the limits and cleared by a good INFO; authWarned once AUTH was
	// refused on a connection the instance kept.
	overLimit, authWarned bool

	mu        sync.Mutex
	connected bool
	queue     []monitor.Request
	inFlight  bool
}

// enqueue adds r without blocking.
func (l *link) enqueue(r monitor.Request) bool {
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
func (l *link) next() (monitor.Request, bool) {
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
func (l *link) emit(ctx context.Context, o monitor.Observation) {
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
	o := monitor.Observation{Kind: monitor.ObsDisconnected, At: time.Now(), Err: err}
	switch {
	case errors.Is(err, monitor.ErrAuth):
		l.log.Warn().Err(err).Msg("instance refuses the link's credentials")
	case errors.Is(err, monitor.ErrReplyLimit):
		// A hostile or broken instance repeats itself on every reconnect:
		// report it once, until it sends a good INFO again.
		o.OverLimit = !l.overLimit
		l.overLimit = true
		if o.OverLimit {
			l.log.Warn().Err(err).Msg("reply over the link's limits, connection closed")
		}
	default:
		l.log.Debug().Err(err).Msg("command link down")
	}
	l.emit(ctx, o)
}

func (l *link) connect(ctx context.Context) (*conn, error) {
	c, err := dial(ctx, l.spec, l.limits, l.tls)
	if err != nil {
		return nil, err
	}
	refused, err := handshake(c, "-cmd")
	if err != nil {
		c.close()
		return nil, err
	}
	if refused != "" && !l.authWarned {
		l.authWarned = true
		l.log.Warn().Str("auth", string(refused)).Msg("AUTH refused; the instance accepts the link without it")
	}
	return c, nil
}

// serve runs queued requests in order until the connection fails.
func (l *link) serve(ctx context.Context, c *conn) error {
	defer c.close()
	l.setConnected(true)
	defer l.setConnected(false)
	l.log.Debug().Msg("command link up")
	l.emit(ctx, monitor.Observation{Kind: monitor.ObsConnected, At: time.Now(), RemoteIP: c.remoteIP, LocalIP: c.localIP})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.probe:
			if _, err := l.do(c, "ping"); err != nil {
				return fmt.Errorf("probe after pub/sub loss: %w", err)
			}
			continue
		case <-l.wake:
		}
		for r, ok := l.next(); ok; r, ok = l.next() {
			if err := l.exec(ctx, c, r); err != nil {
				return err
			}
		}
	}
}

// do runs one command; NOAUTH means the instance now refuses the link.
func (l *link) do(c *conn, name string, args ...string) (any, error) {
	reply, err := c.do(name, args...)
	if e, ok := reply.(Error); ok && e.hasPrefix("NOAUTH") {
		return nil, authError("", e)
	}
	return reply, err
}

// exec runs r and reports its outcome; it returns only connection errors.
func (l *link) exec(ctx context.Context, c *conn, r monitor.Request) error {
	switch r := r.(type) {
	case monitor.Ping:
		reply, err := l.do(c, "ping")
		if err != nil {
			return err
		}
		e, isErr := reply.(Error)
		s, _ := reply.(string)
		ok := strings.HasPrefix(s, "PONG") || isErr && (e.hasPrefix("LOADING") || e.hasPrefix("MASTERDOWN"))
		l.emit(ctx, monitor.Observation{Kind: monitor.ObsPingReply, At: time.Now(), OK: ok, Reply: replyText(reply), Request: r})
		return nil
	case monitor.InfoRequest:
		return l.info(ctx, c)
	case monitor.Hello:
		ip := r.AnnounceIP
		if ip == "" {
			ip = c.localIP
		}
		return l.reply(ctx, c, r, "publish", helloChannel, ip+","+r.Rest)
	case monitor.SlaveOf:
		return l.slaveOf(ctx, c, r)
	case monitor.AskMasterDown:
		return l.ask(ctx, c, r)
	case monitor.Failover:
		var args []string
		if r.Host != "" {
			args = append(args, "TO", r.Host, strconv.Itoa(r.Port))
		}
		if r.Timeout > 0 {
			args = append(args, "TIMEOUT", strconv.FormatInt(r.Timeout.Milliseconds(), 10))
		}
		return l.reply(ctx, c, r, "failover", args...)
	case monitor.ScriptKill:
		return l.reply(ctx, c, r, "script", "KILL")
	case monitor.ConfigGet:
		return l.configGet(ctx, c, r)
	case monitor.ConfigSet:
		return l.reply(ctx, c, r, "config", "SET", r.Param, r.Value)
	default: // a caller's type embedding one of ours
		l.emit(ctx, monitor.Observation{Kind: monitor.ObsReply, At: time.Now(), Reply: fmt.Sprintf("unsupported request %T", r), Request: r})
		return nil
	}
}

// reply runs one command and reports its outcome as ObsReply.
func (l *link) reply(ctx context.Context, c *conn, r monitor.Request, name string, args ...string) error {
	reply, err := l.do(c, name, args...)
	if err != nil {
		return err
	}
	l.replied(ctx, r, reply)
	return nil
}

func (l *link) replied(ctx context.Context, r monitor.Request, reply any) {
	_, isErr := reply.(Error)
	l.emit(ctx, monitor.Observation{Kind: monitor.ObsReply, At: time.Now(), OK: !isErr, Reply: replyText(reply), Request: r})
}

func (l *link) info(ctx context.Context, c *conn) error {
	reply, err := l.do(c, "info")
	if err != nil {
		return err
	}
	text, ok := reply.(string)
	if !ok {
		l.replied(ctx, monitor.InfoRequest{}, reply)
		return nil
	}
	l.overLimit = false
	info := monitor.ParseInfo(text)
	l.emit(ctx, monitor.Observation{Kind: monitor.ObsInfo, At: time.Now(), Info: &info, Request: monitor.InfoRequest{}})
	return nil
}

// ask is the vote request's edge to the Redis port: no candidate is "*".
func (l *link) ask(ctx context.Context, c *conn, r monitor.AskMasterDown) error {
	runID := r.Vote.Candidate
	if runID == "" {
		runID = "*"
	}
	reply, err := l.do(c, "sentinel", "IS-MASTER-DOWN-BY-ADDR", r.Vote.MasterIP, strconv.Itoa(r.Vote.MasterPort),
		strconv.FormatUint(r.Vote.Epoch, 10), runID)
	if err != nil {
		return err
	}
	now := time.Now()
	if a, ok := parseAskReply(reply); ok {
		l.emit(ctx, monitor.Observation{Kind: monitor.ObsAskReply, At: now, Ask: a, Request: r})
		return nil
	}
	text := replyText(reply)
	if _, isErr := reply.(Error); !isErr {
		text = "malformed is-master-down-by-addr reply " + text
	}
	l.emit(ctx, monitor.Observation{Kind: monitor.ObsReply, At: now, Reply: text, Request: r})
	return nil
}

// configGet reports the value of one parameter; CONFIG GET answers
// [name, value], or [] for an unknown name.
func (l *link) configGet(ctx context.Context, c *conn, r monitor.ConfigGet) error {
	reply, err := l.do(c, "config", "GET", r.Param)
	if err != nil {
		return err
	}
	o := monitor.Observation{Kind: monitor.ObsReply, At: time.Now(), Reply: replyText(reply), Request: r}
	if vals, ok := reply.([]any); ok && len(vals) == 2 {
		if v, ok := vals[1].(string); ok {
			o.OK, o.Reply = true, v
		}
	}
	l.emit(ctx, o)
	return nil
}

// parseAskReply reads [int down, bulk leader or "*", int leader-epoch].
func parseAskReply(reply any) (peer.VoteReply, bool) {
	vals, ok := reply.([]any)
	if !ok || len(vals) != 3 {
		return peer.VoteReply{}, false
	}
	down, ok1 := vals[0].(int64)
	leader, ok2 := vals[1].(string)
	epoch, ok3 := vals[2].(int64)
	if !ok1 || !ok2 || !ok3 || epoch < 0 {
		return peer.VoteReply{}, false
	}
	if leader == "*" {
		leader = ""
	}
	return peer.VoteReply{Down: down == 1, Leader: leader, LeaderEpoch: uint64(epoch)}, true
}

// slaveOf sends Redis Sentinel's reconfiguration transaction, then INFO so
// the caller sees the new role without waiting for its next INFO tick.
func (l *link) slaveOf(ctx context.Context, c *conn, r monitor.SlaveOf) error {
	target := []string{"NO", "ONE"}
	if r.Host != "" {
		target = []string{r.Host, strconv.Itoa(r.Port)}
	}
	c.queue("multi")
	c.queue("slaveof", target...)
	c.queue("config", "REWRITE")
	c.queue("client", "KILL", "TYPE", "normal")
	c.queue("client", "KILL", "TYPE", "pubsub")
	c.queue("exec")
	if err := c.flush(); err != nil {
		return err
	}
	var exec any
	for range 6 {
		reply, err := c.rd.read()
		if err != nil {
			return err
		}
		exec = reply
	}
	l.replied(ctx, r, exec)
	// CLIENT KILL spares its caller (SKIPME defaults to yes), so the same
	// connection can ask for the new role at once.
	return l.info(ctx, c)
}

// replyText renders a reply, or an error reply's text, for Observation.Reply.
func replyText(reply any) string {
	if s, ok := reply.(string); ok {
		return s
	}
	return fmt.Sprint(reply)
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
			ev := l.log.Debug()
			if errors.Is(err, monitor.ErrReplyLimit) {
				ev = l.log.Warn()
			}
			ev.Err(err).Msg("pub/sub link down")
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
	c, err := dial(ctx, l.spec, l.limits, l.tls)
	if err != nil {
		return err
	}
	defer c.close()
	if _, err := handshake(c, "-pubsub"); err != nil {
		return err
	}
	reply, err := c.do("subscribe", helloChannel)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if e, ok := reply.(Error); ok {
		return fmt.Errorf("subscribe: %w", e)
	}
	// Messages come when they come; TCP keepalive notices a vanished peer.
	if err := c.nc.SetDeadline(time.Time{}); err != nil {
		return err
	}
	for {
		v, err := c.rd.read()
		if err != nil {
			return err
		}
		if m, ok := v.([]any); ok && len(m) == 3 && m[0] == "message" {
			if payload, ok := m[2].(string); ok {
				l.emit(ctx, monitor.Observation{Kind: monitor.ObsHello, At: time.Now(), Payload: payload})
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
