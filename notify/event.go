package notify

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

// Event is one sentinel event (docs/behaviour.md §2). Type is also the pub/sub channel and
// Message is the exact payload published on it.
type Event struct {
	Type    string
	Level   Level
	Message string
	// Master is the master group the event concerns, "" for events without
	// an instance (+tilt, +new-epoch, -script-error).
	Master string
	// Instance is true when the message starts with an instance description
	// (%@); only those events run the notification script.
	Instance bool
}

// Published reports whether the event goes to pub/sub subscribers: debug
// events are only logged.
func (e Event) Published() bool { return e.Level > LevelDebug }
