package cluster

// Host is where a process runs and is reached: a network namespace (empty:
// the caller's own) and the address it binds and is dialled at.
type Host struct {
	NetNS string
	IP    string
}

// Loopback is 127.0.0.1 in the caller's namespace, where StartRedis and
// StartSentinel run their processes.
var Loopback = Host{IP: "127.0.0.1"}

// command prefixes argv so that it runs in the host's namespace.
func (h Host) command(argv []string) []string {
	if h.NetNS == "" {
		return argv
	}
	return append([]string{"ip", "netns", "exec", h.NetNS}, argv...)
}

// portFree checks the port on loopback only: another namespace's ports are
// its own, and nothing else runs in the fresh ones tests make.
func (h Host) portFree(port int) error {
	if h != Loopback {
		return nil
	}
	return portFree(port)
}
