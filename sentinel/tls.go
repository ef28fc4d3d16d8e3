package sentinel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/seed877ff415/sentinel/monitor/link"
	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/config"
	"github.com/seed877ff415/sentinel/sentinel/tlsconf"
)

// certWarnBefore is how long before a certificate expires the daemon warns
// (-tls-cert-expiring), and certCheckEvery how often it looks.
const (
	certWarnBefore = 14 * 24 * time.Hour
	certCheckEvery = time.Hour
	certWarnEvery  = 24 * time.Hour
)

// helloPort is the port hellos announce: the one a peer on our transport
// must dial. As Redis does, the TLS port with tls-replication; with port 0
// it is the only one there is.
func helloPort(cfg *config.Config) int {
	if cfg.TLS.Port != 0 && (cfg.TLS.Replication || cfg.Port == 0) {
		return cfg.TLS.Port
	}
	return cfg.Port
}

// linkTLS says which links dial TLS: links to instances with
// tls-replication (Redis' rule), links to sentinels whenever we announce
// our TLS port, since peers configured alike announce theirs.
func linkTLS(cfg *config.Config, set *tlsconf.Set) link.TLS {
	var t link.TLS
	if cfg.TLS.Replication {
		t.Instances = set.Client
	}
	if cfg.TLS.Port != 0 && helloPort(cfg) == cfg.TLS.Port {
		t.Sentinels = set.Client
	}
	return t
}

// watchTLS starts re-reading the certificates on SIGHUP and warning of
// those about to expire, in g until ctx ends. Listeners and links read the
// certificates through set, so a reload drops no connection.
func (d *Daemon) watchTLS(ctx context.Context, g *errgroup.Group, set *tlsconf.Set) {
	expiry := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sentinel_tls_cert_expiry_seconds",
		Help: "Seconds until a configured TLS certificate expires.",
	}, []string{"file"})
	d.metrics.Register(expiry)
	// Before returning: a SIGHUP not yet caught would end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	g.Go(func() error {
		defer signal.Stop(hup)
		d.checkTLS(ctx, set, expiry, hup)
		return nil
	})
}

func (d *Daemon) checkTLS(ctx context.Context, set *tlsconf.Set, expiry *prometheus.GaugeVec, hup <-chan os.Signal) {
	t := time.NewTicker(certCheckEvery)
	defer t.Stop()
	warned := map[string]time.Time{}
	for {
		now := time.Now()
		expiry.Reset() // SENTINEL CONFIG SET may have replaced a file
		for _, e := range set.Expiries() {
			left := e.NotAfter.Sub(now)
			expiry.WithLabelValues(e.File).Set(left.Seconds())
			if left < certWarnBefore && now.Sub(warned[e.File]) >= certWarnEvery {
				warned[e.File] = now
				d.emit(notify.Event{Kind: notify.KindTLSCertExpiring, Level: notify.LevelWarning,
					Text: fmt.Sprintf("%s %d", e.File, int(left.Hours()/24))})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-set.Swapped():
			clear(warned)
		case <-hup:
			if err := set.Reload(); err != nil {
				d.log.Error().Err(err).Msg("TLS certificates not reloaded; the old ones stay in use")
				continue
			}
			clear(warned)
			d.log.Info().Msg("TLS certificates reloaded")
		}
	}
}

// errTLSOff answers a SENTINEL CONFIG SET of tls-* when TLS is off: turning
// it on means opening a listener or changing every link.
var errTLSOff = errors.New("ERR TLS is not enabled: set tls-port or tls-replication in the config file and restart")

// prepareTLS splits the tls-* pairs of a SENTINEL CONFIG SET (checked in
// form by the server) from the rest and loads the TLS configuration they
// make, checked whole and read from disk outside the loop. Nothing is
// applied: next is nil when no pair is a tls-* one.
func (d *Daemon) prepareTLS(pairs []string) (rest []string, base tlsconf.Settings, next *tlsconf.Set, err error) {
	var tlsPairs []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if name := strings.ToLower(pairs[i]); slices.Contains(tlsconf.Directives, name) {
			tlsPairs = append(tlsPairs, name, pairs[i+1])
		} else {
			rest = append(rest, pairs[i], pairs[i+1])
		}
	}
	if len(tlsPairs) == 0 {
		return rest, base, nil, nil
	}
	if d.tls == nil {
		return nil, base, nil, errTLSOff
	}
	base = d.tls.Settings()
	s := base
	for i := 0; i < len(tlsPairs); i += 2 {
		name, v := tlsPairs[i], tlsPairs[i+1]
		if v, err = tlsconf.Value(name, v); err != nil {
			return nil, base, nil, tlsConfigErr(err)
		}
		// Relative to dir, where the daemon runs, as the parser resolves them.
		if tlsconf.IsPath(name) && v != "" && !filepath.IsAbs(v) {
			v = filepath.Join(d.cfg.Dir, v)
		}
		*s.Field(name) = v
	}
	if err := s.Check(d.cfg.Port); err != nil {
		return nil, base, nil, tlsConfigErr(err)
	}
	if next, err = tlsconf.Load(s); err != nil {
		return nil, base, nil, tlsConfigErr(err)
	}
	return rest, base, next, nil
}

// tlsConfigErr is the reply to a TLS configuration that does not load; it
// names the directive and file at fault, on one line.
func tlsConfigErr(err error) error {
	return errors.New("ERR Invalid TLS configuration, nothing changed: " +
		strings.NewReplacer("\r", " ", "\n", " ").Replace(err.Error()))
}

// errTLSChanged: another change came between prepareTLS and the loop.
var errTLSChanged = errors.New("ERR the TLS configuration changed meanwhile, nothing changed: try again")

// swapTLS puts next in use, in the loop: new handshakes and dials use it,
// open connections keep theirs. The settings are saved with the config.
func (d *Daemon) swapTLS(next *tlsconf.Set) {
	d.tls.Swap(next)
	d.cfg.TLS = next.Settings()
	d.log.Info().Msg("TLS configuration changed by SENTINEL CONFIG SET")
}
