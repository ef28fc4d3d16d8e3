package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/testutil"
)

// A `maxclients` line limits the daemon's clients as in Redis: the client
// over the limit is told so and closed, and INFO reports the limit.
func TestMaxClientsDirective(t *testing.T) {
	t.Parallel()
	o := cluster.Options{Replicas: 0, Sentinels: 1, Quorum: 1, DownAfter: 5 * time.Second, FailoverTimeout: 60 * time.Second}
	g := startGroupWithConf(t, 60*time.Second, o, nil, func(int) []string { return []string{"maxclients 4"} })
	addr := g.topo.Sentinels[0].Addr()
	var refused string
	var first *respConn
	for i := 0; i < 10 && refused == ""; i++ {
		c, err := dialRESP(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		if first == nil {
			first = c
		}
		r, err := c.roundTrip(encodeRESP("PING"), 1)
		switch {
		case err == nil && r[0].Type == '+':
		case err == nil && r[0].Type == '-':
			refused = r[0].Text
		default:
			t.Fatalf("client %d: %v %v", i, r, err)
		}
	}
	if refused != "ERR max number of clients reached" {
		t.Fatalf("no client refused within 10 (last error %q)", refused)
	}
	// Once a slot is free, INFO shows the limit and the refusal.
	first.close()
	testutil.Eventually(t, 10*time.Second, "INFO from a freed slot reports maxclients and the refusal", func() bool {
		c, err := dialRESP(addr)
		if err != nil {
			return false
		}
		defer c.close()
		r, err := c.roundTrip(encodeRESP("INFO", "clients", "stats"), 1)
		return err == nil && strings.Contains(r[0].Text, "\r\nmaxclients:4\r\n") &&
			!strings.Contains(r[0].Text, "\r\nrejected_connections:0\r\n")
	})
}
