// Package drill runs failover drills and measures them: a sandbox drill
// (RunLocal) starts a local topology, SIGKILLs the master and times every
// step until the old master is back as a replica; a live drill (RunLive)
// makes a running deployment fail over without killing anything (CLIENT
// PAUSE or SENTINEL FAILOVER) and times the same steps from the sentinels'
// events. Results are plain structs so benchmarks can reuse them; Summarize
// and NewReport reduce many runs to min/median/max per phase.
//
// It owns, for the length of one run, the processes it started (through
// internal/cluster), its go-redis clients and the goroutines that watch
// events, write and poll. Everything is stopped before Run* returns, also on
// error or when ctx ends.
//
// Concurrency: one run loop goroutine owns the Result being built; event
// readers, the writer and the pollers only send observations to it over a
// channel. One reporter goroutine owns the progress writer. The pure parts
// (classify, Check, Summarize, the formatting) have no state.
package drill
