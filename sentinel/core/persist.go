package core

import (
	"time"

	"github.com/seed877ff415/sentinel/notify"
)

// saved takes the outcome of a save the shell made for a Ready (the input
// Saved). A failure is an event once, when saving starts failing; the
// recovery is an event too, and the announcements withheld meanwhile are
// sent again.
func (s *State) saved(now time.Time, err error) {
	if err != nil {
		s.saveFailures++
		if s.saveErr == "" {
			s.saveFailedSince = now
			s.plainEvent(notify.KindConfigSaveFailed, err.Error())
		}
		s.saveErr = err.Error()
		s.dirty = true
		return
	}
	if s.saveErr == "" {
		return
	}
	s.plainEvent(notify.KindConfigSaveOK, "failed for "+now.Sub(s.saveFailedSince).String())
	s.saveErr = ""
	s.saveFailedSince = time.Time{}
	for _, m := range s.masters {
		s.announceConfig(m)
	}
}
