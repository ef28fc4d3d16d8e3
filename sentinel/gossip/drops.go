package gossip

import (
	"maps"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/ratelog"
)

// Why a datagram or memberlist packet was refused: the keys of
// Group.Dropped.
const (
	dropMalformed       = "malformed"       // not a well-formed envelope or message
	dropUnauthenticated = "unauthenticated" // no or wrong tag: sent without the secret
	dropReplayed        = "replayed"        // a sequence number already accepted
	dropStale           = "stale"           // older than the replay window
	dropSenderMismatch  = "sender-mismatch" // envelope sender differs from the message's
	dropUnknownSender   = "unknown-sender"  // not a live member of the group
	dropWrongAddress    = "wrong-address"   // without a secret: not from the member's address
	dropMemberlist      = "memberlist"      // memberlist refused a packet or stream (key, label)
)

// dropLogEvery is the least time between two log lines for one reason; the
// lines in between are counted, not written (a flood must not fill the log).
const dropLogEvery = 10 * time.Second

// drops counts refused input by reason and logs it at a bounded rate.
type drops struct {
	log zerolog.Logger

	lines *ratelog.Limiter // by reason

	mu    sync.Mutex
	count map[string]uint64
}

func newDrops(log zerolog.Logger) *drops {
	return &drops{log: log, lines: ratelog.New(dropLogEvery), count: map[string]uint64{}}
}

// add counts one refusal; detail builds the log line's fields, and is only
// called when a line is written.
func (d *drops) add(reason string, detail func(*zerolog.Event) *zerolog.Event) {
	d.mu.Lock()
	d.count[reason]++
	d.mu.Unlock()
	ok, suppressed := d.lines.Allow(reason, time.Now())
	if !ok {
		return
	}
	ev := d.log.Warn().Str("reason", reason).Uint64("suppressed", suppressed)
	if detail != nil {
		ev = detail(ev)
	}
	ev.Msg("gossip input refused")
}

func (d *drops) snapshot() map[string]uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.count)
}
