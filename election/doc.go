// Package election owns the epochs and votes of sentinel failover-leader
// elections (docs/behaviour.md §3.5): a sentinel's current
// epoch, its one vote per master and epoch, and a candidate's tally of the
// votes it collected.
//
// The package is a pure, deterministic core in the etcd-raft style: no
// goroutines, clock, sockets, randomness or logging. The caller feeds it
// requests, replies and observed epochs; each step returns a Decision saying
// what changed, and the caller persists, logs and publishes accordingly.
//
// Persist before you reply: when Decision.Persist (or ObserveEpoch) reports a
// change, the caller writes CurrentEpoch and LeaderEpochs to stable storage
// before any reply or message reflecting it leaves. Otherwise a restarted
// sentinel could grant a second vote in an epoch it already voted in.
//
// Concurrency contract: Voter and Candidacy are not safe for concurrent use.
// They belong to the one goroutine that owns the failover state (the failover
// state machine); other goroutines hand it messages instead of calling in.
package election
