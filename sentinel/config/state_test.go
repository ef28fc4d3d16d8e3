package config

import "testing"

// TestStateAndSettingsRoundTrip: what the state machine is given (State,
// Settings) and hands back (Apply) is the whole master part of the file and
// the global settings; the rest of the config is kept as loaded.
func TestStateAndSettingsRoundTrip(t *testing.T) {
	path, data := fullConfig(t)
	c := mustParse(t, path, data)
	hs, st := c.State(), c.Settings()
	if hs.MyID != c.MyID || hs.CurrentEpoch != 4 || len(hs.Masters) != 2 || len(st.Masters) != 2 {
		t.Fatalf("state %+v settings %+v", hs, st)
	}
	got := mustParse(t, path, data)
	got.Masters, got.MyID, got.CurrentEpoch = nil, "", 0
	got.AnnounceIP, got.SentinelPass = "", ""
	got.Apply(hs, st)
	sameConfig(t, c, got)

	// The state's order wins, and a master without settings gets defaults.
	hs.Masters[0], hs.Masters[1] = hs.Masters[1], hs.Masters[0]
	st.Masters = st.Masters[:1] // mymaster only
	got.Apply(hs, st)
	if got.Masters[0].Name != "cache" || got.Masters[1].Name != "mymaster" {
		t.Fatalf("order %s, %s", got.Masters[0].Name, got.Masters[1].Name)
	}
	if m := got.Master("cache"); m.DownAfter != DefaultDownAfter || m.ParallelSyncs != DefaultParallelSyncs {
		t.Fatalf("cache without settings: %s", dump(got))
	}
	if got.Master("mymaster").AuthUser != "admin" {
		t.Fatalf("mymaster lost its settings: %s", dump(got))
	}
}
