package gossip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-sockaddr"
	"github.com/hashicorp/memberlist"
	"github.com/rs/zerolog"
)

// maxPacket is the largest UDP datagram; memberlist's own packets are ~1400.
const maxPacket = 65536

// netTransport is memberlist's transport over a UDP socket for packets and
// TCP streams that start with streamMagic, accepted through a Mux.
type netTransport struct {
	bindIP net.IP
	port   int
	log    zerolog.Logger

	udp      *net.UDPConn
	mux      *Mux
	ownMux   bool // created here (no Mux given), so closed here
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn

	ctx    context.Context // cancelled by Shutdown; also aborts dials
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

var _ memberlist.Transport = (*netTransport)(nil)

// newNetTransport binds UDP on cfg.Port (resolved to the Mux's port when 0)
// and, without a Mux, a TCP listener of its own on the same port.
func newNetTransport(cfg Config, mux *Mux) (*netTransport, error) {
	ip := net.ParseIP(cfg.BindAddr)
	if ip == nil {
		return nil, fmt.Errorf("bind address %q: not an IP", cfg.BindAddr)
	}
	t := &netTransport{
		bindIP:   ip,
		log:      cfg.Log,
		packetCh: make(chan *memberlist.Packet),
		streamCh: make(chan net.Conn),
	}
	port := cfg.Port
	if mux != nil {
		if tcp, ok := mux.Addr().(*net.TCPAddr); ok {
			if port == 0 {
				port = tcp.Port
			} else if port != tcp.Port {
				return nil, fmt.Errorf("port %d differs from the mux's tcp port %d", port, tcp.Port)
			}
		}
		udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		if err != nil {
			return nil, fmt.Errorf("listen udp: %w", err)
		}
		t.udp, t.mux = udp, mux
	} else if err := t.listenBoth(port); err != nil {
		return nil, err
	}
	t.port = t.udp.LocalAddr().(*net.UDPAddr).Port
	t.ctx, t.cancel = context.WithCancel(context.Background())
	if err := t.mux.attach(t.streamCh, t.ctx.Done()); err != nil {
		t.cancel()
		_ = t.udp.Close()
		if t.ownMux {
			_ = t.mux.Close()
		}
		return nil, err
	}
	t.wg.Add(1)
	go t.readPackets()
	return t, nil
}

// listenBoth binds TCP and UDP on one port. Port 0 picks a free TCP port and
// retries when its UDP twin is taken.
func (t *netTransport) listenBoth(port int) error {
	const attempts = 10
	var lastErr error
	for range attempts {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: t.bindIP, Port: port})
		if err != nil {
			return fmt.Errorf("listen tcp: %w", err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: t.bindIP, Port: p})
		if err != nil {
			_ = ln.Close()
			lastErr = fmt.Errorf("listen udp: %w", err)
			if port != 0 {
				break
			}
			continue
		}
		t.udp = udp
		t.mux = NewMux(ln)
		t.ownMux = true
		// Nobody serves Redis on a listener of our own: drop such clients.
		_ = t.mux.Redis().Close()
		return nil
	}
	return lastErr
}

func (t *netTransport) readPackets() {
	defer t.wg.Done()
	buf := make([]byte, maxPacket)
	for {
		n, from, err := t.udp.ReadFrom(buf)
		ts := time.Now()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			t.log.Warn().Err(err).Msg("gossip udp read")
			continue
		}
		if n == 0 {
			continue
		}
		p := &memberlist.Packet{Buf: append([]byte(nil), buf[:n]...), From: from, Timestamp: ts}
		select {
		case t.packetCh <- p:
		case <-t.ctx.Done():
			return
		}
	}
}

// FinalAdvertiseAddr: an explicit address wins, else the bind address, else
// (bound to any) the first private IP as memberlist's own transport does.
func (t *netTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	var adv net.IP
	switch {
	case ip != "":
		if adv = net.ParseIP(ip); adv == nil {
			return nil, 0, fmt.Errorf("advertise address %q: not an IP", ip)
		}
	case !t.bindIP.IsUnspecified():
		adv = t.bindIP
	default:
		private, err := sockaddr.GetPrivateIP()
		if err != nil {
			return nil, 0, fmt.Errorf("find private ip to advertise: %w", err)
		}
		if adv = net.ParseIP(private); adv == nil {
			return nil, 0, errors.New("no private ip to advertise; set AdvertiseAddr")
		}
	}
	if v4 := adv.To4(); v4 != nil {
		adv = v4
	}
	if port == 0 {
		port = t.port
	}
	return adv, port, nil
}

func (t *netTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return time.Time{}, fmt.Errorf("packet to %s: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return time.Time{}, fmt.Errorf("packet to %s: bad port: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		// memberlist resolves names before sending; anything else is a bug.
		return time.Time{}, fmt.Errorf("packet to %s: not an IP", addr)
	}
	if _, err := t.udp.WriteTo(b, &net.UDPAddr{IP: ip, Port: port}); err != nil {
		return time.Time{}, fmt.Errorf("packet to %s: %w", addr, err)
	}
	return time.Now(), nil
}

func (t *netTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *netTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(t.ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	_ = c.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte{streamMagic}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("write stream magic to %s: %w", addr, err)
	}
	_ = c.SetWriteDeadline(time.Time{})
	return c, nil
}

func (t *netTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown is idempotent: memberlist calls it, and so does New on failure.
func (t *netTransport) Shutdown() error {
	var err error
	t.once.Do(func() {
		t.cancel()
		if cerr := t.udp.Close(); cerr != nil {
			err = fmt.Errorf("close udp: %w", cerr)
		}
		if t.ownMux {
			err = errors.Join(err, t.mux.Close())
		}
		t.wg.Wait()
	})
	return err
}
