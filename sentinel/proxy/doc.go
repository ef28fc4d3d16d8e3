// Package proxy is the built-in failover-aware TCP proxy (docs/proxy.md):
// one listener per `sentinel proxy <master> <role> <addr>` line forwards
// plain TCP, one read and one write per message, to the address this
// sentinel holds for the group's master, or to its healthy replicas.
//
// Where a connection goes is decided by pure code (route.go): RouteOf turns
// a snapshot into a Route, Route.Pick chooses the backend of a new
// connection and Route.Keeps says which existing ones survive a change. The
// Manager applies those decisions at the edges.
//
// Concurrency: Manager.Update and Manager.Close are called by one owner
// (the daemon loop); Manager.Status may be called from any goroutine. Each
// listener has one accept goroutine; each client connection one goroutine
// that waits for a backend. Connected clients are then spread over the
// Manager's event loops (loop.go), one goroutine per CPU but one (at least
// one), each owning the sockets it forwards. All of them stop when the
// Manager closes.
package proxy
