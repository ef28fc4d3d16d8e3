package server

import "sync"

const (
	// replyBacklog is how much unsent reply data a client may accumulate
	// before its own reader waits: a client that pipelines without reading
	// slows itself down, nobody else.
	replyBacklog = 1 << 20
	// pushLimit is the pending output at which a subscriber is dropped, like
	// Redis' pubsub client-output-buffer-limit (hard 32mb there).
	pushLimit = 8 << 20
)

// outbox is a connection's pending output. Replies and pub/sub messages go
// through the same buffer so that their order on the wire is the order in
// which they were produced; the writer goroutine is its only consumer.
type outbox struct {
	mu      sync.Mutex
	cond    sync.Cond
	buf     []byte
	closing bool // drain, then close (QUIT, protocol error)
	dead    bool // stop now
	writing bool // someone (writer goroutine or a direct reply) is writing
	waiters int  // readers waiting in reply for backlog space
}

func newOutbox() *outbox {
	o := &outbox{}
	o.cond.L = &o.mu
	return o
}

// direct claims the connection for a reply written by the caller itself,
// saving the hand-off to the writer goroutine; false when output is queued
// or being written, so order is kept by queueing instead. A claim is ended
// by written.
func (o *outbox) direct() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead || o.closing || o.writing || len(o.buf) > 0 {
		return false
	}
	o.writing = true
	return true
}

// reply queues a complete reply, waiting while the backlog is too large.
func (o *outbox) reply(b []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.buf) > replyBacklog && !o.dead {
		o.waiters++
		o.cond.Wait()
		o.waiters--
	}
	if o.dead || o.closing {
		return
	}
	o.buf = append(o.buf, b...)
	o.cond.Broadcast()
}

// push queues a message without waiting. It reports false when the pending
// output would exceed pushLimit; the caller then drops the connection.
func (o *outbox) push(b []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead || o.closing {
		return true
	}
	if len(o.buf)+len(b) > pushLimit {
		return false
	}
	o.buf = append(o.buf, b...)
	o.cond.Broadcast()
	return true
}

// take waits for output and hands it to the writer. done means stop: either
// killed, or closing with everything written.
func (o *outbox) take(spare []byte) (data []byte, done bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for (len(o.buf) == 0 || o.writing) && !o.dead && !o.closing {
		o.cond.Wait()
	}
	if o.dead || len(o.buf) == 0 {
		return nil, true
	}
	data, o.buf = o.buf, spare[:0]
	o.writing = true
	return data, false
}

// written ends a write: it wakes the writer for output queued meanwhile and
// readers waiting for backlog space. After a direct reply there is mostly
// neither, and waking the writer for nothing cost a goroutine switch per
// request.
func (o *outbox) written() {
	o.mu.Lock()
	o.writing = false
	if len(o.buf) > 0 || o.waiters > 0 {
		o.cond.Broadcast()
	}
	o.mu.Unlock()
}

func (o *outbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf)
}

func (o *outbox) closeAfterFlush() {
	o.mu.Lock()
	o.closing = true
	o.cond.Broadcast()
	o.mu.Unlock()
}

func (o *outbox) kill() {
	o.mu.Lock()
	o.dead = true
	o.cond.Broadcast()
	o.mu.Unlock()
}
