package core

import (
	"time"

	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/peer"
)

// Persist before send: an Output whose Persist could not be carried out
// (the save failed) must not let anything leave that reflects the unsaved
// state, or a restarted sentinel could vote twice in one epoch or announce
// a configuration it then forgets. The shell calls Withhold on such an
// Output, and on every Output until a save succeeds, and reports each save
// through Saved.

// Withhold removes what carries unsaved state: vote replies and requests,
// hellos (they carry the current epoch and the master's config epoch) and
// IS-MASTER-DOWN-BY-ADDR requests that ask for a vote. Opinions, PINGs, INFO
// and replica commands still go: they carry nothing persisted.
func (o *Output) Withhold() {
	peers := o.Peers[:0]
	for _, p := range o.Peers {
		if _, ok := p.Msg.(peer.Opinion); ok {
			peers = append(peers, p)
		}
	}
	o.Peers = peers
	reqs := o.Requests[:0]
	for _, r := range o.Requests {
		switch q := r.Req.(type) {
		case monitor.Hello:
			continue
		case monitor.AskMasterDown:
			if q.RunID != "" {
				continue
			}
		}
		reqs = append(reqs, r)
	}
	o.Requests = reqs
}

// Saved reports the outcome of a save the shell made for an Output's
// Persist. A failure is an event once, when saving starts failing; the
// recovery is an event too, and the announcements withheld meanwhile are
// sent again.
func (s *State) Saved(now time.Time, err error) {
	s.now = now
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
