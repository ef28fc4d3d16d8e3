package notify

import (
	"strconv"

	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Level is an event's severity, as in Redis Sentinel's sentinelEvent.
type Level int8

const (
	LevelDebug Level = iota
	LevelVerbose
	LevelNotice
	LevelWarning
)

func (l Level) String() string {
	switch l {
	case LevelDebug:
		return "debug"
	case LevelVerbose:
		return "verbose"
	case LevelNotice:
		return "notice"
	default:
		return "warning"
	}
}

// Kind is what happened; its String is the pub/sub channel (docs/behaviour.md §2).
type Kind uint8

const (
	KindMonitor Kind = iota + 1
	KindUnmonitor
	KindSet
	KindResetMaster
	KindSDown
	KindSDownCleared
	KindODown
	KindODownCleared
	KindTilt
	KindTiltExited
	KindNewEpoch
	KindVoteForLeader
	KindTryFailover
	KindElectedLeader
	KindStateSelectSlave
	KindSelectedSlave
	KindStateSendSlaveofNoone
	KindStateWaitPromotion
	KindPromotedSlave
	KindStateReconfSlaves
	KindSlaveReconfSent
	KindSlaveReconfSentTimeout
	KindSlaveReconfSentBe
	KindSlaveReconfInprog
	KindSlaveReconfDone
	KindFailoverEnd
	KindFailoverEndForTimeout
	KindAbortNotElected
	KindAbortNoGoodSlave
	KindAbortSlaveTimeout
	KindSwitchMaster
	KindSlave
	KindSentinel
	KindReboot
	KindRoleChange
	KindRoleChangeCleared
	KindConvertToSlave
	KindFixSlaveConfig
	KindConfigUpdateFrom
	KindSentinelAddressSwitch
	KindSentinelInvalidAddr
	KindMaxReplicasReached
	KindMaxSentinelsReached
	KindReplyOverLimit
	KindFenceUpdate
	KindFenceRestore
	KindFenceFailed
	KindConfigSaveFailed
	KindConfigSaveOK
	KindTLSCertExpiring
	KindScriptError
	KindScriptTimeout
	kindEnd
)

var kindNames = [kindEnd]string{
	KindMonitor:                "+monitor",
	KindUnmonitor:              "-monitor",
	KindSet:                    "+set",
	KindResetMaster:            "+reset-master",
	KindSDown:                  "+sdown",
	KindSDownCleared:           "-sdown",
	KindODown:                  "+odown",
	KindODownCleared:           "-odown",
	KindTilt:                   "+tilt",
	KindTiltExited:             "-tilt",
	KindNewEpoch:               "+new-epoch",
	KindVoteForLeader:          "+vote-for-leader",
	KindTryFailover:            "+try-failover",
	KindElectedLeader:          "+elected-leader",
	KindStateSelectSlave:       "+failover-state-select-slave",
	KindSelectedSlave:          "+selected-slave",
	KindStateSendSlaveofNoone:  "+failover-state-send-slaveof-noone",
	KindStateWaitPromotion:     "+failover-state-wait-promotion",
	KindPromotedSlave:          "+promoted-slave",
	KindStateReconfSlaves:      "+failover-state-reconf-slaves",
	KindSlaveReconfSent:        "+slave-reconf-sent",
	KindSlaveReconfSentTimeout: "-slave-reconf-sent-timeout",
	KindSlaveReconfSentBe:      "+slave-reconf-sent-be",
	KindSlaveReconfInprog:      "+slave-reconf-inprog",
	KindSlaveReconfDone:        "+slave-reconf-done",
	KindFailoverEnd:            "+failover-end",
	KindFailoverEndForTimeout:  "+failover-end-for-timeout",
	KindAbortNotElected:        "-failover-abort-not-elected",
	KindAbortNoGoodSlave:       "-failover-abort-no-good-slave",
	KindAbortSlaveTimeout:      "-failover-abort-slave-timeout",
	KindSwitchMaster:           "+switch-master",
	KindSlave:                  "+slave",
	KindSentinel:               "+sentinel",
	KindReboot:                 "+reboot",
	KindRoleChange:             "+role-change",
	KindRoleChangeCleared:      "-role-change",
	KindConvertToSlave:         "+convert-to-slave",
	KindFixSlaveConfig:         "+fix-slave-config",
	KindConfigUpdateFrom:       "+config-update-from",
	KindSentinelAddressSwitch:  "+sentinel-address-switch",
	KindSentinelInvalidAddr:    "+sentinel-invalid-addr",
	KindMaxReplicasReached:     "-max-replicas-reached",
	KindMaxSentinelsReached:    "-max-sentinels-reached",
	KindReplyOverLimit:         "-reply-over-limit",
	KindFenceUpdate:            "+fence-update",
	KindFenceRestore:           "+fence-restore",
	KindFenceFailed:            "-fence-failed",
	KindConfigSaveFailed:       "-config-save-failed",
	KindConfigSaveOK:           "+config-save-ok",
	KindTLSCertExpiring:        "-tls-cert-expiring",
	KindScriptError:            "-script-error",
	KindScriptTimeout:          "-script-timeout",
}

// String is the event's name, which is also its pub/sub channel.
func (k Kind) String() string {
	if k < kindEnd && kindNames[k] != "" {
		return kindNames[k]
	}
	return "?kind" + strconv.Itoa(int(k))
}

// Instance is the instance an event is about, as Redis' "%@" prints it.
type Instance struct {
	Kind view.Kind
	Name string // master name; replica "ip:port"; sentinel run id
	Host string // what events print: the IP, or the hostname with announce-hostnames
	Port int
	// The instance's master; empty for a master.
	MasterName string
	MasterHost string
	MasterPort int
}

// String renders "%@": "<type> <name> <host> <port>", then
// " @ <master> <host> <port>" unless the instance is a master.
func (i *Instance) String() string {
	b := make([]byte, 0, 64)
	b = append(b, i.Kind.String()...)
	b = appendAddr(append(append(b, ' '), i.Name...), i.Host, i.Port)
	if i.Kind != view.KindMaster {
		b = append(append(b, " @ "...), i.MasterName...)
		b = appendAddr(b, i.MasterHost, i.MasterPort)
	}
	return string(b)
}

func appendAddr(b []byte, host string, port int) []byte {
	b = append(append(append(b, ' '), host...), ' ')
	return strconv.AppendInt(b, int64(port), 10)
}

// Addr is an address as events print it.
type Addr struct {
	Host string
	Port int
}

// Event is one sentinel event (docs/behaviour.md §2). Logs, pub/sub, metrics,
// webhooks and scripts all read it; Payload is the exact text published.
type Event struct {
	Kind  Kind
	Level Level
	// Master is the master group the event concerns, "" for events without
	// one (+tilt, +new-epoch, -script-error).
	Master string
	// Instance is the instance the event is about, nil for events whose
	// payload does not start with one; only events with one run the
	// notification script.
	Instance *Instance
	Epoch    uint64 // +new-epoch, +vote-for-leader
	Leader   string // +vote-for-leader: the run id voted for
	// From and To are the old and new master address of +switch-master.
	From, To Addr
	// Text is the rest of the payload: after the instance, or all of it for
	// events without one.
	Text string
}

// Channel is the pub/sub channel the event is published on.
func (e Event) Channel() string { return e.Kind.String() }

// Payload is the message Redis Sentinel publishes for the event.
func (e Event) Payload() string {
	switch {
	case e.Instance != nil:
		if e.Text == "" {
			return e.Instance.String()
		}
		return e.Instance.String() + " " + e.Text
	case e.Kind == KindNewEpoch:
		return strconv.FormatUint(e.Epoch, 10)
	case e.Kind == KindVoteForLeader:
		return e.Leader + " " + strconv.FormatUint(e.Epoch, 10)
	case e.Kind == KindSwitchMaster:
		b := appendAddr([]byte(e.Master), e.From.Host, e.From.Port)
		return string(appendAddr(b, e.To.Host, e.To.Port))
	}
	return e.Text
}

// Published reports whether the event goes to pub/sub subscribers: debug
// events are only logged.
func (e Event) Published() bool { return e.Level > LevelDebug }
