package script

import (
	"os"
	"strconv"
	"syscall"
)

// markCloseOnExec sets close-on-exec on every descriptor above stderr. Go
// opens its own files that way, but one opened by cgo or a raw syscall would
// otherwise leak into the script (docs/behaviour.md §6: a leaked fd is a bug).
func markCloseOnExec() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return // no /proc: rely on Go's own O_CLOEXEC
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
