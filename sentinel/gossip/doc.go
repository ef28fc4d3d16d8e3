// Package gossip connects sentinels into a memberlist group so SDOWN opinions,
// vote requests and replies spread in a few milliseconds instead of Redis'
// 1 s polling, and shares the Redis TCP port with memberlist streams (Mux).
//
// It owns: the memberlist instance and its transport (UDP packets on Port,
// TCP streams dialled with a magic first byte and accepted through a Mux),
// the filter that takes our own datagrams out of memberlist's packet stream,
// the background joiner (retries seeds with back-off and reconnects to
// failed peers for a few minutes), and the bridge from memberlist's
// log.Logger into zerolog.
//
// Trust: with a secret (Config.Keys) memberlist encrypts and authenticates
// all its traffic with a key derived from it, so a node without the secret
// can neither join nor list or announce members. Our messages travel as
// datagrams of their own, not as memberlist user messages, so the receiver
// knows where each came from: an envelope naming the sender, a sequence
// number that rises with every datagram the sender sends (from its boot
// wall-clock time, so restarts keep it rising; each node announces its
// starting number as memberlist node meta), a peer codec message or a
// leave intent, and an HMAC tag under a second derived key. A datagram
// counts only if its tag checks out, its sender is a live member other than
// us and is the sender the message names, its sequence number is new to the
// replay window and above the member's starting number, and, without a
// secret, it comes from the member's address.
// Everything else is counted by reason (Group.Dropped) and logged at a
// bounded rate.
//
// Concurrency: every Group and Mux method is safe for concurrent use.
// Config.OnMessage runs on the Group's filter goroutine, OnMembership on its
// notifier goroutine (in order); neither may block, and both may call any
// Group method except Close. The joiner goroutine owns the retry schedule;
// state that memberlist callbacks and the filter update without waiting
// (seeds, failed and leaving peers, replay windows, pending membership
// changes) sits behind one mutex. Close stops the Group's goroutines before
// returning; memberlist's own finish within its TCP timeout after Shutdown.
// Mux.Close stops the accept loop and all per-connection peek goroutines
// before returning.
package gossip
