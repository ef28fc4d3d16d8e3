// Package status reads the state of every master group from one sentinel
// over the Redis protocol (SENTINEL MASTERS, REPLICAS, SENTINELS and
// INFO-CACHE) and renders it as a table or JSON for `sentinel status`.
//
// It owns no long-lived state: Fetch returns a Snapshot of the raw replies,
// Build turns it into a View, and Render writes the View. Build and Render
// are pure functions of their input, so the output is testable with golden
// files. Fetch uses only the Querier it is given and is safe to call
// concurrently when that is.
package status
