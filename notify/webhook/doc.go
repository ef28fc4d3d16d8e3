// Package webhook posts warning-level events to the URLs configured with
// SENTINEL NOTIFICATION-WEBHOOK (our extension), retrying transient failures.
//
// Concurrency contract: delivery belongs to the goroutine running
// Sender.Run; Post never blocks and drops the oldest queued delivery when
// full. Run stops when its context ends, aborting the request in flight, and
// must be called at most once per value.
package webhook
