package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// throughputDownAfter keeps the topology from failing over while the
// benchmark saturates the CPUs.
const throughputDownAfter = 5 * time.Second

var (
	rpsPattern = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?) requests per second`)
	// errNoRPS is returned when redis-benchmark printed no final figure.
	errNoRPS = errors.New("no requests-per-second figure in redis-benchmark output")
)

// parseRPS reads the final figure of `redis-benchmark -q`, which redraws
// its progress with carriage returns before printing the result line.
func parseRPS(out string) (float64, error) {
	m := rpsPattern.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return 0, errNoRPS
	}
	v, err := strconv.ParseFloat(m[len(m)-1][1], 64)
	if err != nil {
		return 0, fmt.Errorf("parse %q: %w", m[len(m)-1][1], err)
	}
	return v, nil
}

// benchmarkArgs is the redis-benchmark command line for one round; the
// trailing words are the command to benchmark.
func benchmarkArgs(port, clients, requests int, master string) []string {
	return []string{"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-c", strconv.Itoa(clients),
		"-n", strconv.Itoa(requests), "-q", "sentinel", "get-master-addr-by-name", master}
}

// runThroughput starts a master, 2 replicas and 3 sentinels of impl and
// runs redis-benchmark rounds times against the first sentinel.
func (b *bench) runThroughput(ctx context.Context, im impl, rounds, requests int) ([]float64, error) {
	topo, err := cluster.Start(ctx, cluster.Options{
		Replicas:        2,
		Sentinels:       3,
		DownAfter:       throughputDownAfter,
		SentinelCommand: im.command,
	})
	if err != nil {
		return nil, fmt.Errorf("start topology: %w", err)
	}
	defer topo.Stop()
	dctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	if err := topo.WaitDiscovered(dctx); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	s := topo.Sentinels[0]
	// redis-benchmark does not look at replies: check the answer first.
	hp, err := s.Client().GetMasterAddrByName(ctx, topo.Opts.MasterName).Result()
	if err != nil {
		return nil, fmt.Errorf("get-master-addr-by-name: %w", err)
	}
	if len(hp) != 2 || net.JoinHostPort(hp[0], hp[1]) != topo.Master.Addr() {
		return nil, fmt.Errorf("get-master-addr-by-name answered %q, want %s", hp, topo.Master.Addr())
	}
	var rps []float64
	for i := range rounds {
		cmd := exec.CommandContext(ctx, "redis-benchmark", benchmarkArgs(s.Port, 50, requests, topo.Opts.MasterName)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return rps, fmt.Errorf("redis-benchmark: %w: %s", err, strings.TrimSpace(string(out)))
		}
		v, err := parseRPS(string(out))
		if err != nil {
			return rps, err
		}
		rps = append(rps, v)
		b.progress("throughput %-5s round %d/%d: %.0f requests/s", im.name, i+1, rounds, v)
	}
	return rps, nil
}

func throughputRow(ours, redis []float64) Row {
	return newRow(rowSpec{section: sectionThroughput, metric: "get-master-addr-by-name", unit: "requests/s",
		higherBetter: true, headline: StatMax, targets: []Target{ratioAtLeast(1.2)}}, ours, redis)
}
