// Package script runs the notification and client-reconfig scripts with
// Redis Sentinel's limits, retries and timeouts.
//
// Concurrency contract:
//   - Runner's queue, children and retry schedule belong to the single
//     goroutine running Runner.Run. Queue, Pending and Counts are safe to
//     call from any goroutine and never block; they talk to the owner through
//     a bounded channel and an immutable snapshot it publishes.
//   - Run stops when its context ends: it kills its children and reaps them
//     before returning. Run must be called at most once per value.
//
// Scripts are started with the sentinel's environment, working directory and
// stdio, in their own process group, and with no other descriptor inherited.
// The package relies on Unix process semantics (signals, process groups).
package script
