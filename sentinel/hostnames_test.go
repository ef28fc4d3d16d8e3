package sentinel_test

import (
	"context"
	"fmt"
	"testing"
)

// TestAnnounceHostnamesAtRunTime: a master configured as "localhost" is
// reported as 127.0.0.1 until announce-hostnames is switched on, and as
// 127.0.0.1 again once it is switched off, as Redis Sentinel does.
func TestAnnounceHostnamesAtRunTime(t *testing.T) {
	c, _ := startDaemon(t, t.TempDir(), "localhost", "sentinel resolve-hostnames yes")
	ctx := context.Background()
	addr := func() string {
		v, err := c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster").StringSlice()
		if err != nil || len(v) != 2 {
			t.Fatalf("GET-MASTER-ADDR-BY-NAME: %v %v", v, err)
		}
		return v[0]
	}
	for _, step := range []struct{ set, want string }{{"", "127.0.0.1"}, {"yes", "localhost"}, {"no", "127.0.0.1"}} {
		if step.set != "" {
			if err := c.Do(ctx, "SENTINEL", "CONFIG", "SET", "announce-hostnames", step.set).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if got := addr(); got != step.want {
			t.Fatalf("announce-hostnames %q: master reported as %s, want %s", step.set, got, step.want)
		}
	}
}

// TestDebugRefusesOverflow: a DEBUG value that does not fit a duration in
// milliseconds is refused with Redis' error, and the timer keeps its value
// (it used to read back as -1).
func TestDebugRefusesOverflow(t *testing.T) {
	c, _ := startDaemon(t, t.TempDir(), "127.0.0.1")
	ctx := context.Background()
	err := c.Do(ctx, "SENTINEL", "DEBUG", "info-period", "9223372036854775807").Err()
	if err == nil || err.Error() != "ERR Invalid argument '9223372036854775807' for SENTINEL DEBUG 'info-period'" {
		t.Fatalf("DEBUG info-period 9223372036854775807: %v", err)
	}
	v, err := c.Do(ctx, "SENTINEL", "DEBUG").Slice()
	if err != nil || len(v) < 2 || v[0] != "INFO-PERIOD" || fmt.Sprint(v[1]) != "10000" {
		t.Fatalf("SENTINEL DEBUG: %v %v", v, err)
	}
}
