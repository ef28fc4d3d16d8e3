// Package partition runs the fault scenarios of internal/partition in
// network namespaces: cut and heal of the master's host, SIGSTOP and kill -9
// of the master, and packet loss, against our sentinel and Debian's
// redis-sentinel. It needs root; without it every test skips.
package partition
