// Command sentinel is a Redis Sentinel-compatible high-availability
// supervisor for Redis. `sentinel CONFIG` runs it like `redis-sentinel CONFIG`.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/seed877ff415/sentinel/sentinel"
)

func main() {
	err := newRootCmd().Execute()
	switch {
	case err == nil:
	case errors.Is(err, sentinel.ErrSimulatedCrash):
		os.Exit(99)
	default:
		fmt.Fprintln(os.Stderr, "sentinel:", err)
		os.Exit(1)
	}
}
