// Package core is the sentinel's brain as a pure, deterministic state
// machine: failure detection (SDOWN, ODOWN, TILT), discovery of replicas and
// peer sentinels from INFO and hellos, the failover state machine and the
// SENTINEL commands that change state.
//
// It owns no goroutine, socket or clock. The daemon feeds it observations
// from the links (monitor.Observation), messages from peers (package peer),
// commands and the current time, and drains the resulting Output: requests
// to send on links, peer messages, events, scripts and whether the state
// must be persisted. Persist is always carried out before anything in the
// same Output is sent, so a vote is on disk before the reply that grants it
// leaves. A State must only be used from one goroutine.
package core
