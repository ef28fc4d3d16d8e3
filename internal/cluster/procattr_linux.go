package cluster

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel kill
// it if we die without running Stop (a test binary timing out, say).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
