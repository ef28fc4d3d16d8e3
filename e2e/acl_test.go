package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
	"github.com/seed877ff415/sentinel/internal/testutil"
)

// aclUsers close the port to unauthenticated clients and give an
// application only what a Sentinel-aware client needs.
var aclUsers = []string{
	"user default off",
	"user admin on >adminpw ~* &* +@all",
	"user app on >apppw resetchannels &+switch-master -@all +@connection +sentinel|get-master-addr-by-name +subscribe",
}

// aclSentinel is one sentinel started with aclUsers.
type aclSentinel struct {
	addr, conf string
	bin, cwd   string
	out        *testutil.SyncBuffer
	proc       *proc
}

func startACLSentinel(t *testing.T, bin string, masterPort int) *aclSentinel {
	t.Helper()
	dir := tmpfsDir(t)
	port, err := cluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\n%s\nsentinel monitor %s 127.0.0.1 %d 1\n",
		port, strings.Join(aclUsers, "\n"), masterName, masterPort)
	s := &aclSentinel{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), conf: filepath.Join(dir, "sentinel.conf"),
		bin: bin, cwd: dir, out: &testutil.SyncBuffer{}}
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start(t)
	return s
}

// start runs the sentinel and waits until it answers, with NOAUTH since
// the default user is off.
func (s *aclSentinel) start(t *testing.T) {
	t.Helper()
	s.proc = startIn(t, s.cwd, s.out, s.bin, s.conf)
	testutil.Eventually(t, 10*time.Second, "the sentinel to answer NOAUTH", func() bool {
		reply, err := inlinePing(s.addr)
		return err == nil && reply == "-NOAUTH Authentication required.\r\n"
	})
}

func (s *aclSentinel) client(user, pass string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.addr, Username: user, Password: pass, Protocol: 2, MaxRetries: -1,
		DisableIdentity: true})
}

// reply renders a reply or its error for comparison. Single-command rules
// are sorted: Redis lists them in its hash table's order, which changes
// from one process to the next.
func reply(ctx context.Context, c *redis.Client, args ...any) string {
	v, err := c.Do(ctx, args...).Result()
	if err != nil {
		return "error: " + err.Error()
	}
	return sortCommandRules(fmt.Sprintf("%q", v))
}

func sortCommandRules(s string) string {
	f := strings.Split(s, " ")
	single := func(tok string) bool {
		return len(tok) > 1 && (tok[0] == '+' || tok[0] == '-') && tok[1] != '@'
	}
	for i := 0; i < len(f); i++ {
		j := i
		for j < len(f) && single(f[j]) {
			j++
			if strings.ContainsAny(f[j-1], `"]`) {
				break // the rule list ends inside this token
			}
		}
		if j-i < 2 {
			continue
		}
		last := f[j-1]
		end := strings.IndexAny(last, `"]`)
		suffix := ""
		if end >= 0 {
			f[j-1], suffix = last[:end], last[end:]
		}
		slices.SortFunc(f[i:j], func(a, b string) int { return strings.Compare(a[1:], b[1:]) })
		f[j-1] += suffix
		i = j - 1
	}
	return strings.Join(f, " ")
}

// TestACLAsRedisSentinel: the same user lines give the same replies from
// ours and from Debian's redis-sentinel (issue 8), and ours keeps users set
// at run time across a restart.
func TestACLAsRedisSentinel(t *testing.T) {
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	master := startMaster(ctx, t, tmpfsDir(t))

	ours := startACLSentinel(t, strings.Fields(sentinelCommand)[0], master.Port)
	script := [][]any{
		{"acl", "whoami"},
		{"acl", "users"},
		{"acl", "list"},
		{"acl", "getuser", "app"},
		{"acl", "getuser", "nosuch"},
		{"acl", "setuser", "ops", "on", ">opspw", "allchannels", "-@all", "+@connection", "+sentinel|masters", "+sentinel|master", "-client|kill"},
		{"acl", "getuser", "ops"},
		{"acl", "setuser", "bad", "+nosuch"},
		{"acl", "setuser", "bad", "#abc"},
		{"acl", "setuser", "a b"},
		{"acl", "setuser", "k", "~x", "allkeys", "~y"},
		{"acl", "setuser", "k", "allchannels", "&x"},
		{"acl", "setuser", "k", "reset", "%R~r*", "&c*", "+@all", "-@dangerous", "+info"},
		{"acl", "getuser", "k"},
		{"acl", "deluser", "k"},
		{"acl", "cat"},
		{"auth", "nosuch", "x"},
		{"acl", "dryrun", "app", "role"},
		{"acl", "dryrun", "app", "ping"},
		{"acl", "deluser", "default"},
		{"acl", "deluser", "ops", "ghost"},
		{"acl", "setuser", "ops", "on", ">opspw", "+@all"},
	}
	appScript := [][]any{
		{"acl", "whoami"},
		{"sentinel", "get-master-addr-by-name", masterName},
		{"sentinel", "masters"},
		{"role"},
		{"subscribe", "+sdown"},
		{"publish", "+switch-master", "x"},
		{"client", "kill", "id", "999999"},
		{"acl", "list"},
	}
	run := func(s *aclSentinel) (admin, app []string) {
		a, b := s.client("admin", "adminpw"), s.client("app", "apppw")
		defer a.Close()
		defer b.Close()
		for _, cmd := range script {
			admin = append(admin, reply(ctx, a, cmd...))
		}
		for _, cmd := range appScript {
			app = append(app, reply(ctx, b, cmd...))
		}
		return admin, app
	}
	oursAdmin, oursApp := run(ours)

	if rs, err := exec.LookPath("redis-sentinel"); err == nil {
		theirs := startACLSentinel(t, rs, master.Port)
		redisAdmin, redisApp := run(theirs)
		for i := range script {
			if oursAdmin[i] != redisAdmin[i] {
				t.Errorf("%v:\n ours  %s\n redis %s", script[i], oursAdmin[i], redisAdmin[i])
			}
		}
		for i := range appScript {
			if oursApp[i] != redisApp[i] {
				t.Errorf("as app, %v:\n ours  %s\n redis %s", appScript[i], oursApp[i], redisApp[i])
			}
		}
	}

	// Users set at run time are in the config and come back after a restart.
	admin := ours.client("admin", "adminpw")
	before := reply(ctx, admin, "acl", "list")
	_ = admin.Close()
	ours.proc.kill()
	ours.start(t)
	ops := ours.client("ops", "opspw")
	defer ops.Close()
	if got := reply(ctx, ops, "acl", "list"); got != before {
		t.Fatalf("users after a restart:\n%s\nbefore:\n%s\nlog:\n%s", got, before, ours.out.String())
	}
	conf, err := os.ReadFile(ours.conf)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(string(conf), "\n"); !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "user ops on #") }) {
		t.Fatalf("config lacks user ops:\n%s", conf)
	}
}
