package metrics

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// shutdownTimeout bounds how long in-flight scrapes may delay Serve's return.
const shutdownTimeout = 5 * time.Second

// Serve runs the metrics and health endpoints on addr until ctx ends, then
// shuts the server down and returns nil. It returns an error at once when
// addr cannot be bound.
func Serve(ctx context.Context, addr string, m *Metrics, log zerolog.Logger) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          stdlog.New(log.With().Str("component", "metrics-http").Logger(), "", 0),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Msg("metrics endpoint listening")

	select {
	case err := <-done:
		return fmt.Errorf("metrics serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Scrapes still running after the grace period are cut off.
		_ = srv.Close()
		<-done
		return fmt.Errorf("metrics shutdown %s: %w", addr, err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics serve %s: %w", addr, err)
	}
	log.Info().Str("addr", ln.Addr().String()).Msg("metrics endpoint stopped")
	return nil
}
