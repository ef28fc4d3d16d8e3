// Package server is the Redis-protocol face of the sentinel: it speaks RESP2
// and RESP3 (plus inline commands) on a listener the daemon hands it and
// answers clients exactly as Redis Sentinel 7.0 does.
//
// It owns the client connections, their per-connection state (protocol
// version, authentication, name, pub/sub subscriptions), the ACL users and
// the local pub/sub fan-out. It owns no sentinel state: every read is rendered
// from one immutable view.Snapshot taken per command, and every change is
// handed to the Backend.
//
// Concurrency: each connection has a reader goroutine, which parses and runs
// its commands in order, and a writer goroutine, which drains the
// connection's output buffer so that a slow reader never blocks anyone else.
// Publish only appends to those buffers and never blocks; a subscriber whose
// buffer overflows is disconnected. Backend methods are called from reader
// goroutines without any server lock held, so they may block briefly and may
// be called concurrently. Close stops the listener, closes every connection
// and waits for all goroutines the server started.
package server
