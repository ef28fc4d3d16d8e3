// Package acl is Redis 7.0's ACL model as a sentinel needs it: users with
// on/off, passwords (kept as sha256 hashes), key and channel patterns and
// per-command rules over the catalog of the commands a sentinel serves,
// with redis-sentinel 7.0.15's categories.
//
// It owns the rule language (ACL SETUSER and `user` lines), the checks the
// server makes before running a command, and the rendering of a user back
// to rules (ACL LIST, the config rewrite), which recreates the user exactly.
// Selectors and first-argument rules are refused rather than ignored.
//
// Concurrency: everything is pure. A *User is immutable once shared:
// SetRules returns a changed copy.
package acl
