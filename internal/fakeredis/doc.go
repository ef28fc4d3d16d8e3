// Package fakeredis models Redis instances as a sentinel sees them through
// its links, for tests that run a sentinel without sockets: the core's
// seeded simulation and the daemon on fake time. An Instance is a run id,
// a role, the master it follows, an offset, a priority and whether it is
// alive; a Set answers PING, INFO and SLAVEOF/REPLICAOF for its instances
// as Redis would (docs/behaviour.md).
//
// A Set is a plain map: it does no locking, and its owner serialises every
// use. Its answers never depend on map iteration order, so a seeded run
// reproduces.
package fakeredis
