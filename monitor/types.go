package monitor

import (
	"errors"
	"maps"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// ErrAuth marks a connection the instance refuses to serve with the link's
// credentials (NOAUTH). A refused AUTH alone is not one: like Redis Sentinel,
// a link keeps a connection that the instance serves without it.
var ErrAuth = errors.New("auth failed")

// ErrReplyLimit marks a connection closed because a reply was over the
// link's limits on size, array length or nesting.
var ErrReplyLimit = errors.New("reply over the link's limits")

// LinkKind is the kind of instance at the other end of a link.
type LinkKind int

const (
	LinkMaster LinkKind = iota
	LinkReplica
	LinkSentinel
)

func (k LinkKind) String() string {
	switch k {
	case LinkMaster:
		return "master"
	case LinkReplica:
		return "replica"
	default:
		return "sentinel"
	}
}

// LinkSpec describes one link. Reconcile restarts a link whose spec changed.
type LinkSpec struct {
	Key                string            // unique, chosen by the caller
	Addr               string            // host:port (a hostname is re-resolved on every connect)
	Kind               LinkKind          // sentinels get a command connection only
	Username, Password string            // AUTH [user] pass on connect when Password != ""
	Rename             map[string]string // lower-case command name -> new name (rename-command)
	ClientName         string            // CLIENT SETNAME <ClientName>-cmd / -pubsub when != ""
	Subscribe          bool              // masters and replicas: also SUBSCRIBE __sentinel__:hello
	Timeout            time.Duration     // dial/read/write timeout per command; 0 => 500ms
}

// Equal reports whether two specs describe the same link.
func (s LinkSpec) Equal(o LinkSpec) bool {
	return s.Key == o.Key && s.Addr == o.Addr && s.Kind == o.Kind &&
		s.Username == o.Username && s.Password == o.Password &&
		maps.Equal(s.Rename, o.Rename) && s.ClientName == o.ClientName &&
		s.Subscribe == o.Subscribe && s.Timeout == o.Timeout
}

// Request is something a link executes on its command connection.
type Request interface{ request() }

// Ping sends PING; answered by ObsPingReply.
type Ping struct{}

// InfoRequest sends INFO; answered by ObsInfo.
type InfoRequest struct{}

// Hello sends PUBLISH __sentinel__:hello "<ip>,<Rest>"; ip is AnnounceIP or,
// if empty, the local address of the link's command connection.
type Hello struct {
	AnnounceIP string
	Rest       string
}

// SlaveOf sends the pipelined transaction MULTI, SLAVEOF host port (NO ONE
// when Host is ""), CONFIG REWRITE, CLIENT KILL TYPE normal, CLIENT KILL TYPE
// pubsub, EXEC (as Redis Sentinel does), then INFO at once so the new role is reported.
type SlaveOf struct {
	Host string
	Port int
}

// AskMasterDown sends a vote request as SENTINEL IS-MASTER-DOWN-BY-ADDR
// MasterIP MasterPort Epoch Candidate (Candidate "" is sent as "*"; the
// other fields do not travel); answered by ObsAskReply.
type AskMasterDown struct{ Vote peer.VoteRequest }

// Failover sends Redis' FAILOVER [TO host port] [TIMEOUT ms] (coordinated
// switchover); TO is left out when Host is "", TIMEOUT when Timeout is 0.
type Failover struct {
	Host    string
	Port    int
	Timeout time.Duration
}

// ScriptKill sends SCRIPT KILL.
type ScriptKill struct{}

// ConfigGet sends CONFIG GET Param; answered by ObsReply whose Reply is the
// value (OK false when refused or when the parameter is unknown).
type ConfigGet struct{ Param string }

// ConfigSet sends CONFIG SET Param Value; answered by ObsReply.
type ConfigSet struct{ Param, Value string }

func (Ping) request()          {}
func (InfoRequest) request()   {}
func (Hello) request()         {}
func (SlaveOf) request()       {}
func (AskMasterDown) request() {}
func (Failover) request()      {}
func (ScriptKill) request()    {}
func (ConfigGet) request()     {}
func (ConfigSet) request()     {}

// ObsKind says what an Observation reports.
type ObsKind int

const (
	ObsConnected ObsKind = iota
	ObsDisconnected
	ObsPingReply
	ObsInfo
	ObsHello
	ObsAskReply
	ObsReply
)

func (k ObsKind) String() string {
	switch k {
	case ObsConnected:
		return "connected"
	case ObsDisconnected:
		return "disconnected"
	case ObsPingReply:
		return "ping-reply"
	case ObsInfo:
		return "info"
	case ObsHello:
		return "hello"
	case ObsAskReply:
		return "ask-reply"
	default:
		return "reply"
	}
}

// Observation is what a link reports.
//
// Every request that gets a reply yields one observation: Ping an ObsPingReply,
// InfoRequest an ObsInfo, AskMasterDown an ObsAskReply, the others an
// ObsReply; an error reply (or a malformed one) to InfoRequest or
// AskMasterDown yields an ObsReply with OK false instead. A request cut short
// by a connection error yields nothing; the ObsDisconnected that follows
// carries the error, and requests still queued are dropped.
//
// ObsDisconnected is reported when a connection is lost and when a connect
// attempt fails with an error other than the one last reported, so a dead or
// misconfigured instance is reported once, not every 250 ms.
type Observation struct {
	Key     string
	Kind    ObsKind
	At      time.Time      // when the reply arrived
	OK      bool           // ObsPingReply: +PONG, -LOADING or -MASTERDOWN; ObsReply: no error
	Reply   string         // ObsPingReply/ObsReply: the reply or the error text
	Info    *Info          // ObsInfo
	Payload string         // ObsHello: the message received on the pub/sub connection
	Ask     peer.VoteReply // ObsAskReply: Down, Leader ("" for "*") and LeaderEpoch
	Request Request        // the request answered
	Err     error          // ObsDisconnected: why
	// OverLimit (ObsDisconnected) is set the first time a reply over the
	// link's limits closed it (Err says which), and again only after a
	// good INFO: the warning is raised once, not on every reconnect.
	OverLimit bool
	// RemoteIP and LocalIP (ObsConnected) are the two ends of the new
	// connection: a hostname is resolved again at each connect, and RemoteIP
	// says where it led this time.
	RemoteIP, LocalIP string
}
