package link

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/monitor"
)

// TestConnectedReportsWhereTheNameLed: a link given a hostname dials the name
// and its connected observation says which IP it reached, and from where,
// for the core to record (docs/hostnames.md).
func TestConnectedReportsWhereTheNameLed(t *testing.T) {
	srv := startRedis(t)
	m, rec := newManager(t, zerolog.Nop(), 16)
	m.Reconcile([]monitor.LinkSpec{{Key: "m", Addr: net.JoinHostPort("localhost", strconv.Itoa(srv.port)), Kind: monitor.LinkMaster}})
	o := rec.await(t, 5*time.Second, "connection by name", nil, is("m", monitor.ObsConnected))
	if o.RemoteIP != "127.0.0.1" || o.LocalIP != "127.0.0.1" {
		t.Fatalf("connected to %q from %q, want 127.0.0.1 both", o.RemoteIP, o.LocalIP)
	}
}
