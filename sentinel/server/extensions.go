package server

import (
	"strconv"
	"time"
)

// ProxyLister is implemented by a Backend that runs the built-in proxy
// (docs/proxy.md); SENTINEL PROXIES lists its listeners.
type ProxyLister interface {
	// ProxyStatus returns one flat field, value, field, value... list per
	// listener.
	ProxyStatus() [][]string
}

func (s *Server) cmdSentinelProxies(_ *client, r *reply, _ []string) {
	pl, ok := s.opts.Backend.(ProxyLister)
	if !ok {
		r.array(0)
		return
	}
	list := pl.ProxyStatus()
	r.array(len(list))
	for _, fields := range list {
		kvs := make([]kv, 0, len(fields)/2)
		for i := 0; i+1 < len(fields); i += 2 {
			kvs = append(kvs, kv{fields[i], fields[i+1]})
		}
		r.pairs(kvs)
	}
}

// cmdSentinelHealth reports what `sentinel status` shows beside the groups:
// a failing save (votes and announcements are withheld meanwhile, see
// docs/elections.md) and the input the state machine refused.
func (s *Server) cmdSentinelHealth(_ *client, r *reply, _ []string) {
	snap := s.opts.Backend.Snapshot()
	save, failingMS := "ok", int64(0)
	if snap.SaveError != "" {
		save, failingMS = "failing", time.Since(snap.SaveFailedSince).Milliseconds()
	}
	var refused uint64
	for _, n := range snap.Rejected {
		refused += n
	}
	r.pairs([]kv{
		{"config-save", save},
		{"config-save-error", snap.SaveError},
		{"config-save-failing-ms", strconv.FormatInt(failingMS, 10)},
		{"config-save-failures", strconv.FormatUint(snap.SaveFailures, 10)},
		{"invalid-input", strconv.FormatUint(refused, 10)},
	})
}
