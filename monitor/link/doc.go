// Package link runs the sentinel's connections to monitored Redis instances
// and to peer sentinels, in the vocabulary of package monitor.
//
// Every reply is read by the package's own RESP2 reader within Limits (size,
// array length, nesting): a reply over them closes the connection and is
// reported, never allocated. A refused AUTH does not close a connection the
// instance still serves, as in Redis Sentinel; NOAUTH does.
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
package link
