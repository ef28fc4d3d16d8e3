package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9/logging"
)

// impl is one sentinel implementation under test: a name for the report
// and the command template internal/cluster starts it from.
type impl struct{ name, command string }

const (
	nameOurs  = "ours"
	nameRedis = "redis"
)

// config is what the flags say.
type config struct {
	sentinel  string
	quick     bool
	skipRedis bool
	only      string
	out       string
	verbose   bool
	// partitionRuns and loadedDrills override the plan when positive.
	partitionRuns, loadedDrills int
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.sentinel, "sentinel", "bin/sentinel", "our sentinel binary")
	fs.BoolVar(&c.quick, "quick", false, "few short runs, for a smoke test")
	fs.BoolVar(&c.skipRedis, "skip-redis", false, "measure ours only, not Debian's redis-sentinel")
	fs.StringVar(&c.only, "only", "", "run one measurement: "+strings.Join(sections, "|"))
	fs.StringVar(&c.out, "out", "bench/results.json", "where to write the JSON report")
	fs.BoolVar(&c.verbose, "v", false, "print every drill's timeline")
	fs.IntVar(&c.partitionRuns, "partition-runs", 0, "cuts per partition length and sentinel (default 5, quick 1)")
	fs.IntVar(&c.loadedDrills, "loaded-drills", 0, "loaded drills per sentinel count (default 100, quick 2)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if c.only != "" && !slices.Contains(sections, c.only) {
		return c, fmt.Errorf("-only %q: want one of %s", c.only, strings.Join(sections, ", "))
	}
	return c, nil
}

// plan is how many runs each measurement makes.
type plan struct {
	drills1000, drills5000 int
	agreement              int
	rounds, requests       int
	idleGroups             []int
	settle, window         time.Duration
	partitionRuns          int
	loadedDrills           int
}

func planFor(quick bool) plan {
	if quick {
		return plan{drills1000: 2, drills5000: 1, agreement: 2, rounds: 1, requests: 20000,
			idleGroups: []int{1, 10}, settle: 2 * time.Second, window: 5 * time.Second, partitionRuns: 1, loadedDrills: 2}
	}
	return plan{drills1000: 10, drills5000: 3, agreement: 10, rounds: 3, requests: 200000,
		idleGroups: []int{1, 100}, settle: 10 * time.Second, window: 30 * time.Second, partitionRuns: 5, loadedDrills: 100}
}

// bench runs the measurements one after another and fills rep; it is used
// from the main goroutine only.
type bench struct {
	cfg   config
	plan  plan
	impls []impl
	rep   *Report
	// out receives progress lines, drillLog the drills' own timelines.
	out, drillLog io.Writer
	start         time.Time
	// drills1000 keeps the 3-sentinel drills at down-after 1000 per impl
	// for the agreement figures.
	drills1000 map[string][]drillSample
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.out, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) note(format string, args ...any) {
	b.rep.Notes = append(b.rep.Notes, fmt.Sprintf(format, args...))
}

func (b *bench) fail(section string, err error) {
	b.rep.Errors = append(b.rep.Errors, fmt.Sprintf("%s: %v", section, err))
	b.progress("%s: ERROR %v", section, err)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := newBench(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	b.runAll(ctx)
	b.rep.Seconds = time.Since(b.start).Round(time.Second).Seconds()
	code := 0
	if err := b.rep.WriteJSON(cfg.out); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		code = 1
	}
	fmt.Fprintln(stdout)
	if err := b.rep.Render(stdout); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		code = 1
	}
	fmt.Fprintf(stdout, "\nwritten to %s\n", cfg.out)
	if len(b.rep.Errors) > 0 {
		code = 1
	}
	return code
}

// newBench resolves the two implementations and describes them.
func newBench(ctx context.Context, cfg config, progress io.Writer) (*bench, error) {
	ours, err := filepath.Abs(cfg.sentinel)
	if err != nil {
		return nil, fmt.Errorf("-sentinel: %w", err)
	}
	if st, err := os.Stat(ours); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("-sentinel %s is not an executable file (run `make build`)", ours)
	}
	b := &bench{
		cfg:        cfg,
		plan:       planFor(cfg.quick).override(cfg),
		out:        progress,
		drillLog:   io.Discard,
		start:      time.Now(),
		drills1000: map[string][]drillSample{},
		rep: &Report{Started: time.Now(), Notes: []string{}, Errors: []string{},
			Env: Env{CPUs: runtime.NumCPU(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
				Quick: cfg.quick, Only: cfg.only, SkipRedis: cfg.skipRedis}},
	}
	if cfg.verbose {
		b.drillLog = progress
	} else {
		// The drills' clients log every refused dial to the killed master.
		logging.Disable()
	}
	b.impls = append(b.impls, impl{name: nameOurs, command: ours + " run {conf}"})
	b.rep.Env.Ours = versionLine(ctx, ours, "version") + " — " + ours + " run {conf}"
	switch _, err := exec.LookPath("redis-sentinel"); {
	case cfg.skipRedis:
		b.note("redis-sentinel skipped (-skip-redis)")
	case err != nil:
		b.note("redis-sentinel is not installed: ours only")
	default:
		b.impls = append(b.impls, impl{name: nameRedis, command: "redis-sentinel {conf}"})
		b.rep.Env.Redis = versionLine(ctx, "redis-sentinel", "-v") + " — redis-sentinel {conf}"
	}
	return b, nil
}

// versionLine is the first line a binary prints for its version flag, or
// a placeholder: it only labels the report.
func versionLine(ctx context.Context, bin string, args ...string) string {
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		return "(version unknown)"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// runAll runs the selected measurements; an interrupt ends the run early
// with what was measured so far.
func (b *bench) runAll(ctx context.Context) {
	steps := map[string]func(context.Context) error{
		sectionDrills:     b.drillSection,
		sectionAgreement:  b.agreementSection,
		sectionThroughput: b.throughputSection,
		sectionIdle:       b.idleSection,
		sectionPartition:  b.partitionSection,
		sectionLoaded:     b.loadedSection,
		sectionProxy:      b.proxySection,
		sectionTLS:        b.tlsSection,
	}
	for _, sec := range sections {
		if b.cfg.only != "" && b.cfg.only != sec {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		b.progress("== %s", sec)
		if err := steps[sec](ctx); err != nil {
			b.fail(sec, err)
		}
	}
	if ctx.Err() != nil {
		b.rep.Errors = append(b.rep.Errors, "interrupted: the report holds what was measured before")
	}
}

// each runs f for every implementation, recording failures; it stops at an
// interrupt.
func (b *bench) each(ctx context.Context, section string, f func(impl) error) error {
	for _, im := range b.impls {
		if err := f(im); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.fail(section+" "+im.name, err)
		}
	}
	return nil
}

func (b *bench) drillSection(ctx context.Context) error {
	for _, d := range []struct {
		downAfter time.Duration
		runs      int
	}{{time.Second, b.plan.drills1000}, {5 * time.Second, b.plan.drills5000}} {
		sets := map[string][]drillSample{}
		err := b.each(ctx, sectionDrills, func(im impl) error {
			set, err := b.runDrills(ctx, im, d.downAfter, d.runs)
			sets[im.name] = set
			return err
		})
		b.rep.Rows = append(b.rep.Rows, drillRows(d.downAfter, sets[nameOurs], sets[nameRedis])...)
		if d.downAfter == time.Second {
			b.drills1000 = sets
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) agreementSection(ctx context.Context) error {
	for _, n := range []int{3, 5} {
		samples := map[string][]agreementSample{}
		err := b.each(ctx, sectionAgreement, func(im impl) error {
			s, err := b.runAgreement(ctx, im, n, b.plan.agreement)
			samples[im.name] = s
			return err
		})
		b.rep.Rows = append(b.rep.Rows, agreementRows(n, samples[nameOurs], samples[nameRedis])...)
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) throughputSection(ctx context.Context) error {
	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		return fmt.Errorf("redis-benchmark is not installed (package redis-tools): %w", err)
	}
	rps := map[string][]float64{}
	err := b.each(ctx, sectionThroughput, func(im impl) error {
		v, err := b.runThroughput(ctx, im, b.plan.rounds, b.plan.requests)
		rps[im.name] = v
		return err
	})
	b.rep.Rows = append(b.rep.Rows, throughputRow(rps[nameOurs], rps[nameRedis]))
	return err
}

func (b *bench) idleSection(ctx context.Context) error {
	most := slices.Max(b.plan.idleGroups)
	b.progress("idle: starting %d master groups (%d redis-servers)", most, 2*most)
	f, err := startFleet(ctx, most)
	if err != nil {
		return fmt.Errorf("start fleet: %w", err)
	}
	defer f.stop()
	for _, groups := range b.plan.idleGroups {
		figs := map[string][]idleFigures{}
		err := b.each(ctx, sectionIdle, func(im impl) error {
			fig, err := b.measureIdle(ctx, im, f, groups, b.plan.settle, b.plan.window)
			if err == nil {
				figs[im.name] = []idleFigures{fig}
			}
			return err
		})
		b.rep.Rows = append(b.rep.Rows, idleRows(groups, figs[nameOurs], figs[nameRedis])...)
		if err != nil {
			return err
		}
	}
	return nil
}
