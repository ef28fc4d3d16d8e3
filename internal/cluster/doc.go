// Package cluster starts and stops local Redis topologies — real redis-server
// processes (a master and its replicas) and sentinel processes (ours or
// Debian's redis-sentinel) on 127.0.0.1, or on a Host in a network
// namespace — for integration tests, benchmarks and `sentinel drill --local`.
// With Options.TLS the topology is TLS-only, from a CA and certificate it
// makes (CA, Issue) in its directory.
//
// It owns those child processes, their generated config files and logs, and
// the go-redis clients pointed at them. It does not import testing: every
// failure is returned as an error so non-test code can use it.
//
// Processes: each child runs in its own process group (so Kill and Stop also
// reach anything it forked) and, on Linux, dies with the parent. One goroutine
// per process waits for it and reaps it; nothing else calls Wait. Callers
// must defer Stop (or Topology.Stop), which is idempotent and safe on a
// partially started topology.
//
// Concurrency: the methods of Redis and Sentinel are safe for concurrent use;
// a mutex per instance serialises start, signal and client creation. A
// Topology's fields are written by Start only and read-only afterwards.
// Events is filled by one reader goroutine per sentinel into an append-only
// log; its goroutines stop on Close or when the Subscribe context ends.
package cluster
