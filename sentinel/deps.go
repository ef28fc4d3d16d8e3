package sentinel

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/monitor/link"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/gossip"
	"github.com/seed877ff415/sentinel/sentinel/peer"
	"github.com/seed877ff415/sentinel/sentinel/server"
	"github.com/seed877ff415/sentinel/sentinel/tlsconf"
)

// Links is the link manager: the loop hands it the links to keep and the
// requests to send; observations come back through the sink it was built
// with (Deps.Links).
type Links interface {
	Reconcile(specs []monitor.LinkSpec)
	Send(key string, r monitor.Request) bool
	Pending(key string) int // SENTINEL MASTER's link-pending-commands
	Close()                 // returns once every link has stopped
}

// Peers is the gossip group: messages to other sentinels and who is alive;
// their messages come back through the hooks it was built with.
type Peers interface {
	Send(name string, msg peer.Message) error
	Broadcast(msg peer.Message)
	Join(addrs ...string)
	Members() []gossip.Member
	Alive(name string) bool
	Dropped() map[string]uint64 // refused input by reason, for metrics
	Close() error               // with a leave intent
	Crash() error               // without one, like a crash
}

// Store persists the state. stateFile reports that the config file was
// read-only and the state went to the state file instead.
type Store interface {
	Save(c *config.Config) (stateFile bool, err error)
}

// Server is the RESP server: it serves the daemon (server.Backend) until
// closed and publishes events to subscribers.
type Server interface {
	Serve() error // until Close
	Close() error
	Publish(channel, payload string) (receivers int)
	Stats() server.Stats
}

var (
	_ Links  = (*link.Manager)(nil)
	_ Peers  = (*gossip.Group)(nil)
	_ Server = (*server.Server)(nil)
	_ Store  = fileStore{}
)

// Deps are the parts a Daemon drives. The constructors are called by New
// with the daemon's inputs, which must never block the caller for long.
type Deps struct {
	Log zerolog.Logger
	// SelfIP is the address peers reach this sentinel at (advertiseIP).
	SelfIP string
	// Tick is how often timers run while a decision may be due (default
	// 10 ms); otherwise they run every 100 ms, as Redis does.
	Tick time.Duration
	// TLS, if set, is reloaded on SIGHUP and watched for expiry.
	TLS *tlsconf.Set

	Links func(sink func(monitor.Observation)) Links
	Peers func(onMessage func(from string, msg peer.Message), onMembership func(name string, alive bool)) (Peers, error)
	// Server is given the daemon it serves (its server.Backend).
	Server func(d *Daemon) Server
	Store  Store
}

// fileStore saves to the config file, or the state file beside it.
type fileStore struct{}

func (fileStore) Save(c *config.Config) (bool, error) { return config.Save(c) }
