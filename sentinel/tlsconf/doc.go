// Package tlsconf builds the *tls.Config of the sentinel's listener and of
// its links from the tls-* directives, with Redis' meaning (docs/tls.md).
// Certificates are held behind atomic pointers so Reload (SIGHUP) swaps
// them under live listeners and links without dropping a connection.
package tlsconf
