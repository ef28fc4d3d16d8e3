// Package core is the sentinel's brain as a pure, deterministic state
// machine: failure detection (SDOWN, ODOWN, TILT), discovery of replicas and
// peer sentinels from INFO and hellos, the failover state machine and the
// SENTINEL commands that change state.
//
// It owns no goroutine, socket, clock or file. Everything that happens to it
// comes in through Step: observations from the links, messages from peers
// (package peer), ticks, the outcome of a save, and the commands. What it
// asks for comes out as one Ready: the HardState and Settings to save when
// they changed, requests to send on links, peer messages, events and
// scripts. The shell saves before it sends anything of the same Ready, so a
// vote is on disk before the reply that grants it leaves, then calls
// Advance (docs/design.md "One door in, one batch out"). A State must only
// be used from one goroutine.
package core
