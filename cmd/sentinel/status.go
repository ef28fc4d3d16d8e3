package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/spf13/cobra"

	"github.com/seed877ff415/sentinel/internal/status"
)

// watchEvery is the refresh period of `sentinel status --watch`.
const watchEvery = time.Second

type statusFlags struct {
	sentinel string
	password string
	watch    bool
	json     bool
}

func newStatusCmd(g *globalFlags) *cobra.Command {
	f := &statusFlags{}
	cmd := &cobra.Command{
		Use:   "status [--sentinel HOST:PORT]",
		Short: "Show every master group as a sentinel sees it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := quietRedisLogs(g, cmd.ErrOrStderr()); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			c := sentinelClient(f.sentinel, f.password)
			defer c.Close()
			return f.run(ctx, c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addSentinelFlags(cmd, &f.sentinel, &f.password)
	cmd.Flags().BoolVar(&f.watch, "watch", false, "refresh every second until interrupted")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON (one document per refresh with --watch)")
	return cmd
}

func (f *statusFlags) run(ctx context.Context, q status.Querier, out, errOut io.Writer) error {
	ticker := time.NewTicker(watchEvery)
	defer ticker.Stop()
	for {
		err := f.once(ctx, q, out)
		if !f.watch {
			return err
		}
		if err != nil {
			// A watch outlives a sentinel restart.
			fmt.Fprintln(errOut, "status:", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

func (f *statusFlags) once(ctx context.Context, q status.Querier, out io.Writer) error {
	snap, err := status.Fetch(ctx, q, f.sentinel)
	if err != nil {
		return err
	}
	v := status.Build(snap)
	if f.json {
		if err := json.NewEncoder(out).Encode(v); err != nil {
			return fmt.Errorf("write status: %w", err)
		}
		return nil
	}
	if f.watch {
		// Home and clear, so each refresh replaces the last.
		fmt.Fprint(out, "\033[H\033[2J")
		fmt.Fprintf(out, "%s  (every %v, Ctrl-C to stop)\n", time.Now().Format(time.TimeOnly), watchEvery)
	}
	return status.Render(out, v)
}

func addSentinelFlags(cmd *cobra.Command, addr, password *string) {
	cmd.Flags().StringVar(addr, "sentinel", "127.0.0.1:26379", "address of a sentinel")
	cmd.Flags().StringVar(password, "sentinel-password", "", "password of the sentinel")
}

// sentinelClient talks to one sentinel without retries, so an unreachable
// sentinel is reported at once.
func sentinelClient(addr, password string) *redis.SentinelClient {
	return redis.NewSentinelClient(&redis.Options{
		Addr:         addr,
		Password:     password,
		MaxRetries:   -1,
		DialTimeout:  2 * time.Second,
		ReadTimeout:  2 * time.Second,
		WriteTimeout: 2 * time.Second,
		PoolSize:     2,
		// Redis 7.0 has no CLIENT MAINT_NOTIFICATIONS; skip the probe.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}
