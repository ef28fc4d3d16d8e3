// Package ratelog decides when a repeated log line may be written: at most
// one per key and period, with a count of the occurrences held back, so that
// a flood (forged packets, password guesses, invalid input) cannot fill the
// log. A Limiter is safe for concurrent use.
package ratelog

import (
	"sync"
	"time"
)

// Limiter allows one line per key and period.
type Limiter struct {
	every time.Duration

	mu   sync.Mutex
	keys map[string]*state
}

type state struct {
	last time.Time
	held uint64
}

// New returns a Limiter that allows a line per key at most every period.
func New(every time.Duration) *Limiter { return &Limiter{every: every, keys: map[string]*state{}} }

// Allow records one occurrence of key at now. It reports whether to write a
// line for it, and how many occurrences were held back since the last line.
// Keys must come from a small fixed set: each is remembered.
func (l *Limiter) Allow(key string, now time.Time) (ok bool, held uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.keys[key]
	if st == nil {
		st = &state{}
		l.keys[key] = st
	} else if now.Sub(st.last) < l.every {
		st.held++
		return false, 0
	}
	held, st.held, st.last = st.held, 0, now
	return true, held
}
