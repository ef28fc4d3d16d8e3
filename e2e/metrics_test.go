package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

// TestMetricsCountAFailover runs three sentinels with a metrics endpoint
// each. Before the master is killed every one reports it up and is ready;
// after the failover exactly one (the leader that published +failover-end)
// counts a successful failover with a total phase time, and every one
// counts the +switch-master.
func TestMetricsCountAFailover(t *testing.T) {
	t.Parallel()
	var metricsAddrs []string
	for range 3 {
		port, err := cluster.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		metricsAddrs = append(metricsAddrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	g := startGroupWithConf(t, 90*time.Second, cluster.Options{
		Replicas: 2, Sentinels: 3, Quorum: 2, DownAfter: downAfter, FailoverTimeout: 5 * time.Second,
	}, nil, func(i int) []string {
		return []string{"sentinel metrics-addr " + metricsAddrs[i]}
	})
	hc := &http.Client{Timeout: time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	master := fmt.Sprintf("{master=%q}", masterName)

	g.waitFor(15*time.Second, "every sentinel ready with the master up", func(ctx context.Context) error {
		for i, addr := range metricsAddrs {
			code, _, err := httpGet(ctx, hc, "http://"+addr+"/readyz")
			if err != nil {
				return fmt.Errorf("sentinel %d: %w", i, err)
			}
			if code != http.StatusOK {
				return fmt.Errorf("sentinel %d: /readyz status %d, want 200", i, code)
			}
			m, err := scrape(ctx, hc, addr)
			if err != nil {
				return fmt.Errorf("sentinel %d: %w", i, err)
			}
			if v, ok := m["sentinel_master_up"+master]; !ok || v != 1 {
				return fmt.Errorf("sentinel %d: sentinel_master_up%s = %v (present %v), want 1", i, master, v, ok)
			}
		}
		return nil
	})

	old := g.topo.Master
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	for i := range g.topo.Sentinels {
		g.waitEvent(electionWait, fmt.Sprintf("sentinel %d: +switch-master", i), on(i, "+switch-master", switchRef(old.Port)))
	}
	leader := g.waitEvent(5*time.Second, "+failover-end", on(-1, "+failover-end", masterRef(old.Port))).Sentinel

	success := fmt.Sprintf("sentinel_failovers_total{master=%q,outcome=\"success\"}", masterName)
	total := fmt.Sprintf("sentinel_last_failover_phase_seconds{master=%q,phase=\"total\"}", masterName)
	switches := "sentinel_switch_master_total" + master
	g.waitFor(10*time.Second, "failover metrics", func(ctx context.Context) error {
		var counted []int
		var lastTotal float64
		for i, addr := range metricsAddrs {
			m, err := scrape(ctx, hc, addr)
			if err != nil {
				return fmt.Errorf("sentinel %d: %w", i, err)
			}
			if v := m[switches]; v < 1 {
				return fmt.Errorf("sentinel %d: %s = %v, want >= 1", i, switches, v)
			}
			if m[success] == 1 {
				counted = append(counted, i)
				if v := m[total]; v <= 0 {
					return fmt.Errorf("sentinel %d: %s = %v, want > 0", i, total, v)
				}
				lastTotal = m[total]
			} else if v, ok := m[success]; !ok || v != 0 {
				return fmt.Errorf("sentinel %d: %s = %v (present %v), want 0 or 1", i, success, v, ok)
			}
		}
		if len(counted) != 1 || counted[0] != leader {
			return fmt.Errorf("sentinels %v count a successful failover, want only the leader %d", counted, leader)
		}
		t.Logf("leader %d counts the failover; last total phase %.3fs", leader, lastTotal)
		return nil
	})
}

// httpGet returns the status and body of a GET of url.
func httpGet(ctx context.Context, hc *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", url, err)
	}
	return resp.StatusCode, string(b), nil
}

// sampleLine is one sample of the Prometheus text format, without timestamp.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$`)

// scrape GETs /metrics from addr and returns its samples keyed by name and
// labels exactly as client_golang prints them: `name{a="x",b="y"}` with the
// labels sorted by name, or `name` alone.
func scrape(ctx context.Context, hc *http.Client, addr string) (map[string]float64, error) {
	code, body, err := httpGet(ctx, hc, "http://"+addr+"/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("/metrics status %d", code)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := sampleLine.FindStringSubmatch(line)
		if f == nil {
			return nil, fmt.Errorf("/metrics: unparsable line %q", line)
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics: line %q: %w", line, err)
		}
		samples[f[1]] = v
	}
	return samples, sc.Err()
}
