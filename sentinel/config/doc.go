// Package config loads, validates and rewrites sentinel.conf the way Redis
// Sentinel 7.0 does (docs/behaviour.md §6), plus our `sentinel gossip-*`, `metrics-addr`
// and `notification-webhook` extensions.
//
// Paths behave as in Redis, which chdir()s into `dir` while it reads the
// file: a relative dir is relative to the working directory at start, and
// logfile, pidfile and scripts to dir; the rewrite writes dir absolute.
// `user` lines are parsed with package acl and rewritten from the live
// users. TLS directives are checked at load (docs/tls.md); those crypto/tls
// cannot honour are refused.
//
// It owns the file format only: splitting lines like Redis' sdssplitargs,
// the three-pass application of `sentinel` lines, the in-place rewrite of
// CONFIG REWRITE, and the atomic save with its fallback state file for
// read-only config files. It holds no runtime state.
//
// Concurrency: Parse, Render and GenerateID are pure and safe to call from
// any goroutine; Parse's only contact with the outside world is the check
// that dir exists and scripts are executable, which Redis also does at
// load. Load and Save touch the file system and must not run concurrently
// for the same file. A *Config is plain data: the goroutine that owns the sentinel state
// mutates it and calls Save; nothing here retains it.
package config
