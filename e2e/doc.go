// Package e2e holds the end-to-end tests of the sentinel daemon run as a
// process. TestMain builds cmd/sentinel once; each test starts real
// redis-server masters and replicas and several sentinel processes on
// loopback ports (through internal/cluster) and checks what clients,
// operators and the other sentinels observe: replies, published events,
// rewritten config files and the roles of the Redis instances.
//
// The package owns nothing but those test processes and their temporary
// directories. Concurrency: every test owns its topology and stops it in
// its cleanup; tests that run in parallel share only the built binary,
// which is read-only once TestMain has built it.
package e2e
