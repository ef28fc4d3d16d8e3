// Package sentinel is the daemon: it loads the configuration, owns the
// state machine of package core in one loop goroutine, and connects it to
// the edges — the links to Redis instances (package monitor), the gossip
// group, the Redis-protocol server, scripts and webhooks. Every input
// (observation, peer message, command, tick) is applied in that loop, and
// what the state machine asks for is carried out there, persisting first.
// Readers get immutable snapshots, rebuilt only when something changed.
package sentinel
