package link

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/monitor"
)

// Credentials change on a running instance while a link uses it. As in
// Redis Sentinel, a refused AUTH leaves the link up when the instance still
// serves it (as the default user); only NOAUTH takes it down, and new
// credentials bring it back at once.

// authSpec is the link under test, named so CLIENT LIST can find it.
func authSpec(addr, user, pass string) monitor.LinkSpec {
	return monitor.LinkSpec{Key: "m", Addr: addr, Username: user, Password: pass, ClientName: "sentinel-auth", Subscribe: true}
}

// pingOK waits until the link takes a PING and the instance answers PONG.
func pingOK(t *testing.T, m *Manager, rec *recorder) {
	t.Helper()
	rec.await(t, wait, "PONG", func() { m.Send("m", monitor.Ping{}) }, func(o monitor.Observation) bool {
		if o.Kind == monitor.ObsDisconnected && errors.Is(o.Err, monitor.ErrAuth) {
			t.Fatalf("link refused: %v", o.Err)
		}
		return o.Kind == monitor.ObsPingReply && o.OK
	})
}

// refused waits for the link to go down for its credentials; an idle
// command connection learns of its loss from its next PING.
func refused(t *testing.T, m *Manager, rec *recorder) error {
	t.Helper()
	return rec.await(t, wait, "credentials refused", func() { m.Send("m", monitor.Ping{}) }, func(o monitor.Observation) bool {
		return o.Kind == monitor.ObsDisconnected && errors.Is(o.Err, monitor.ErrAuth)
	}).Err
}

// reconnectedAs waits until both of the link's connections are back, as
// user: the instance dropped them, so they went through AUTH again.
func reconnectedAs(t *testing.T, srv *server, user string) {
	t.Helper()
	testutil.Eventually(t, wait, "both connections back as "+user, func() bool {
		ours := 0
		for line := range strings.Lines(srv.text("CLIENT", "LIST")) {
			if strings.Contains(line, " name=sentinel-auth-") {
				if !strings.Contains(line, " user="+user+" ") {
					return false
				}
				ours++
			}
		}
		return ours == 2
	})
}

// linked starts a link to srv with these credentials and waits for it.
func linked(t *testing.T, srv *server, log zerolog.Logger, user, pass string) (*Manager, *recorder) {
	t.Helper()
	m, rec := newManager(t, log, 64)
	m.Reconcile([]monitor.LinkSpec{authSpec(srv.addr(), user, pass)})
	rec.connected(t, "m")
	return m, rec
}

// setRequirepass changes the default user's password and drops the link's
// connections, as a restart with the new configuration would.
func setRequirepass(t *testing.T, srv *server, pass string) {
	t.Helper()
	srv.text("CONFIG", "SET", "requirepass", pass)
	srv.password = pass
	srv.text("CLIENT", "KILL", "TYPE", "normal")
	srv.text("CLIENT", "KILL", "TYPE", "pubsub")
}

func withACLUser(t *testing.T, srv *server, user string) {
	t.Helper()
	srv.text("ACL", "SETUSER", user, "on", ">secret", "allchannels", "+@all")
	srv.text("ACL", "SETUSER", "default", "off")
	srv.user, srv.password = user, "secret"
	srv.text("CLIENT", "KILL", "USER", "default")
}

func TestACLUserRemovedKeepsTheLink(t *testing.T) {
	srv := startRedis(t)
	withACLUser(t, srv, "testuser")
	logs := &testutil.SyncBuffer{}
	m, rec := linked(t, srv, zerolog.New(logs), "testuser", "secret")
	pingOK(t, m, rec)

	// The operator resets the ACL; the instance drops testuser's clients.
	srv.text("ACL", "SETUSER", "default", "on")
	srv.user, srv.password = "", ""
	srv.text("ACL", "DELUSER", "testuser")
	reconnectedAs(t, srv, "default")
	pingOK(t, m, rec) // AUTH testuser got WRONGPASS; the link works as default
	if n := strings.Count(logs.String(), "AUTH refused"); n != 1 || !strings.Contains(logs.String(), "WRONGPASS") {
		t.Fatalf("want one warning naming WRONGPASS, got %d:\n%s", n, logs)
	}
}

func TestRequirepassRemovedKeepsTheLink(t *testing.T) {
	srv := startRedis(t, "--requirepass", "secret")
	srv.password = "secret"
	m, rec := linked(t, srv, zerolog.Nop(), "", "secret")
	setRequirepass(t, srv, "")
	// AUTH now says "called without any password configured".
	reconnectedAs(t, srv, "default")
	pingOK(t, m, rec)
}

func TestPasswordAddedDisconnectsUntilItArrives(t *testing.T) {
	srv := startRedis(t)
	m, rec := linked(t, srv, zerolog.Nop(), "", "")
	setRequirepass(t, srv, "secret")
	if err := refused(t, m, rec); !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("refused with %v, want NOAUTH", err)
	}
	if m.Send("m", monitor.Ping{}) {
		t.Fatal("a refused link took a request")
	}

	// SENTINEL SET auth-pass: a new spec, connected without waiting.
	start := time.Now()
	m.Reconcile([]monitor.LinkSpec{authSpec(srv.addr(), "", "secret")})
	rec.await(t, time.Second, "connection with the new password", nil, is("m", monitor.ObsConnected))
	t.Logf("reconnected %v after the new credentials", time.Since(start))
	pingOK(t, m, rec)
}

func TestUserRenamedDisconnectsUntilTheNewNameArrives(t *testing.T) {
	srv := startRedis(t)
	withACLUser(t, srv, "testuser")
	m, rec := linked(t, srv, zerolog.Nop(), "testuser", "secret")

	srv.text("ACL", "SETUSER", "newuser", "on", ">secret", "allchannels", "+@all")
	srv.user = "newuser"
	srv.text("ACL", "DELUSER", "testuser")
	// The default user is off: the old name's connections are really refused.
	err := refused(t, m, rec)
	if !strings.Contains(err.Error(), "WRONGPASS") || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("refused with %v, want WRONGPASS then NOAUTH", err)
	}

	m.Reconcile([]monitor.LinkSpec{authSpec(srv.addr(), "newuser", "secret")})
	rec.await(t, time.Second, "connection as the new user", nil, is("m", monitor.ObsConnected))
	pingOK(t, m, rec)
	reconnectedAs(t, srv, "newuser")
}
