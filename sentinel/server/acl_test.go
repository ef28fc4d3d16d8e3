package server

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/seed877ff415/sentinel/sentinel/acl"
)

func users(t *testing.T, lines ...string) []*acl.User {
	t.Helper()
	var out []*acl.User
	for _, l := range lines {
		f := strings.Fields(l)
		u, bad, err := acl.NewUser(f[0]).SetRules(f[1:])
		if err != nil {
			t.Fatalf("%s: %q: %v", l, bad, err)
		}
		out = append(out, u)
	}
	return out
}

// TestDefaultOffClosesThePort: `user default off` plus an admin user, as
// issue 8 found ignored: NOAUTH until AUTH admin.
func TestDefaultOffClosesThePort(t *testing.T) {
	ts := startServer(t, func(o *Options) {
		o.Users = users(t, "default off", "admin on >secret ~* &* +@all")
	})
	c := ts.dial(t)
	if got := c.do("SENTINEL", "MASTERS"); got != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("unauthenticated: %q", got)
	}
	if got := c.do("AUTH", "default", ""); !strings.HasPrefix(got, "-WRONGPASS") {
		t.Fatalf("AUTH as the disabled default user: %q", got)
	}
	if got := c.do("AUTH", "admin", "wrong"); !strings.HasPrefix(got, "-WRONGPASS") {
		t.Fatalf("wrong password: %q", got)
	}
	if got := c.do("AUTH", "admin", "secret"); got != "+OK\r\n" {
		t.Fatalf("AUTH admin: %q", got)
	}
	if got := c.do("ACL", "WHOAMI"); got != "$5\r\nadmin\r\n" {
		t.Fatalf("whoami: %q", got)
	}
	if got := flat(c.do("ACL", "LOG")); len(got) != 28 || got[3] != "auth" || got[9] != "admin" || got[17] != "auth" || got[23] != "default" {
		t.Fatalf("failed AUTHs in ACL LOG: %q", got)
	}
}

func TestNoPermission(t *testing.T) {
	ts := startServer(t, func(o *Options) {
		o.Users = users(t, "app on >pw resetchannels &+switch-* -@all +@connection +sentinel|get-master-addr-by-name +subscribe +psubscribe")
	})
	c := ts.dial(t)
	if got := c.do("AUTH", "app", "pw"); got != "+OK\r\n" {
		t.Fatalf("auth: %q", got)
	}
	if got := c.do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"); strings.HasPrefix(got, "-") {
		t.Fatalf("allowed subcommand: %q", got)
	}
	for _, tc := range []struct{ args, want string }{
		{"SENTINEL MASTERS", "-NOPERM this user has no permissions to run the 'sentinel|masters' command\r\n"},
		{"ROLE", "-NOPERM this user has no permissions to run the 'role' command\r\n"},
		{"SUBSCRIBE +sdown", "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n"},
		{"PSUBSCRIBE +switch-m*", "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n"},
	} {
		if got := c.do(strings.Fields(tc.args)...); got != tc.want {
			t.Errorf("%s: %q", tc.args, got)
		}
	}
	if got := c.do("ACL", "DRYRUN", "app", "ROLE"); got == "+OK\r\n" {
		t.Errorf("dryrun role: %q", got)
	}
	if got := c.do("SUBSCRIBE", "+switch-master"); !strings.Contains(got, "+switch-master") {
		t.Fatalf("allowed channel: %q", got)
	}
}

func TestSetUserIsSavedAndShown(t *testing.T) {
	var mu sync.Mutex
	var saved []string
	ts := startServer(t, func(o *Options) {
		o.SaveUsers = func(us []*acl.User) error {
			mu.Lock()
			defer mu.Unlock()
			saved = saved[:0]
			for _, u := range us {
				saved = append(saved, u.Describe())
			}
			return nil
		}
	})
	c := ts.dial(t)
	if got := c.do("ACL", "SETUSER", "ops", "on", ">pw", "-@all", "+sentinel|masters"); got != "+OK\r\n" {
		t.Fatalf("setuser: %q", got)
	}
	hash := acl.HashPassword("pw")
	// The default user follows requirepass until it is set itself.
	want := []string{"user ops on #" + hash + " resetchannels -@all +sentinel|masters"}
	mu.Lock()
	got := slices.Clone(saved)
	mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("saved %q", got)
	}
	// Redis' GETUSER shape: flags, passwords, commands, keys, channels, selectors.
	if got := flat(c.do("ACL", "GETUSER", "ops")); !slices.Equal(got, []string{"flags", "on", "passwords", hash,
		"commands", "-@all +sentinel|masters", "keys", "", "channels", "", "selectors"}) {
		t.Fatalf("getuser: %q", got)
	}
	if got := c.do("ACL", "SETUSER", "a b"); got != "-ERR Usernames can't contain spaces or null characters\r\n" {
		t.Fatalf("bad name: %q", got)
	}
	if got := c.do("ACL", "DELUSER", "ops"); got != ":1\r\n" {
		t.Fatalf("deluser: %q", got)
	}
	if got := c.do("ACL", "SETUSER", "default", "on"); got != "+OK\r\n" {
		t.Fatalf("setuser default: %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(saved, []string{"user default on nopass ~* &* +@all"}) {
		t.Fatalf("after DELUSER and SETUSER default, saved %q", saved)
	}
}

// TestRevokedChannelDisconnects: taking a channel away from a user drops
// its subscribed clients, as Redis 7.0 does; others stay.
func TestRevokedChannelDisconnects(t *testing.T) {
	ts := startServer(t, func(o *Options) {
		o.Users = users(t, "app on >pw resetchannels &+sdown &+odown -@all +@connection +subscribe")
	})
	sub, idle, admin := ts.dial(t), ts.dial(t), ts.dial(t)
	for _, c := range []*testConn{sub, idle} {
		if got := c.do("AUTH", "app", "pw"); got != "+OK\r\n" {
			t.Fatalf("auth: %q", got)
		}
	}
	if got := sub.do("SUBSCRIBE", "+sdown"); !strings.Contains(got, "+sdown") {
		t.Fatalf("subscribe: %q", got)
	}
	if got := admin.do("ACL", "SETUSER", "app", "resetchannels", "&+odown"); got != "+OK\r\n" {
		t.Fatalf("setuser: %q", got)
	}
	if !sub.closed() {
		t.Fatal("subscriber to a revoked channel still connected")
	}
	if got := idle.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("client without subscriptions: %q", got)
	}
}

// TestACLLog: denials are logged and grouped as Redis 7.0 does (reply
// shape checked against redis-sentinel 7.0.15).
func TestACLLog(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.Users = users(t, "lim on nopass -@all +ping +auth") })
	for range 2 {
		if got := ts.dial(t).do("AUTH", "nosuch", "bad"); !strings.HasPrefix(got, "-WRONGPASS") {
			t.Fatalf("auth: %q", got)
		}
	}
	lim := ts.dial(t)
	if got := lim.do("AUTH", "lim", "x"); got != "+OK\r\n" {
		t.Fatalf("auth lim: %q", got)
	}
	if got := lim.do("ROLE"); !strings.HasPrefix(got, "-NOPERM") {
		t.Fatalf("role: %q", got)
	}
	c := ts.dial(t)
	got := flat(c.do("ACL", "LOG"))
	if len(got) != 28 || !slices.Equal(got[:10], []string{"count", "1", "reason", "command", "context", "toplevel", "object", "role", "username", "lim"}) ||
		!slices.Equal(got[14:24], []string{"count", "2", "reason", "auth", "context", "toplevel", "object", "auth", "username", "nosuch"}) ||
		got[10] != "age-seconds" || got[12] != "client-info" || !strings.Contains(got[13], " user=lim ") {
		t.Fatalf("acl log: %q", got)
	}
	if got := flat(c.do("ACL", "LOG", "1")); len(got) != 14 {
		t.Fatalf("acl log 1: %q", got)
	}
	for _, tc := range []struct{ args, want string }{
		{"ACL LOG x", "-ERR value is not an integer or out of range\r\n"},
		{"ACL LOG RESET now", "-ERR unknown subcommand or wrong number of arguments for 'log'. Try ACL HELP.\r\n"},
		{"ACL LOG RESET", "+OK\r\n"},
		{"ACL LOG", "*0\r\n"},
	} {
		if got := c.do(strings.Fields(tc.args)...); got != tc.want {
			t.Errorf("%s: %q", tc.args, got)
		}
	}
}
