package drill

import (
	"fmt"
	"io"
	"os"
	"time"
)

const (
	// quietLimit is the longest the drill stays silent on a non-TTY.
	quietLimit = time.Second
	// tick is how often the reporter checks for silence or redraws.
	tick = 100 * time.Millisecond
)

// reportMsg is either a permanent line or a new "waiting for" label.
type reportMsg struct {
	line  string
	label string
	since time.Time
}

// reporter owns the progress writer: timeline lines are printed as they
// come, and while waiting it says what for, at least every second (a
// redrawn status line on a terminal). Write errors are dropped: progress is
// advisory and must not fail a drill.
type reporter struct {
	msgs chan reportMsg
	done chan struct{}
}

func newReporter(w io.Writer) *reporter {
	r := &reporter{msgs: make(chan reportMsg), done: make(chan struct{})}
	go r.run(w, isTerminal(w))
	return r
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (r *reporter) run(w io.Writer, tty bool) {
	defer close(r.done)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	var (
		label     string
		since     time.Time
		lastWrite = time.Now()
		drawn     bool // a status line is on screen (TTY)
	)
	clear := func() {
		if drawn {
			fmt.Fprint(w, "\r\033[K")
			drawn = false
		}
	}
	status := func(now time.Time) string {
		return fmt.Sprintf("waiting for %s (%.1fs)…", label, now.Sub(since).Seconds())
	}
	for {
		select {
		case m, ok := <-r.msgs:
			if !ok {
				clear()
				return
			}
			if m.line != "" {
				clear()
				fmt.Fprintln(w, m.line)
				lastWrite = time.Now()
			} else {
				label, since = m.label, m.since
			}
		case now := <-ticker.C:
			switch {
			case label == "":
			case tty:
				fmt.Fprint(w, "\r\033[K"+status(now))
				drawn = true
			case now.Sub(lastWrite) >= quietLimit-tick:
				fmt.Fprintln(w, "  "+status(now))
				lastWrite = now
			}
		}
	}
}

// printf prints a permanent line.
func (r *reporter) printf(format string, args ...any) {
	r.msgs <- reportMsg{line: fmt.Sprintf(format, args...)}
}

// waiting sets what the drill waits for and since when; "" stops the
// status line.
func (r *reporter) waiting(label string, since time.Time) {
	r.msgs <- reportMsg{label: label, since: since}
}

// close stops the reporter once everything sent was written.
func (r *reporter) close() {
	close(r.msgs)
	<-r.done
}
