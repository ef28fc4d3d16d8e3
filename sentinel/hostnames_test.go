package sentinel_test

import (
	"context"
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
