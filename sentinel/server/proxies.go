package server

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
