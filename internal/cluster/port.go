package cluster

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// lowestPort bounds FreePort's range from below, clear of well-known ports.
const lowestPort = 10000

// handedOut remembers ports already returned by FreePort so that concurrent
// callers in one process never get the same port before either binds it.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

var errPortTaken = errors.New("port already handed out")

// FreePort returns a port on 127.0.0.1 that is free for both TCP and UDP
// (our sentinel gossips over both on one port). It picks ports below the
// kernel's ephemeral range, so the outgoing connections of the processes
// under test cannot grab the port before it is bound. Another process may
// still take it; Start retries on ErrAddrInUse.
func FreePort() (int, error) {
	high := ephemeralLow()
	var last error
	for range 64 {
		port := 0 // the kernel's choice when there is no room below the ephemeral range
		if high > lowestPort {
			port = lowestPort + rand.IntN(high-lowestPort)
		}
		port, err := probePort(port)
		if err == nil {
			if claimPort(port) {
				return port, nil
			}
			err = fmt.Errorf("port %d: %w", port, errPortTaken)
		}
		last = err
	}
	return 0, fmt.Errorf("free port: %w", last)
}

// ephemeralLow is the first port the kernel hands out for outgoing
// connections, 0 when unknown.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	low, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return low
}

// probePort binds port (0: any) on TCP and the same number on UDP.
func probePort(port int) (int, error) {
	tcp, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("listen tcp: %w", err)
	}
	defer tcp.Close()
	port = tcp.Addr().(*net.TCPAddr).Port
	udp, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("listen udp %d: %w", port, err)
	}
	return port, udp.Close()
}

func claimPort(port int) bool {
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports[port] {
		return false
	}
	handedOut.ports[port] = true
	return true
}

// portFree fails with ErrAddrInUse if something listens on 127.0.0.1:port.
func portFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("port %d: %w", port, ErrAddrInUse)
		}
		return fmt.Errorf("port %d: %w", port, err)
	}
	return l.Close()
}
