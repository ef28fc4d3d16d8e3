package sentinel

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/gossip"
	"github.com/seed877ff415/sentinel/sentinel/tlsconf"
)

// listeners are the sockets of the Redis port(s) (docs/tls.md): the
// plaintext port, the TLS port, or both. The Mux is on the port gossip
// shares: the plaintext one if there is one, else the TLS one, whose
// memberlist streams are told from TLS by their first byte.
type listeners struct {
	mux     *gossip.Mux
	muxPort int
	redis   net.Listener
}

func listen(cfg *config.Config, bind string, set *tlsconf.Set) (*listeners, error) {
	open := func(port int) (net.Listener, error) {
		ln, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("listen on port %d: %w", port, err)
		}
		return ln, nil
	}
	l := &listeners{}
	var redis []net.Listener
	if cfg.Port != 0 {
		ln, err := open(cfg.Port)
		if err != nil {
			return nil, err
		}
		l.mux, l.muxPort = gossip.NewMux(ln), cfg.Port
		redis = append(redis, l.mux.Redis())
	}
	if cfg.TLS.Port != 0 {
		ln, err := open(cfg.TLS.Port)
		if err != nil {
			l.close()
			return nil, err
		}
		if l.mux == nil {
			l.mux, l.muxPort = gossip.NewMux(ln), cfg.TLS.Port
			ln = l.mux.Redis()
		}
		redis = append(redis, tls.NewListener(ln, set.Server()))
	}
	if len(redis) == 1 {
		l.redis = redis[0]
	} else {
		l.redis = joinListeners(redis...)
	}
	return l, nil
}

func (l *listeners) close() {
	if l.mux != nil {
		_ = l.mux.Close()
	}
	if l.redis != nil {
		_ = l.redis.Close()
	}
}

const acceptBackoff = 50 * time.Millisecond

// joined accepts from several listeners as one; Addr is the first's.
type joined struct {
	lns  []net.Listener
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func joinListeners(lns ...net.Listener) net.Listener {
	j := &joined{lns: lns, ch: make(chan net.Conn), done: make(chan struct{})}
	for _, ln := range lns {
		j.wg.Go(func() {
			for {
				c, err := ln.Accept()
				if errors.Is(err, net.ErrClosed) {
					return
				}
				if err != nil {
					// Transient (out of file descriptors): do not spin.
					select {
					case <-time.After(acceptBackoff):
						continue
					case <-j.done:
						return
					}
				}
				select {
				case j.ch <- c:
				case <-j.done:
					_ = c.Close()
					return
				}
			}
		})
	}
	return j
}

func (j *joined) Accept() (net.Conn, error) {
	select {
	case c := <-j.ch:
		return c, nil
	case <-j.done:
		return nil, net.ErrClosed
	}
}

func (j *joined) Close() error {
	var err error
	j.once.Do(func() {
		close(j.done)
		for _, ln := range j.lns {
			err = errors.Join(err, ln.Close())
		}
		j.wg.Wait()
	})
	return err
}

func (j *joined) Addr() net.Addr { return j.lns[0].Addr() }
