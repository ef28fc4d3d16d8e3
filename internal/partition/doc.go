// Package partition runs fault scenarios against three sentinels on three
// hosts (network namespaces from internal/netns): the master on host 1, a
// replica on each of hosts 2 and 3, one sentinel per host. Faults are a cut
// of host 1 from the others, SIGSTOP or kill -9 of the master, and random
// packet loss on host 1's links, all applied at the bridge.
//
// While a fault runs, one writer per host appends unique values to a list
// on whichever master its local sentinel names, skipping masters it cannot
// reach, and records every acknowledgement. Afterwards the package checks
// the invariants, from the events every sentinel published and the writes:
//   - at most one +elected-leader per epoch;
//   - no promotion step published by a cut-off sentinel during the cut;
//   - within 30 s of the heal one master, every replica following it with
//     its link up, and every sentinel naming it;
//   - with write fencing on, no write acknowledged by the cut-off master
//     later than down-after + 1 s after the cut;
//   - no sentinel exited;
//
// and reports which acknowledged writes the surviving master lost. The
// checks on the recorded events are pure functions (check.go) tested
// without processes.
//
// Concurrency: a Cluster is used by one goroutine at a time; Run owns the
// writer goroutines it starts and stops them before it returns.
package partition
