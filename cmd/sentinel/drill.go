package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/seed877ff415/sentinel/internal/drill"
)

type drillFlags struct {
	local             bool
	runs              int
	replicas          int
	sentinels         int
	downAfterMS       int
	failoverTimeoutMS int
	sentinelCmds      []string
	viaProxy          bool
	tls               bool
	json              bool

	sentinel         string
	master           string
	mode             string
	yes              bool
	pauseMarginMS    int
	password         string
	sentinelPassword string
}

func newDrillCmd(g *globalFlags) *cobra.Command {
	cmd, _ := drillCommand(g)
	return cmd
}

// drillCommand also returns the flag values the command parses into.
func drillCommand(g *globalFlags) (*cobra.Command, *drillFlags) {
	f := &drillFlags{}
	def := drill.DefaultLocalOptions()
	live := drill.DefaultLiveOptions()
	cmd := &cobra.Command{
		Use:   "drill (--local | --sentinel HOST:PORT --master NAME)",
		Short: "Rehearse a failover and time every step",
		Long: "--local starts a master, replicas and sentinels of ours on loopback, kills the master and prints\n" +
			"the failover timeline as it happens; with --via-proxy the client is a plain one writing through a\n" +
			"sentinel's built-in proxy; with --tls everything is TLS only (port 0), certificates made in the\n" +
			"sandbox, and no port may answer plaintext. --sentinel/--master drills a running deployment without\n" +
			"killing anything: --mode pause (CLIENT PAUSE on the master) or --mode switchover (SENTINEL FAILOVER).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			if err := quietRedisLogs(g, cmd.ErrOrStderr()); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			progress := cmd.OutOrStdout()
			if f.json {
				progress = cmd.ErrOrStderr()
			}
			if f.local {
				return f.runLocal(ctx, cmd.OutOrStdout(), progress)
			}
			return f.runLive(ctx, cmd.InOrStdin(), cmd.OutOrStdout(), progress)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.local, "local", false, "drill a sandbox topology started on loopback")
	fl.IntVar(&f.runs, "runs", 1, "sandbox: number of drills; ends with a min/median/max table")
	fl.IntVar(&f.replicas, "replicas", def.Replicas, "sandbox: number of replicas")
	fl.IntVar(&f.sentinels, "sentinels", def.Sentinels, "sandbox: number of sentinels (quorum = sentinels/2+1)")
	fl.IntVar(&f.downAfterMS, "down-after", int(def.DownAfter.Milliseconds()), "sandbox: down-after-milliseconds")
	fl.IntVar(&f.failoverTimeoutMS, "failover-timeout", int(def.FailoverTimeout.Milliseconds()), "sandbox: failover-timeout in ms")
	fl.StringArrayVar(&f.sentinelCmds, "sentinel-cmd", nil,
		`sandbox: also drill this sentinel command, "{conf}" being its config file (e.g. "redis-sentinel {conf}"); repeatable`)
	fl.BoolVar(&f.viaProxy, "via-proxy", false, "sandbox: write with a plain client through a sentinel's built-in proxy, not a FailoverClient")
	fl.BoolVar(&f.tls, "tls", false, "sandbox: TLS only (port 0, tls-port, tls-replication) with a CA and certificates made for the run")
	fl.BoolVar(&f.json, "json", false, "print one JSON document (runs and summary); progress goes to stderr")
	fl.StringVar(&f.sentinel, "sentinel", "", "live: address of one sentinel of the deployment")
	fl.StringVar(&f.master, "master", "", "live: master group name")
	fl.StringVar(&f.mode, "mode", string(live.Mode), "live: pause or switchover")
	fl.BoolVar(&f.yes, "yes", false, "live: do not ask for confirmation")
	fl.IntVar(&f.pauseMarginMS, "pause-margin", int(live.PauseMargin.Milliseconds()), "live: ms added to down-after for CLIENT PAUSE")
	fl.StringVar(&f.password, "password", "", "live: password of the data nodes")
	fl.StringVar(&f.sentinelPassword, "sentinel-password", "", "live: password of the sentinels")
	return cmd, f
}

var errDrillFlags = errors.New("drill flags")

func (f *drillFlags) validate(cmd *cobra.Command) error {
	liveSet := f.sentinel != "" || f.master != ""
	switch {
	case f.local && liveSet:
		return fmt.Errorf("%w: --local and --sentinel/--master exclude each other", errDrillFlags)
	case !f.local && (f.sentinel == "" || f.master == ""):
		return fmt.Errorf("%w: give --local, or --sentinel and --master", errDrillFlags)
	case f.runs < 1:
		return fmt.Errorf("%w: --runs %d", errDrillFlags, f.runs)
	}
	for _, name := range []string{"runs", "replicas", "sentinels", "down-after", "failover-timeout", "sentinel-cmd", "via-proxy", "tls"} {
		if !f.local && cmd.Flags().Changed(name) {
			return fmt.Errorf("%w: --%s is for --local", errDrillFlags, name)
		}
	}
	for _, name := range []string{"mode", "yes", "pause-margin", "password", "sentinel-password"} {
		if f.local && cmd.Flags().Changed(name) {
			return fmt.Errorf("%w: --%s is for --sentinel drills", errDrillFlags, name)
		}
	}
	return nil
}

func (f *drillFlags) localOptions(sentinelCmd string) drill.LocalOptions {
	o := drill.DefaultLocalOptions()
	o.SentinelCommand = sentinelCmd
	o.Replicas, o.Sentinels = f.replicas, f.sentinels
	o.DownAfter = time.Duration(f.downAfterMS) * time.Millisecond
	o.FailoverTimeout = time.Duration(f.failoverTimeoutMS) * time.Millisecond
	o.ViaProxy = f.viaProxy
	o.TLS = f.tls
	return o
}

func (f *drillFlags) liveOptions() drill.LiveOptions {
	o := drill.DefaultLiveOptions()
	o.Sentinel, o.MasterName, o.Mode = f.sentinel, f.master, drill.Mode(f.mode)
	o.PauseMargin = time.Duration(f.pauseMarginMS) * time.Millisecond
	o.Password, o.SentinelPassword = f.password, f.sentinelPassword
	return o
}

func (f *drillFlags) runLocal(ctx context.Context, out, progress io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find our executable: %w", err)
	}
	// Alternate the sentinels run by run so drift on the host hits both.
	commands := append([]string{exe + " run {conf}"}, f.sentinelCmds...)
	for _, c := range commands {
		if err := f.localOptions(c).Validate(); err != nil {
			return err
		}
	}
	var results []drill.Result
	var runErr error
	for i := 1; i <= f.runs && runErr == nil; i++ {
		for _, c := range commands {
			fmt.Fprintf(progress, "\n== run %d/%d: %s\n", i, f.runs, c)
			res, err := drill.RunLocal(ctx, f.localOptions(c), progress)
			if res != nil {
				results = append(results, *res)
			}
			if err != nil {
				runErr = fmt.Errorf("run %d with %q: %w", i, c, err)
				break
			}
		}
	}
	return errors.Join(f.report(out, results), runErr)
}

func (f *drillFlags) runLive(ctx context.Context, in io.Reader, out, progress io.Writer) error {
	o := f.liveOptions()
	if !f.yes {
		o.Confirm = confirmer(in, progress)
	}
	res, err := drill.RunLive(ctx, o, progress)
	var results []drill.Result
	if res != nil {
		results = append(results, *res)
	}
	return errors.Join(f.report(out, results), err)
}

// report prints the JSON document or the summary table of what ran.
func (f *drillFlags) report(out io.Writer, results []drill.Result) error {
	rep := drill.NewReport(results)
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	if len(results) == 0 {
		return nil
	}
	fmt.Fprintln(out)
	return drill.WriteSummary(out, rep.Summary)
}

// confirmer asks on in before a live drill acts; only y or yes proceeds.
func confirmer(in io.Reader, prompt io.Writer) func(string) (bool, error) {
	return func(plan string) (bool, error) {
		fmt.Fprintf(prompt, "About to run %s\nProceed? [y/N] ", plan)
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("read answer: %w", err)
		}
		answer := strings.ToLower(strings.TrimSpace(line))
		return answer == "y" || answer == "yes", nil
	}
}

// redisLogger sends go-redis' own log lines (redials, pool errors) to
// zerolog at debug level instead of stderr, where they would break the
// timeline.
type redisLogger struct{ log zerolog.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug().Str("component", "go-redis").Msgf(format, v...)
}

func quietRedisLogs(g *globalFlags, w io.Writer) error {
	log, err := newLogger(g, w)
	if err != nil {
		return err
	}
	redis.SetLogger(redisLogger{log: log})
	return nil
}
