package view

import "testing"

func TestFlagsStringInRedisOrder(t *testing.T) {
	cases := []struct {
		f    Flags
		want string
	}{
		{FlagMaster, "master"},
		{FlagDisconnected | FlagSlave | FlagSDown, "s_down,slave,disconnected"},
		{FlagForceFailover | FlagFailoverInProgress | FlagODown | FlagSDown | FlagMaster,
			"s_down,o_down,master,failover_in_progress,force_failover"},
		{FlagScriptKillSent | FlagReconfDone | FlagReconfInprog | FlagReconfSent | FlagPromoted | FlagSlave,
			"slave,promoted,reconf_sent,reconf_inprog,reconf_done,script_kill_sent"},
		{FlagMasterDown | FlagSentinel, "sentinel,master_down"},
		{0, ""},
	}
	for _, c := range cases {
		if got := c.f.String(); got != c.want {
			t.Errorf("%#x: %q, want %q", uint16(c.f), got, c.want)
		}
	}
}

func TestFlagsHasAnyOf(t *testing.T) {
	f := FlagSentinel | FlagODown
	if !f.Has(FlagODown) || !f.Has(FlagSDown|FlagODown) || f.Has(FlagSDown) || f.Has(FlagDisconnected|FlagMaster) {
		t.Fatalf("Has on %s", f)
	}
	if KindReplica.Flag() != FlagSlave || KindMaster.Flag() != FlagMaster || KindSentinel.Flag() != FlagSentinel {
		t.Fatal("kind flags")
	}
}
