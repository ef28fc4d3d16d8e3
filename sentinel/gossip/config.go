package gossip

import (
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// Config describes one sentinel's membership in the gossip group.
type Config struct {
	Name          string         // node name = the sentinel's persisted myid (unique)
	BindAddr      string         // e.g. "127.0.0.1" or "0.0.0.0"
	Port          int            // UDP port for packets and TCP port for streams; 0 => the Mux's port (or a free one)
	AdvertiseAddr string         // "" => BindAddr, or a private IP when bound to any
	AdvertisePort int            // 0 => Port
	Label         string         // memberlist label (cluster name); peers with another label are ignored
	Keys          [][]byte       // 16/24/32-byte secrets, the first one signing; nil = unauthenticated
	Log           zerolog.Logger // also receives memberlist's own log lines

	// OnMessage receives peer messages (peer.Opinion, peer.VoteRequest,
	// peer.VoteReply, peer.Hello) that passed every check, with the sender's
	// node name. Called from the Group's filter goroutine: must not block.
	OnMessage func(from string, msg peer.Message)
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
func (c Config) memberlistConfig(t memberlist.Transport, d *delegate, drops *drops) (*memberlist.Config, error) {
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
	mc.Logger = log.New(logBridge{log: c.Log.With().Str("component", "memberlist").Logger(), drops: drops}, "", 0)

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

	// With a secret memberlist encrypts and authenticates every packet and
	// stream (AES-GCM, the label as additional data) and refuses any other.
	if len(c.Keys) > 0 {
		keys := make([][]byte, len(c.Keys))
		for i, k := range c.Keys {
			keys[i] = derive(k, infoKeyring)
		}
		kr, err := memberlist.NewKeyring(keys[1:], keys[0])
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		mc.Keyring = kr
		mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	}
	return mc, nil
}

// logBridge turns memberlist's "[LEVEL] memberlist: text" lines into zerolog
// events at the matching level. Lines about input memberlist refused (wrong
// key or label, garbage) are counted as drops and logged at their rate.
type logBridge struct {
	log   zerolog.Logger
	drops *drops // nil: log every line
}

// refusals are texts of memberlist's lines about input it refused.
var refusals = []string{"decrypt", "label", "checksum", "failed to decode", "not supported",
	"invalid msgtype", "missing message type", "failed to receive", "failed to read remote state"}

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
	if b.drops != nil && level >= zerolog.WarnLevel {
		lower := strings.ToLower(line)
		for _, r := range refusals {
			if strings.Contains(lower, r) {
				b.drops.add(dropMemberlist, func(ev *zerolog.Event) *zerolog.Event { return ev.Str("memberlist", line) })
				return len(p), nil
			}
		}
	}
	b.log.WithLevel(level).Msg(line)
	return len(p), nil
}
