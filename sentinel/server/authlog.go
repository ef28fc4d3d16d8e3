package server

import (
	"sync/atomic"
	"time"

	"github.com/seed877ff415/sentinel/internal/ratelog"
)

// authLogEvery bounds the failed-AUTH log: a password guesser must not be
// able to fill the disk (100k guesses made 16 MB of warnings).
const authLogEvery = 10 * time.Second

// authFailures counts failed authentications and decides when to log them:
// the first at once, then at most one line per authLogEvery carrying the
// number of failures since the previous line.
type authFailures struct {
	total atomic.Int64
	lines *ratelog.Limiter
}

func newAuthFailures() *authFailures { return &authFailures{lines: ratelog.New(authLogEvery)} }

// note records one failure at now and reports whether to log a line, and
// how many failures (this one included) that line stands for.
func (a *authFailures) note(now time.Time) (logIt bool, count int64) {
	a.total.Add(1)
	ok, held := a.lines.Allow("", now)
	if !ok {
		return false, 0
	}
	return true, int64(held) + 1
}

// authFailed logs a failed AUTH, rate-limited.
func (s *Server) authFailed(c *client, user string) {
	if ok, n := s.authFails.note(time.Now()); ok {
		s.log.Warn().Int64("client", c.id).Str("addr", c.addr).Str("user", user).
			Int64("failures_since_last_line", n).Msg("authentication failed")
	}
}
