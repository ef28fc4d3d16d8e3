// Command bench measures our sentinel against Debian's redis-sentinel on
// 127.0.0.1 and writes one report: kill-the-master drills, agreement
// latency (SDOWN→ODOWN→elected), query throughput with redis-benchmark and
// idle CPU/RSS while monitoring 1 and 100 master groups. The table goes to
// stdout, the same figures as JSON to -out.
//
// It owns every process it starts (through internal/cluster and
// internal/drill) and stops them before it exits, also on error or Ctrl-C:
// each measurement defers the Stop of what it started, and the children die
// with the parent if it is killed.
//
// Concurrency: measurements run one after another on the main goroutine so
// they do not disturb each other; the only other goroutines are the ones
// internal/cluster and internal/drill run and stop themselves. Statistics,
// targets, rendering and the /proc and redis-benchmark parsers are pure
// functions.
package main
