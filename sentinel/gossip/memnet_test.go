package gossip

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// memNetwork connects memTransports through channels. Unlike memberlist's
// MockTransport it can partition pairs of nodes, and it uses no sockets, so
// memberlist can run inside a testing/synctest bubble on fake time.
type memNetwork struct {
	mu    sync.Mutex
	nodes map[string]*memTransport // by "ip:port"
	cut   map[[2]string]bool       // both orders of each partitioned pair
	tap   func(from, to string, b []byte)
}

// Tap calls f with a copy of every datagram sent from now on, as an
// eavesdropper on the network would see it.
func (n *memNetwork) Tap(f func(from, to string, b []byte)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.tap = f
}

func newMemNetwork() *memNetwork {
	return &memNetwork{nodes: make(map[string]*memTransport), cut: make(map[[2]string]bool)}
}

// Partition drops packets and refuses streams between addresses a and b.
func (n *memNetwork) Partition(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[[2]string{a, b}] = true
	n.cut[[2]string{b, a}] = true
}

// Heal removes every partition.
func (n *memNetwork) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.cut)
}

// reach returns the transport at addr if from may talk to it.
func (n *memNetwork) reach(from, addr string, packet []byte) *memTransport {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tap != nil && packet != nil {
		n.tap(from, addr, bytes.Clone(packet))
	}
	if n.cut[[2]string{from, addr}] {
		return nil
	}
	return n.nodes[addr]
}

func (n *memNetwork) newTransport(ip string, port int) *memTransport {
	t := &memTransport{
		network: n,
		addr:    &net.UDPAddr{IP: net.ParseIP(ip).To4(), Port: port},
		packets: make(chan *memberlist.Packet, 256),
		streams: make(chan net.Conn),
		done:    make(chan struct{}),
	}
	n.mu.Lock()
	n.nodes[t.addr.String()] = t
	n.mu.Unlock()
	return t
}

type memTransport struct {
	network *memNetwork
	addr    *net.UDPAddr
	packets chan *memberlist.Packet
	streams chan net.Conn
	done    chan struct{}
	once    sync.Once
}

var _ memberlist.Transport = (*memTransport)(nil)

var errUnreachable = errors.New("memnet: unreachable")

func (t *memTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.addr.IP, t.addr.Port, nil
}

func (t *memTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	now := time.Now()
	peer := t.network.reach(t.addr.String(), addr, b)
	if peer == nil {
		return now, nil // lost like a UDP datagram
	}
	p := &memberlist.Packet{Buf: append([]byte(nil), b...), From: t.addr, Timestamp: now}
	select {
	case peer.packets <- p:
	case <-peer.done:
	default: // receiver's buffer full: dropped
	}
	return now, nil
}

func (t *memTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

func (t *memTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	peer := t.network.reach(t.addr.String(), addr, nil)
	if peer == nil {
		return nil, errUnreachable
	}
	local, remote := net.Pipe()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case peer.streams <- &memConn{Conn: remote, local: tcpAddr(peer.addr), remote: tcpAddr(t.addr)}:
		return &memConn{Conn: local, local: tcpAddr(t.addr), remote: tcpAddr(peer.addr)}, nil
	case <-peer.done:
	case <-t.done:
	case <-timer.C:
	}
	_ = local.Close()
	_ = remote.Close()
	return nil, errUnreachable
}

func (t *memTransport) StreamCh() <-chan net.Conn { return t.streams }

func (t *memTransport) Shutdown() error {
	t.once.Do(func() {
		close(t.done)
		t.network.mu.Lock()
		delete(t.network.nodes, t.addr.String())
		t.network.mu.Unlock()
	})
	return nil
}

func tcpAddr(a *net.UDPAddr) net.Addr { return &net.TCPAddr{IP: a.IP, Port: a.Port} }

// memConn gives a pipe end the addresses of the nodes it connects.
type memConn struct {
	net.Conn
	local, remote net.Addr
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }

func memAddr(i int) (ip string, port int, hostport string) {
	ip = "10.0.0." + strconv.Itoa(i+1)
	port = 7946
	return ip, port, net.JoinHostPort(ip, strconv.Itoa(port))
}
