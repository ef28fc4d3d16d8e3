// Package notify owns what a sentinel tells the outside world about its
// events: the notification and client-reconfig scripts (spec §6 "Scripts")
// and our webhook extension.
//
// Concurrency contract:
//   - ScriptRunner's queue, children and retry schedule belong to the single
//     goroutine running ScriptRunner.Run. Queue, Pending and Counts are safe to
//     call from any goroutine and never block; they talk to the owner through
//     a bounded channel and an immutable snapshot it publishes.
//   - Webhooks' delivery belongs to the goroutine running Webhooks.Run; Post
//     never blocks and drops the oldest queued delivery when full.
//   - Both Run methods stop when their context ends: ScriptRunner kills its
//     children and reaps them before returning, Webhooks aborts the request
//     in flight. Run must be called at most once per value.
//   - NotificationArgv and ReconfigArgv are pure.
//
// Scripts are started with the sentinel's environment, working directory and
// stdio, in their own process group, and with no other descriptor inherited.
// The package relies on Unix process semantics (signals, process groups).
package notify
