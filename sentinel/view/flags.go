package view

import "strings"

// Flags are an instance's SENTINEL flag words (docs/behaviour.md §1.3), one
// bit each, declared in the order Redis prints them.
type Flags uint16

const (
	FlagSDown Flags = 1 << iota
	FlagODown
	FlagMaster
	FlagSlave
	FlagSentinel
	FlagDisconnected
	FlagMasterDown
	FlagFailoverInProgress
	FlagPromoted
	FlagReconfSent
	FlagReconfInprog
	FlagReconfDone
	FlagForceFailover
	FlagScriptKillSent
	flagCount = iota
)

var flagNames = [flagCount]string{
	"s_down", "o_down", "master", "slave", "sentinel", "disconnected", "master_down",
	"failover_in_progress", "promoted", "reconf_sent", "reconf_inprog", "reconf_done",
	"force_failover", "script_kill_sent",
}

// Has reports whether f holds any of the flags in g.
func (f Flags) Has(g Flags) bool { return f&g != 0 }

// String is the comma-joined words in Redis' order, e.g. "s_down,slave,disconnected".
func (f Flags) String() string {
	var b strings.Builder
	for i, name := range flagNames {
		if f&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
	}
	return b.String()
}

// Flag is the type flag of an instance of kind k.
func (k Kind) Flag() Flags {
	switch k {
	case KindMaster:
		return FlagMaster
	case KindReplica:
		return FlagSlave
	default:
		return FlagSentinel
	}
}
