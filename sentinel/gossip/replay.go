package gossip

// windowSize is how far behind the newest sequence seen from a sender a
// datagram may arrive and still count once: UDP reorders, and a sender's
// sequence is shared by all its receivers.
const windowSize = 1024

// replayWindow remembers which recent sequence numbers of one sender were
// accepted (the sliding window of RFC 4303, section 3.4.3).
type replayWindow struct {
	top  uint64 // newest accepted; 0 = none yet
	seen [windowSize / 64]uint64
}

// accept reports whether seq is new and records it. It returns "replayed"
// for a repeat and "stale" for one older than the window.
func (w *replayWindow) accept(seq uint64) (ok bool, reason string) {
	switch {
	case seq == 0:
		return false, dropStale
	case seq > w.top:
		if seq-w.top >= windowSize || w.top == 0 {
			clear(w.seen[:])
		} else {
			for s := w.top + 1; s < seq; s++ {
				w.clearBit(s)
			}
		}
		w.top = seq
		w.setBit(seq)
		return true, ""
	case w.top-seq >= windowSize:
		return false, dropStale
	case w.bit(seq):
		return false, dropReplayed
	}
	w.setBit(seq)
	return true, ""
}

func (w *replayWindow) bit(s uint64) bool { return w.seen[s%windowSize/64]&(1<<(s%64)) != 0 }
func (w *replayWindow) setBit(s uint64)   { w.seen[s%windowSize/64] |= 1 << (s % 64) }
func (w *replayWindow) clearBit(s uint64) { w.seen[s%windowSize/64] &^= 1 << (s % 64) }
