package e2e

import (
	"bufio"
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

// proc is a started process; one goroutine waits for it.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// kill stops the process with SIGKILL and waits until it is gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// startIn runs argv with the working directory cwd, as an operator starts
// a sentinel from a shell, and kills it when the test ends. Its output
// goes to out.
func startIn(t *testing.T, cwd string, out *testutil.SyncBuffer, argv ...string) *proc {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = cwd, out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	return p
}

// startMaster starts a Redis master in dir and stops it when the test ends.
func startMaster(ctx context.Context, t *testing.T, dir string) *cluster.Redis {
	t.Helper()
	master, err := cluster.StartRedisOnFreePort(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = master.Stop() })
	return master
}

// inlinePing sends an inline PING as harness probes do and returns the
// reply line. Probes send "PING\r\n\n"; that framing is tested where the
// server's reader is, so this one sends "PING\r\n".
func inlinePing(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

// TestRedisStyleStartup starts a sentinel as Redis' own test harness does
// (issue 9): from tmp/, with sentinel_0/sentinel.conf holding `dir
// ./sentinel_0` and `logfile log.txt`, then sets a notification script by
// a path relative to dir. Debian's redis-sentinel runs the same script
// first, to show the layout is Redis'.
func TestRedisStyleStartup(t *testing.T) {
	needRedis(t)
	impls := map[string]string{"ours": strings.Fields(sentinelCommand)[0]}
	if p, err := exec.LookPath("redis-sentinel"); err == nil {
		impls["redis-sentinel"] = p
	}
	for _, name := range []string{"redis-sentinel", "ours"} {
		bin, ok := impls[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) { testRedisStyleStartup(t, bin, name == "ours") })
	}
}

func testRedisStyleStartup(t *testing.T, bin string, ours bool) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	root := tmpfsDir(t)
	master := startMaster(ctx, t, filepath.Join(root, "redis"))

	helpers := filepath.Join(root, "tests", "helpers")
	dir := filepath.Join(root, "tmp", "sentinel_0")
	for _, d := range []string{helpers, dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The script writes into its working directory, which is dir.
	if err := os.WriteFile(filepath.Join(helpers, "check.sh"), []byte("#!/bin/sh\necho \"$@\" >> called.txt\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	port, err := cluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndaemonize no\ndir ./sentinel_0\nlogfile log.txt\n"+
		"sentinel deny-scripts-reconfig no\nsentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 1000\n",
		port, masterName, master.Port, masterName)
	confPath := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// What a kill -9 during a rewrite leaves behind.
	leftover := confPath + ".tmp-12345"
	if err := os.WriteFile(leftover, []byte("half a config"), 0o644); err != nil {
		t.Fatal(err)
	}

	var out testutil.SyncBuffer
	startIn(t, filepath.Join(root, "tmp"), &out, bin, "sentinel_0/sentinel.conf")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	testutil.Eventually(t, 10*time.Second, "an inline PING answered +PONG", func() bool {
		reply, err := inlinePing(addr)
		return err == nil && reply == "+PONG\r\n"
	})

	c := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	if err := sentinelDo(ctx, c, "set", masterName, "notification-script", "../../tests/helpers/check.sh").Err(); err != nil {
		t.Fatalf("SENTINEL SET notification-script relative to dir: %v\n%s", err, out.String())
	}
	if err := master.Kill(); err != nil {
		t.Fatal(err)
	}
	called := filepath.Join(dir, "called.txt")
	testutil.Eventually(t, 20*time.Second, "the script, run in dir, to see +sdown", func() bool {
		data, _ := os.ReadFile(called)
		return strings.Contains(string(data), "+sdown master "+masterName)
	})

	log, err := os.ReadFile(filepath.Join(dir, "log.txt"))
	if err != nil || len(log) == 0 {
		t.Fatalf("logfile in dir: %v (%d bytes); output:\n%s", err, len(log), out.String())
	}
	if strings.Contains(string(log), "\x1b[") {
		t.Errorf("logfile has ANSI escapes:\n%q", log)
	}
	// Redis leaves them; ours removes them at start (issue 8).
	if _, err := os.Stat(leftover); ours && !os.IsNotExist(err) {
		t.Errorf("leftover temporary file still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sentinel_0")); !os.IsNotExist(err) {
		t.Errorf("dir resolved against the config's folder: %v", err)
	}
	rewritten, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dir " + strconv.Quote(dir) + "\n", " notification-script " + masterName + " ../../tests/helpers/check.sh\n"} {
		if !strings.Contains(string(rewritten), want) {
			t.Errorf("rewritten config lacks %q:\n%s", want, rewritten)
		}
	}
}

// TestReadOnlyConfigKeepsChanges: with the config file in a read-only
// place (a ConfigMap), SENTINEL SET and ACL SETUSER changes go to the state
// file in dir and are there again after a restart (issue 8).
func TestReadOnlyConfigKeepsChanges(t *testing.T) {
	needRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	root := tmpfsDir(t)
	master := startMaster(ctx, t, filepath.Join(root, "redis"))
	confDir, stateDir := filepath.Join(root, "configmap"), filepath.Join(root, "state")
	for _, d := range []string{confDir, stateDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port, err := cluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(confDir, "sentinel.conf")
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %d 1\n", port, stateDir, masterName, master.Port)
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// An immutable directory refuses the rewrite even to root.
	if out, err := exec.Command("chattr", "+i", confDir).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s read-only: %v %s", confDir, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", confDir).Run() })

	bin := strings.Fields(sentinelCommand)[0]
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	start := func() (*proc, *testutil.SyncBuffer) {
		var out testutil.SyncBuffer
		p := startIn(t, root, &out, bin, confPath)
		testutil.Eventually(t, 10*time.Second, "the sentinel to answer", func() bool {
			reply, err := inlinePing(addr)
			return err == nil && reply == "+PONG\r\n"
		})
		return p, &out
	}
	p, _ := start()
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	if err := sentinelDo(ctx, c, "set", masterName, "down-after-milliseconds", "4321").Err(); err != nil {
		t.Fatalf("SENTINEL SET: %v", err)
	}
	if err := c.Process(ctx, redis.NewCmd(ctx, "acl", "setuser", "ops", "on", "nopass", "+@all")); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	p.kill()
	if data, err := os.ReadFile(confPath); err != nil || string(data) != conf {
		t.Fatalf("read-only config changed: %q %v", data, err)
	}

	_, out := start()
	m, err := c.Master(ctx, masterName).Result()
	if err != nil || m["down-after-milliseconds"] != "4321" {
		t.Fatalf("after a restart, down-after-milliseconds = %q (%v)\n%s", m["down-after-milliseconds"], err, out.String())
	}
	usersCmd := redis.NewStringSliceCmd(ctx, "acl", "users")
	_ = c.Process(ctx, usersCmd)
	users, err := usersCmd.Result()
	if err != nil || !slices.Contains(users, "ops") {
		t.Fatalf("after a restart, users %q (%v)", users, err)
	}
}
