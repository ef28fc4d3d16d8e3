package link

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/monitor"
)

// TestConfigGetAndSet: the requests write fencing uses, against a real
// redis-server: a value, an unknown parameter, a refused value, and CONFIG
// through rename-command.
func TestConfigGetAndSet(t *testing.T) {
	srv := startRedis(t, "--rename-command", "CONFIG", "cfg-x")
	m, rec := newManager(t, zerolog.Nop(), 64)
	m.Reconcile([]monitor.LinkSpec{{Key: "m", Addr: srv.addr(), Rename: map[string]string{"config": "cfg-x"}}})
	rec.connected(t, "m")

	m.Send("m", monitor.ConfigSet{Param: "min-replicas-max-lag", Value: "4"})
	if o := rec.await(t, wait, "config set reply", nil, is("m", monitor.ObsReply)); !o.OK || o.Request != (monitor.ConfigSet{Param: "min-replicas-max-lag", Value: "4"}) {
		t.Fatalf("config set = %+v", o)
	}
	m.Send("m", monitor.ConfigGet{Param: "min-replicas-max-lag"})
	if o := rec.await(t, wait, "config get reply", nil, is("m", monitor.ObsReply)); !o.OK || o.Reply != "4" {
		t.Fatalf("config get = %+v", o)
	}
	m.Send("m", monitor.ConfigGet{Param: "no-such-parameter"})
	if o := rec.await(t, wait, "unknown parameter", nil, is("m", monitor.ObsReply)); o.OK {
		t.Fatalf("config get of an unknown parameter = %+v", o)
	}
	m.Send("m", monitor.ConfigSet{Param: "min-replicas-to-write", Value: "-1"})
	if o := rec.await(t, wait, "refused value", nil, is("m", monitor.ObsReply)); o.OK || o.Reply == "" {
		t.Fatalf("config set of a bad value = %+v", o)
	}
	if got := srv.text("cfg-x", "GET", "min-replicas-to-write"); got != "[min-replicas-to-write 0]" {
		t.Fatalf("min-replicas-to-write after a refused set: %s", got)
	}
}
