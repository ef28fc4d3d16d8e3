// Package netns builds a small lab network for partition tests: N "hosts",
// each a Linux network namespace with one address, cabled to a bridge that
// lives in a namespace of its own, plus a veth from the caller's namespace
// to the bridge for the controller (the test process) to reach every host.
//
// Faults are nft rules in the bridge's namespace (bridge family, forward
// hook): a dropped frame is silence for the sender, as in a real partition,
// where dropping inside a host would make send() fail at once. Traffic to
// and from the controller is never dropped, so the test keeps seeing both
// sides. Loss uses `numgen random` because the kernel may lack sch_netem.
//
// Names start with "pt<pid>-" so that Sweep can remove what a killed run
// left behind without touching a live run's lab. It shells out to ip(8) and
// nft(8) and needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN).
//
// Concurrency: a Lab's methods are safe for concurrent use; a mutex
// serialises rule changes.
package netns
