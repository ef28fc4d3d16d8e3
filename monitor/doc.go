// Package monitor is the vocabulary between the pure core and the links to
// monitored Redis instances (masters, replicas) and peer sentinels: link
// specs, requests, observations, and the INFO parser. It does no I/O;
// package monitor/link runs the links.
//
// A link is a dumb executor: the caller (the pure core) decides when to PING,
// INFO, publish hellos or send SLAVEOF; the link runs each Request on its
// connection and reports what happened as an Observation. Nothing here
// decides whether an instance is down or what to do about it.
package monitor
