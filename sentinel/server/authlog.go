package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// authLogEvery bounds the failed-AUTH log: a password guesser must not be
// able to fill the disk (100k guesses made 16 MB of warnings).
const authLogEvery = 10 * time.Second

// authFailures counts failed authentications and decides when to log them:
// the first at once, then at most one line per authLogEvery carrying the
// number of failures since the previous line.
type authFailures struct {
	total atomic.Int64

	mu       sync.Mutex
	lastLog  time.Time
	unlogged int64
}

// note records one failure at now and reports whether to log a line, and
// how many failures (this one included) that line stands for.
func (a *authFailures) note(now time.Time) (logIt bool, count int64) {
	a.total.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.unlogged++
	if !a.lastLog.IsZero() && now.Sub(a.lastLog) < authLogEvery {
		return false, 0
	}
	a.lastLog = now
	count, a.unlogged = a.unlogged, 0
	return true, count
}

// authFailed logs a failed AUTH, rate-limited.
func (s *Server) authFailed(c *client, user string) {
	if ok, n := s.authFails.note(time.Now()); ok {
		s.log.Warn().Int64("client", c.id).Str("addr", c.addr).Str("user", user).
			Int64("failures_since_last_line", n).Msg("authentication failed")
	}
}
