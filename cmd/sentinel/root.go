package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/seed877ff415/sentinel/sentinel"
	"github.com/seed877ff415/sentinel/sentinel/config"
)

type globalFlags struct {
	logLevel  string
	logFormat string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "sentinel [CONFIG]",
		Short: "High-availability supervisor for Redis, compatible with Redis Sentinel",
		Long: "sentinel watches Redis masters and their replicas, fails over when a master dies, and answers\n" +
			"Sentinel-aware clients on the Redis protocol. `sentinel CONFIG` is the same as `sentinel run CONFIG`.",
		Args:          cobra.MaximumNArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return runDaemon(cmd, g, args[0])
		},
	}
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "console", "log format: json or console")
	// Accepted for drop-in use where units run `redis-server CONFIG --sentinel`.
	root.Flags().Bool("sentinel", false, "ignored (Redis compatibility)")
	root.AddCommand(
		&cobra.Command{
			Use:   "run CONFIG",
			Short: "Run the sentinel daemon",
			Args:  cobra.ExactArgs(1),
			RunE:  func(cmd *cobra.Command, args []string) error { return runDaemon(cmd, g, args[0]) },
		},
		&cobra.Command{
			Use:   "check-config CONFIG",
			Short: "Validate a configuration file and print every error",
			Args:  cobra.ExactArgs(1),
			RunE:  func(cmd *cobra.Command, args []string) error { return checkConfig(cmd.OutOrStdout(), args[0]) },
		},
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  cobra.NoArgs,
			Run: func(cmd *cobra.Command, _ []string) {
				fmt.Fprintf(cmd.OutOrStdout(), "sentinel %s (Redis Sentinel %s compatible)\n", buildVersion(), sentinel.Version)
			},
		},
		newDrillCmd(g),
		newStatusCmd(g),
		newFailoverCmd(g),
	)
	return root
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newLogger(g *globalFlags, w io.Writer) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(g.logLevel)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("--log-level: %w", err)
	}
	switch g.logFormat {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000", NoColor: !isTerminal(w)}
	default:
		return zerolog.Logger{}, fmt.Errorf("--log-format: %q is not json or console", g.logFormat)
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// isTerminal: colours only for a terminal; a logfile or a pipe gets plain
// text.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func runDaemon(cmd *cobra.Command, g *globalFlags, path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	out := io.Writer(cmd.ErrOrStderr())
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open logfile: %w", err)
		}
		defer f.Close()
		out = f
	}
	log, err := newLogger(g, out)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return sentinel.Run(ctx, sentinel.Options{Config: cfg, Log: log})
}

func checkConfig(w io.Writer, path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	for _, warn := range cfg.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	if len(cfg.Masters) == 0 {
		fmt.Fprintln(w, "warning: no `sentinel monitor` line: nothing to watch")
	}
	fmt.Fprintf(w, "%s: OK (%d master groups)\n", cfg.Path, len(cfg.Masters))
	return nil
}
