package gossip

import (
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/rs/zerolog"
)

// Config describes one sentinel's membership in the gossip group.
type Config struct {
	Name          string         // node name = the sentinel's persisted myid (unique)
	BindAddr      string         // e.g. "127.0.0.1" or "0.0.0.0"
	Port          int            // UDP port for packets and TCP port for streams; 0 => the Mux's port (or a free one)
	AdvertiseAddr string         // "" => BindAddr, or a private IP when bound to any
	AdvertisePort int            // 0 => Port
	Label         string         // memberlist label (cluster name); peers with another label are ignored
	Keys          [][]byte       // optional 16/24/32-byte encryption keys, first = primary; nil = plaintext
	Log           zerolog.Logger // also receives memberlist's own log lines

	// OnMessage receives decoded peer messages (peer.Opinion, peer.VoteRequest,
	// peer.VoteReply, peer.Hello) with the sender's node name. Called from
	// memberlist goroutines: must not block.
	OnMessage func(from string, msg any)
	// OnMembership reports other nodes joining (alive) or leaving/failing,
	// in order, from one goroutine of the Group: must not block.
	OnMembership func(name string, alive bool)

	// ProbeInterval is the failure detector's period; 0 => 200ms, with a
	// probe timeout of half of it.
	ProbeInterval time.Duration
}

// maxName keeps the envelope plus the largest peer message inside a packet.
const maxName = 128

// LAN tuning for 3-7 sentinels: opinions must spread in milliseconds, and a
// dead peer should be declared within about a second.
const (
	defaultProbeInterval = 500 * time.Millisecond
	gossipInterval       = 200 * time.Millisecond
	pushPullInterval     = 30 * time.Second
	tcpTimeout           = 2 * time.Second
	gossipToTheDead      = 10 * time.Second
	suspicionMult        = 3
	suspicionMaxMult     = 3
	retransmitMult       = 4
)

func (c Config) validate() error {
	switch {
	case c.Name == "":
		return errors.New("name is required")
	case len(c.Name) > maxName:
		return fmt.Errorf("name of %d bytes exceeds %d", len(c.Name), maxName)
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("port %d out of range", c.Port)
	case c.AdvertisePort < 0 || c.AdvertisePort > 65535:
		return fmt.Errorf("advertise port %d out of range", c.AdvertisePort)
	case c.ProbeInterval < 0:
		return fmt.Errorf("negative probe interval %s", c.ProbeInterval)
	}
	for i, k := range c.Keys {
		if err := memberlist.ValidateKey(k); err != nil {
			return fmt.Errorf("key %d: %w", i, err)
		}
	}
	return nil
}

// memberlistConfig maps Config onto memberlist's, tuned for a small LAN.
func (c Config) memberlistConfig(t memberlist.Transport, d *delegate) (*memberlist.Config, error) {
	mc := memberlist.DefaultLANConfig()
	mc.Name = c.Name
	mc.BindAddr = c.BindAddr
	mc.BindPort = c.Port
	mc.AdvertiseAddr = c.AdvertiseAddr
	mc.AdvertisePort = c.AdvertisePort
	mc.Label = c.Label
	mc.Transport = t
	mc.Delegate = d
	mc.Events = d
	mc.Logger = log.New(logBridge{log: c.Log.With().Str("component", "memberlist").Logger()}, "", 0)

	probe := c.ProbeInterval
	if probe == 0 {
		probe = defaultProbeInterval
	}
	mc.ProbeInterval = probe
	mc.ProbeTimeout = probe / 2
	mc.GossipInterval = gossipInterval
	mc.PushPullInterval = pushPullInterval
	mc.TCPTimeout = tcpTimeout
	mc.GossipToTheDeadTime = gossipToTheDead
	// A sentinel restarted on a new address keeps its myid; let it back in.
	mc.DeadNodeReclaimTime = gossipToTheDead
	mc.SuspicionMult = suspicionMult
	mc.SuspicionMaxTimeoutMult = suspicionMaxMult
	mc.RetransmitMult = retransmitMult

	if len(c.Keys) > 0 {
		kr, err := memberlist.NewKeyring(c.Keys[1:], c.Keys[0])
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		mc.Keyring = kr
	}
	return mc, nil
}

// logBridge turns memberlist's "[LEVEL] memberlist: text" lines into zerolog
// events at the matching level.
type logBridge struct{ log zerolog.Logger }

var logLevels = []struct {
	prefix string
	level  zerolog.Level
}{
	{"[TRACE]", zerolog.TraceLevel},
	{"[DEBUG]", zerolog.DebugLevel},
	{"[INFO]", zerolog.InfoLevel},
	{"[WARN]", zerolog.WarnLevel},
	{"[ERR]", zerolog.ErrorLevel},
	{"[ERROR]", zerolog.ErrorLevel},
}

func (b logBridge) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	level := zerolog.InfoLevel
	for _, l := range logLevels {
		if rest, ok := strings.CutPrefix(line, l.prefix); ok {
			level, line = l.level, strings.TrimSpace(rest)
			break
		}
	}
	line = strings.TrimPrefix(line, "memberlist: ")
	b.log.WithLevel(level).Msg(line)
	return len(p), nil
}
