// Package tlsconf builds the *tls.Config of the sentinel's listener and of
// its links from the tls-* directives, with Redis' meaning (docs/tls.md).
// The settings and certificates in use are held behind an atomic pointer
// read at each handshake, so Reload (SIGHUP) and Swap (SENTINEL CONFIG SET)
// reach live listeners and links without dropping a connection.
package tlsconf
