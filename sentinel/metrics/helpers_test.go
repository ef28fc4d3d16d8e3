package metrics

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/notify"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// fakeSource is a Source the test sets by hand; scrapes may read it from
// HTTP goroutines, hence the atomics.
type fakeSource struct {
	snap         atomic.Pointer[view.Snapshot]
	ready        atomic.Bool
	alive, known atomic.Int64
	refusals     atomic.Pointer[Refusals]
}

func (f *fakeSource) Snapshot() *view.Snapshot { return f.snap.Load() }
func (f *fakeSource) GossipMembers() (int, int) {
	return int(f.alive.Load()), int(f.known.Load())
}
func (f *fakeSource) Ready() bool { return f.ready.Load() }
func (f *fakeSource) Refusals() Refusals {
	if r := f.refusals.Load(); r != nil {
		return *r
	}
	return Refusals{}
}

// get fetches path from h and returns the status and body.
func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return rec.Code, string(body)
}

// scrape returns every sample of /metrics keyed by its series exactly as
// the text format prints it, e.g. `sentinel_master_up{master="m"}`.
func scrape(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	code, body := get(t, m.Handler(), "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: status %d: %s", code, body)
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// expectSamples fails for every series in want that is missing or differs.
func expectSamples(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing %s", k)
			continue
		}
		if g != v {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
}

// expectAbsent fails for every series present in got.
func expectAbsent(t *testing.T, got map[string]float64, series ...string) {
	t.Helper()
	for _, k := range series {
		if v, ok := got[k]; ok {
			t.Errorf("%s = %v, want no such series", k, v)
		}
	}
}

// ev builds an event about the group's master, as the core emits it.
func ev(kind notify.Kind, master string) notify.Event {
	return notify.Event{Kind: kind, Level: notify.LevelWarning, Master: master,
		Instance: &notify.Instance{Kind: view.KindMaster, Name: master, Host: "127.0.0.1", Port: 6379}}
}

// replicaEv builds an event about a replica of the group.
func replicaEv(kind notify.Kind, master string) notify.Event {
	return notify.Event{Kind: kind, Level: notify.LevelWarning, Master: master,
		Instance: &notify.Instance{Kind: view.KindReplica, Name: "127.0.0.1:6380", Host: "127.0.0.1", Port: 6380,
			MasterName: master, MasterHost: "127.0.0.1", MasterPort: 6379}}
}

// switchEv is the group's +switch-master from 127.0.0.1:6379 to 127.0.0.1:6380.
func switchEv(master string) notify.Event {
	return notify.Event{Kind: notify.KindSwitchMaster, Level: notify.LevelWarning, Master: master,
		From: notify.Addr{Host: "127.0.0.1", Port: 6379}, To: notify.Addr{Host: "127.0.0.1", Port: 6380}}
}

// step is one event of a scripted sequence, at an offset from t0.
type step struct {
	e     notify.Event
	after time.Duration
}

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func feed(m *Metrics, steps []step) {
	for _, s := range steps {
		m.ObserveEvent(s.e, t0.Add(s.after))
	}
}
