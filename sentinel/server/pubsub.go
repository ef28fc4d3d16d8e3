package server

import (
	"slices"
	"sync"

	"github.com/seed877ff415/sentinel/sentinel/glob"
)

// pubsub maps channels and patterns to subscribers. Publish holds only the
// read lock and never blocks on a connection.
type pubsub struct {
	mu       sync.RWMutex
	channels map[string]map[*client]struct{}
	patterns map[string]map[*client]struct{}
	byClient map[*client]*subs
}

type subs struct {
	channels []string // in subscription order, for UNSUBSCRIBE without args
	patterns []string
}

func newPubsub() pubsub {
	return pubsub{
		channels: make(map[string]map[*client]struct{}),
		patterns: make(map[string]map[*client]struct{}),
		byClient: make(map[*client]*subs),
	}
}

// subscribe adds c to name (a channel or a pattern) and returns c's total
// subscription count.
func (p *pubsub) subscribe(c *client, name string, pattern bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	table := p.table(pattern)
	set := table[name]
	if set == nil {
		set = make(map[*client]struct{})
		table[name] = set
	}
	sb := p.byClient[c]
	if sb == nil {
		sb = &subs{}
		p.byClient[c] = sb
	}
	if _, dup := set[c]; !dup {
		set[c] = struct{}{}
		if pattern {
			sb.patterns = append(sb.patterns, name)
		} else {
			sb.channels = append(sb.channels, name)
		}
	}
	return len(sb.channels) + len(sb.patterns)
}

// unsubscribe removes c from name and returns c's remaining count.
func (p *pubsub) unsubscribe(c *client, name string, pattern bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unsubscribeLocked(c, name, pattern)
}

func (p *pubsub) unsubscribeLocked(c *client, name string, pattern bool) int {
	table := p.table(pattern)
	if set := table[name]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(table, name)
		}
	}
	sb := p.byClient[c]
	if sb == nil {
		return 0
	}
	if pattern {
		sb.patterns = remove(sb.patterns, name)
	} else {
		sb.channels = remove(sb.channels, name)
	}
	n := len(sb.channels) + len(sb.patterns)
	if n == 0 {
		delete(p.byClient, c)
	}
	return n
}

// list returns c's channels or patterns in subscription order.
func (p *pubsub) list(c *client, pattern bool) []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	sb := p.byClient[c]
	if sb == nil {
		return nil
	}
	if pattern {
		return append([]string(nil), sb.patterns...)
	}
	return append([]string(nil), sb.channels...)
}

func (p *pubsub) unsubscribeAll(c *client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sb := p.byClient[c]
	if sb == nil {
		return
	}
	for _, ch := range slices.Clone(sb.channels) {
		p.unsubscribeLocked(c, ch, false)
	}
	for _, pat := range slices.Clone(sb.patterns) {
		p.unsubscribeLocked(c, pat, true)
	}
}

func (p *pubsub) counts(c *client) (channels, patterns int) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if sb := p.byClient[c]; sb != nil {
		return len(sb.channels), len(sb.patterns)
	}
	return 0, 0
}

func (p *pubsub) totals() (channels, patterns int) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.channels), len(p.patterns)
}

func (p *pubsub) table(pattern bool) map[string]map[*client]struct{} {
	if pattern {
		return p.patterns
	}
	return p.channels
}

func remove(list []string, name string) []string {
	if i := slices.Index(list, name); i >= 0 {
		return slices.Delete(list, i, i+1)
	}
	return list
}

// Publish delivers an event to SUBSCRIBE and PSUBSCRIBE clients and returns
// how many deliveries were made. It never blocks: a subscriber that cannot
// keep up is disconnected, as Redis does when its pubsub output buffer limit
// is hit.
func (s *Server) Publish(channel, message string) int {
	var enc [2][]byte // RESP2, RESP3 encodings of the "message" form
	n := 0
	deliver := func(c *client, b []byte) {
		if c.out.push(b) {
			n++
			return
		}
		s.log.Warn().Int64("client", c.id).Str("addr", c.addr).Str("channel", channel).
			Msg("subscriber output buffer over limit, disconnecting")
		c.kill()
	}
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	for c := range s.ps.channels[channel] {
		v := protoIndex(c)
		if enc[v] == nil {
			r := reply{resp3: v == 1}
			r.push(3)
			r.bulk("message")
			r.bulk(channel)
			r.bulk(message)
			enc[v] = r.b
		}
		deliver(c, enc[v])
	}
	for pat, set := range s.ps.patterns {
		if !glob.Match(pat, channel, false) {
			continue
		}
		var penc [2][]byte
		for c := range set {
			v := protoIndex(c)
			if penc[v] == nil {
				r := reply{resp3: v == 1}
				r.push(4)
				r.bulk("pmessage")
				r.bulk(pat)
				r.bulk(channel)
				r.bulk(message)
				penc[v] = r.b
			}
			deliver(c, penc[v])
		}
	}
	return n
}

func protoIndex(c *client) int {
	if c.resp3.Load() {
		return 1
	}
	return 0
}

// Subscription commands reply once per channel with the running count.
func (s *Server) cmdSubscribe(c *client, r *reply, args []string, pattern bool) {
	kind := "subscribe"
	if pattern {
		kind = "psubscribe"
	}
	for _, name := range args[1:] {
		n := s.ps.subscribe(c, name, pattern)
		subscribeReply(r, kind, name, n)
	}
}

func (s *Server) cmdUnsubscribe(c *client, r *reply, args []string, pattern bool) {
	kind := "unsubscribe"
	if pattern {
		kind = "punsubscribe"
	}
	names := args[1:]
	if len(names) == 0 {
		names = s.ps.list(c, pattern)
		if len(names) == 0 {
			channels, patterns := s.ps.counts(c)
			r.push(3)
			r.bulk(kind)
			r.nullBulk()
			r.int(int64(channels + patterns))
			return
		}
	}
	for _, name := range names {
		n := s.ps.unsubscribe(c, name, pattern)
		subscribeReply(r, kind, name, n)
	}
}

func subscribeReply(r *reply, kind, name string, n int) {
	r.push(3)
	r.bulk(kind)
	r.bulk(name)
	r.int(int64(n))
}
