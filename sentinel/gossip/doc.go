// Package gossip connects sentinels into a memberlist group so SDOWN opinions,
// vote requests and replies spread in a few milliseconds instead of Redis'
// 1 s polling, and shares the Redis TCP port with memberlist streams (Mux).
//
// It owns: the memberlist instance and its transport (UDP packets on Port,
// TCP streams dialled with a magic first byte and accepted through a Mux),
// the broadcast queue (a newer message for the same type, sender and master
// replaces the queued older one), the background joiner (retries seeds with
// back-off and reconnects to failed peers), and the bridge from memberlist's
// log.Logger into zerolog. Messages travel in an envelope naming the sender
// (memberlist does not): a peer codec message, or a leave intent that Close
// gossips first, since memberlist cannot tell peers a leave from a failure.
//
// Concurrency: every Group and Mux method is safe for concurrent use.
// Config.OnMessage runs on memberlist's packet goroutines, OnMembership on the
// Group's notifier goroutine (in order); neither may block, and both may call
// any Group method except Close. The joiner goroutine owns the retry
// schedule; state that memberlist callbacks update without waiting (seeds,
// failed and leaving peers, pending membership changes) sits behind one
// mutex. Close stops the Group's goroutines before returning; memberlist's own
// finish within its TCP timeout after Shutdown. Mux.Close stops the accept
// loop and all per-connection peek goroutines before returning.
package gossip
