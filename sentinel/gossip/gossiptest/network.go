// Package gossiptest is an in-memory network for gossip groups
// (gossip.NewOn): unlike memberlist's MockTransport it can partition pairs
// of nodes, and it uses no sockets, so whole groups, and daemons built on
// them, run inside a testing/synctest bubble on fake time.
package gossiptest

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Network connects Transports through channels.
type Network struct {
	mu    sync.Mutex
	nodes map[string]*Transport // by "ip:port"
	cut   map[[2]string]bool    // both orders of each partitioned pair
	tap   func(from, to string, b []byte)
}

// NewNetwork returns an empty network.
func NewNetwork() *Network {
	return &Network{nodes: make(map[string]*Transport), cut: make(map[[2]string]bool)}
}

// Tap calls f with a copy of every datagram sent from now on, as an
// eavesdropper on the network would see it.
func (n *Network) Tap(f func(from, to string, b []byte)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.tap = f
}

// Partition drops packets and refuses streams between addresses a and b.
func (n *Network) Partition(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[[2]string{a, b}] = true
	n.cut[[2]string{b, a}] = true
}

// Heal removes every partition.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.cut)
}

// reach returns the transport at addr if from may talk to it.
func (n *Network) reach(from, addr string, packet []byte) *Transport {
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

// Transport attaches a node at ip:port (an IPv4 address).
func (n *Network) Transport(ip string, port int) *Transport {
	t := &Transport{
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

// Transport is one node's memberlist.Transport on a Network.
type Transport struct {
	network *Network
	addr    *net.UDPAddr
	packets chan *memberlist.Packet
	streams chan net.Conn
	done    chan struct{}
	once    sync.Once
}

var _ memberlist.Transport = (*Transport)(nil)

var errUnreachable = errors.New("gossiptest: unreachable")

// Network is the network t is attached to.
func (t *Transport) Network() *Network { return t.network }

func (t *Transport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.addr.IP, t.addr.Port, nil
}

func (t *Transport) WriteTo(b []byte, addr string) (time.Time, error) {
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

func (t *Transport) PacketCh() <-chan *memberlist.Packet { return t.packets }

func (t *Transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	peer := t.network.reach(t.addr.String(), addr, nil)
	if peer == nil {
		return nil, errUnreachable
	}
	local, remote := net.Pipe()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case peer.streams <- &conn{Conn: remote, local: tcpAddr(peer.addr), remote: tcpAddr(t.addr)}:
		return &conn{Conn: local, local: tcpAddr(t.addr), remote: tcpAddr(peer.addr)}, nil
	case <-peer.done:
	case <-t.done:
	case <-timer.C:
	}
	_ = local.Close()
	_ = remote.Close()
	return nil, errUnreachable
}

func (t *Transport) StreamCh() <-chan net.Conn { return t.streams }

func (t *Transport) Shutdown() error {
	t.once.Do(func() {
		close(t.done)
		t.network.mu.Lock()
		delete(t.network.nodes, t.addr.String())
		t.network.mu.Unlock()
	})
	return nil
}

func tcpAddr(a *net.UDPAddr) net.Addr { return &net.TCPAddr{IP: a.IP, Port: a.Port} }

// conn gives a pipe end the addresses of the nodes it connects.
type conn struct {
	net.Conn
	local, remote net.Addr
}

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// Addr is the i-th node's address: 10.0.0.<i+1>:7946.
func Addr(i int) (ip string, port int, hostport string) {
	ip = "10.0.0." + strconv.Itoa(i+1)
	port = 7946
	return ip, port, net.JoinHostPort(ip, strconv.Itoa(port))
}
