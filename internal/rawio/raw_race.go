//go:build race

package rawio

import "syscall"

// Under the race detector Read and Write go through package syscall: its
// read and write tell the detector that what one goroutine wrote to a
// socket happens before another reads it, and without that every test that
// changes state and then sends a request over loopback reports a race.

// Read is read(2) on fd.
func Read(fd int, b []byte) (int, error) {
	n, err := syscall.Read(fd, b)
	return max(n, 0), err
}

// Write is write(2) on fd.
func Write(fd int, b []byte) (int, error) {
	n, err := syscall.Write(fd, b)
	return max(n, 0), err
}
