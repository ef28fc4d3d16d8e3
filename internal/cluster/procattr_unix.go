//go:build unix && !linux

package cluster

import "syscall"

// sysProcAttr puts the child in its own process group; without Pdeathsig the
// caller's deferred Stop is the only cleanup.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
