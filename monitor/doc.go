// Package monitor owns the sentinel's connections to monitored Redis
// instances (masters, replicas) and to peer sentinels.
//
// A link is a dumb executor: the caller (the pure core) decides when to PING,
// INFO, publish hellos or send SLAVEOF; the link runs each Request on its
// connection and reports what happened as an Observation. Nothing here
// decides whether an instance is down or what to do about it.
//
// Concurrency contract:
//   - Manager methods are safe for concurrent use.
//   - Every link has one goroutine owning its command connection (requests run
//     in the order they were sent) and, for subscribed masters and replicas,
//     one goroutine owning its pub/sub connection.
//   - The sink is called from those goroutines; it may block, which holds up
//     only the link that called it. Observations of one command connection
//     arrive in order; hellos from the pub/sub connection may interleave.
//   - A stopped link (Reconcile, Close) reports nothing new, but a sink call
//     already in progress finishes. Close waits for it, so the sink must
//     eventually return.
package monitor
