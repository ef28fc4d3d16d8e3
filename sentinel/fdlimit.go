package sentinel

import (
	"fmt"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// reservedFDs are descriptors kept beside the clients for links, gossip,
// the config file and scripts (Redis' CONFIG_MIN_RESERVED_FDS).
const reservedFDs = 32

// fitMaxClients raises RLIMIT_NOFILE to maxclients + reservedFDs as Redis
// does at start. When the limit cannot be raised that far, maxclients is
// lowered to fit, with a warning.
func fitMaxClients(maxclients int, log zerolog.Logger) (int, error) {
	need := uint64(maxclients) + reservedFDs
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn().Err(err).Msg("cannot read the open files limit; maxclients kept")
		return maxclients, nil
	}
	if lim.Cur >= need {
		return maxclients, nil
	}
	// Root may raise the hard limit too; anyone may go up to the hard limit.
	if unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: need, Max: max(lim.Max, need)}) == nil {
		return maxclients, nil
	}
	if soft := min(need, lim.Max); unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: soft, Max: lim.Max}) == nil {
		lim.Cur = soft
	}
	got, err := clientsFor(lim.Cur, maxclients)
	if err != nil {
		return 0, err
	}
	log.Warn().Int("maxclients_requested", maxclients).Int("maxclients", got).Uint64("open_files_limit", lim.Cur).
		Msg("maxclients reduced to fit the open files limit; raise ulimit -n for more")
	return got, nil
}

// clientsFor is the maxclients a descriptor limit leaves room for.
func clientsFor(limit uint64, maxclients int) (int, error) {
	switch {
	case limit >= uint64(maxclients)+reservedFDs:
		return maxclients, nil
	case limit <= reservedFDs:
		return 0, fmt.Errorf("the open files limit (ulimit -n) of %d is not enough to start: it must be above %d", limit, reservedFDs)
	default:
		return int(limit - reservedFDs), nil
	}
}
