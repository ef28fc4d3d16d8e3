package link

import (
	"errors"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/seed877ff415/sentinel/internal/testutil"
	"github.com/seed877ff415/sentinel/monitor"
	"github.com/seed877ff415/sentinel/sentinel/peer"
)

const wait = 5 * time.Second

func TestLinkConnectsPingsAndReadsInfo(t *testing.T) {
	srv := startRedis(t)
	m, rec := newManager(t, zerolog.Nop(), 64)
	m.Reconcile([]monitor.LinkSpec{{Key: "m", Addr: srv.addr(), ClientName: "sentinel-0123abcd", Subscribe: true}})
	rec.connected(t, "m")

	if !m.Send("m", monitor.Ping{}) {
		t.Fatal("Send(monitor.Ping) refused on a connected link")
	}
	pong := rec.await(t, wait, "ping reply", nil, is("m", monitor.ObsPingReply))
	if !pong.OK || pong.Reply != "PONG" || pong.Request != (monitor.Ping{}) || pong.At.IsZero() {
		t.Fatalf("ping reply = %+v", pong)
	}

	m.Send("m", monitor.InfoRequest{})
	info := rec.await(t, wait, "info", nil, is("m", monitor.ObsInfo)).Info
	if info.Role != "master" || len(info.RunID) != 40 || !strings.Contains(info.Text, "redis_version:7.") {
		t.Fatalf("info = %+v", info)
	}

	// Without a running script Redis says NOTBUSY: an error reply, not a failure of the link.
	m.Send("m", monitor.ScriptKill{})
	kill := rec.await(t, wait, "script kill reply", nil, is("m", monitor.ObsReply))
	if kill.OK || !strings.HasPrefix(kill.Reply, "NOTBUSY") || kill.Request != (monitor.ScriptKill{}) {
		t.Fatalf("script kill reply = %+v", kill)
	}

	testutil.Eventually(t, wait, "both connections named", func() bool {
		list := srv.text("CLIENT", "LIST")
		return strings.Contains(list, "name=sentinel-0123abcd-cmd ") && strings.Contains(list, "name=sentinel-0123abcd-pubsub ")
	})
	testutil.Eventually(t, wait, "nothing pending", func() bool { return m.Pending("m") == 0 })
}

func TestLinkNoticesKillAndReturnWithinASecond(t *testing.T) {
	srv := startRedis(t)
	m, rec := newManager(t, zerolog.Nop(), 64)
	m.Reconcile([]monitor.LinkSpec{{Key: "m", Addr: srv.addr(), Subscribe: true}})
	rec.connected(t, "m")

	srv.kill()
	// The link learns of the loss from its next command, as Sentinel's PING would.
	down := rec.await(t, wait, "disconnected", func() { m.Send("m", monitor.Ping{}) }, is("m", monitor.ObsDisconnected))
	if down.Err == nil {
		t.Fatal("ObsDisconnected without a reason")
	}
	if m.Send("m", monitor.Ping{}) || m.Pending("m") != 0 {
		t.Fatal("a disconnected link accepted a request")
	}

	srv.start()
	rec.await(t, time.Second, "reconnection within 1s", nil, is("m", monitor.ObsConnected))
	m.Send("m", monitor.Ping{})
	if o := rec.await(t, wait, "ping reply", nil, is("m", monitor.ObsPingReply)); !o.OK {
		t.Fatalf("ping after restart = %+v", o)
	}
}

// TestIdleLinkNoticesKillAtOnce: the pub/sub connection sees the loss and
// has the idle command connection checked, without any request sent.
func TestIdleLinkNoticesKillAtOnce(t *testing.T) {
	srv := startRedis(t)
	m, rec := newManager(t, zerolog.Nop(), 64)
	m.Reconcile([]monitor.LinkSpec{{Key: "m", Addr: srv.addr(), Subscribe: true}})
	rec.connected(t, "m")
	srv.kill()
	killed := time.Now()
	down := rec.await(t, wait, "disconnected", nil, is("m", monitor.ObsDisconnected))
	if lag := down.At.Sub(killed); lag > 200*time.Millisecond {
		t.Fatalf("idle link noticed the kill after %v", lag)
	}
}

func TestWrongPasswordWarnsOnce(t *testing.T) {
	srv := startRedis(t, "--requirepass", "secret")
	srv.password = "secret"
	logs := &testutil.SyncBuffer{}
	m, rec := newManager(t, zerolog.New(logs).Level(zerolog.DebugLevel), 64)
	m.Reconcile([]monitor.LinkSpec{
		{Key: "wrong", Addr: srv.addr(), Password: "bad", ClientName: "sentinel-x", Subscribe: true},
		{Key: "none", Addr: srv.addr(), ClientName: "sentinel-y"},
	})

	down := make(map[string]error)
	rec.await(t, wait, "both links refused", nil, func(o monitor.Observation) bool {
		if o.Kind == monitor.ObsDisconnected {
			down[o.Key] = o.Err
		}
		return len(down) == 2
	})
	if err := down["wrong"]; !errors.Is(err, monitor.ErrAuth) || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password: err = %v", err)
	}
	if err := down["none"]; !errors.Is(err, monitor.ErrAuth) || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("missing password: err = %v", err)
	}

	// Let the three connections retry a dozen times each (250ms apart).
	testutil.Eventually(t, 10*time.Second, "retries", func() bool {
		stats := srv.text("INFO", "stats")
		_, rest, _ := strings.Cut(stats, "total_connections_received:")
		n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(rest, "\r\n", 2)[0]))
		return n >= 36
	})
	if m.Send("wrong", monitor.Ping{}) {
		t.Fatal("Send accepted on a link that never authenticated")
	}
	for len(rec.ch) > 0 {
		if o := <-rec.ch; o.Kind != monitor.ObsDisconnected {
			t.Fatalf("unexpected %v observation", o.Kind)
		} else {
			t.Fatalf("ObsDisconnected repeated for an unchanged error: %v", o.Err)
		}
	}
	var warnings []string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `"level":"warn"`) {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 2 {
		t.Fatalf("want one warning per link, got %d:\n%s", len(warnings), strings.Join(warnings, ""))
	}
	for _, w := range warnings {
		if !strings.Contains(w, srv.addr()) {
			t.Errorf("warning does not name the address: %s", w)
		}
	}
	if !strings.Contains(logs.String(), "WRONGPASS") {
		t.Errorf("no warning carries the WRONGPASS error:\n%s", logs.String())
	}
}

func TestSlaveOfThroughRenamedConfig(t *testing.T) {
	master := startRedis(t, "--rename-command", "CONFIG", "XCONFIG")
	replica := startWithConfig(t, "redis-server", "save \"\"\nappendonly no\nrename-command CONFIG XCONFIG")
	m, rec := newManager(t, zerolog.Nop(), 64)
	m.Reconcile([]monitor.LinkSpec{{
		Key: "r", Addr: replica.addr(), Kind: monitor.LinkReplica, Subscribe: true,
		Rename: map[string]string{"config": "XCONFIG"},
	}})
	rec.connected(t, "r")
	testutil.Eventually(t, wait, "pub/sub link subscribed", func() bool {
		return replica.text("PUBSUB", "NUMSUB", helloChannel) == "["+helloChannel+" 1]"
	})
	noDisconnect := func(kind monitor.ObsKind) func(monitor.Observation) bool {
		return func(o monitor.Observation) bool {
			if o.Kind == monitor.ObsDisconnected {
				t.Fatalf("command link reported down during SLAVEOF: %v", o.Err)
			}
			return o.Kind == kind
		}
	}

	m.Send("r", monitor.SlaveOf{Host: "127.0.0.1", Port: master.port})
	// EXEC fails with EXECABORT unless CONFIG REWRITE went out as XCONFIG.
	if o := rec.await(t, wait, "slaveof reply", nil, noDisconnect(monitor.ObsReply)); !o.OK || o.Request != (monitor.SlaveOf{Host: "127.0.0.1", Port: master.port}) {
		t.Fatalf("slaveof reply = %+v", o)
	}
	info := rec.await(t, wait, "info after slaveof", nil, noDisconnect(monitor.ObsInfo)).Info
	if info.Role != "slave" || info.MasterPort != master.port {
		t.Fatalf("after SLAVEOF: role %q master port %d", info.Role, info.MasterPort)
	}
	conf, err := os.ReadFile(replica.configFile())
	if err != nil || !strings.Contains(string(conf), "replicaof 127.0.0.1 "+strconv.Itoa(master.port)) {
		t.Fatalf("config not rewritten (%v):\n%s", err, conf)
	}
	rec.await(t, 10*time.Second, "replication link up", func() { m.Send("r", monitor.InfoRequest{}) },
		func(o monitor.Observation) bool { return o.Kind == monitor.ObsInfo && o.Info.MasterLinkUp })
	// CLIENT KILL TYPE pubsub dropped our pub/sub link; it must come back.
	testutil.Eventually(t, wait, "pub/sub link back", func() bool {
		return replica.text("PUBSUB", "NUMSUB", helloChannel) == "["+helloChannel+" 1]"
	})

	m.Send("r", monitor.SlaveOf{})
	if o := rec.await(t, wait, "slaveof no one reply", nil, noDisconnect(monitor.ObsReply)); !o.OK {
		t.Fatalf("slaveof no one reply = %+v", o)
	}
	if info := rec.await(t, wait, "info after promotion", nil, noDisconnect(monitor.ObsInfo)).Info; info.Role != "master" {
		t.Fatalf("after SLAVEOF NO ONE: role %q", info.Role)
	}
}

func TestHelloReachesPubSubLink(t *testing.T) {
	srv := startRedis(t)
	m, rec := newManager(t, zerolog.Nop(), 64)
	m.Reconcile([]monitor.LinkSpec{
		{Key: "listener", Addr: srv.addr(), Subscribe: true},
		{Key: "speaker", Addr: srv.addr()},
	})
	rec.connected(t, "speaker")
	testutil.Eventually(t, wait, "listener subscribed", func() bool {
		return srv.text("PUBSUB", "NUMSUB", helloChannel) == "["+helloChannel+" 1]"
	})

	rest := "26379,0123456789012345678901234567890123456789,7,mymaster,127.0.0.1,6379,3"
	// The hello may reach the listener before PUBLISH's reply reaches the speaker.
	both := func() (reply, hello monitor.Observation) {
		rec.await(t, wait, "publish reply and hello", nil, func(o monitor.Observation) bool {
			switch o.Kind {
			case monitor.ObsReply:
				reply = o
			case monitor.ObsHello:
				hello = o
			}
			return reply.Request != nil && hello.Payload != ""
		})
		return reply, hello
	}

	m.Send("speaker", monitor.Hello{Rest: rest})
	reply, hello := both()
	if reply.Key != "speaker" || !reply.OK || reply.Reply != "1" || reply.Request != (monitor.Hello{Rest: rest}) {
		t.Fatalf("publish reply = %+v", reply)
	}
	// Without an announce-ip the hello carries the command socket's local address.
	if hello.Key != "listener" || hello.Payload != "127.0.0.1,"+rest {
		t.Fatalf("hello = %+v", hello)
	}

	m.Send("speaker", monitor.Hello{AnnounceIP: "10.9.8.7", Rest: rest})
	if _, hello := both(); hello.Payload != "10.9.8.7,"+rest {
		t.Fatalf("payload = %q", hello.Payload)
	}
}

func TestAskMasterDownAgainstRealSentinel(t *testing.T) {
	sentinel := startWithConfig(t, "redis-sentinel", "")
	m, rec := newManager(t, zerolog.Nop(), 64)
	// Subscribe is ignored for sentinels: they get a command connection only.
	m.Reconcile([]monitor.LinkSpec{{Key: "s", Addr: sentinel.addr(), Kind: monitor.LinkSentinel, ClientName: "sentinel-abc", Subscribe: true}})
	rec.connected(t, "s")

	for _, ask := range []monitor.AskMasterDown{
		{Vote: peer.VoteRequest{MasterIP: "127.0.0.1", MasterPort: 6379, Epoch: 3}},
		{Vote: peer.VoteRequest{MasterIP: "127.0.0.1", MasterPort: 6379, Epoch: 4, Candidate: "0123456789012345678901234567890123456789"}},
	} {
		m.Send("s", ask)
		o := rec.await(t, wait, "ask reply", nil, is("s", monitor.ObsAskReply))
		// A master it does not know: "0, *, 0", with "*" read as no leader.
		if o.Ask != (peer.VoteReply{}) || o.Request != ask {
			t.Fatalf("ask %+v: got %+v", ask, o)
		}
	}
	list := sentinel.text("CLIENT", "LIST")
	if !strings.Contains(list, "name=sentinel-abc-cmd ") || strings.Contains(list, "-pubsub") {
		t.Fatalf("sentinel clients:\n%s", list)
	}
}

func TestFailoverRequest(t *testing.T) {
	master := startRedis(t)
	replica := startRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	// FAILOVER wants the replica "online" in the master's own view.
	testutil.Eventually(t, 10*time.Second, "replica online", func() bool {
		return strings.Contains(master.text("INFO", "replication"), "state=online")
	})
	m, rec := newManager(t, zerolog.Nop(), 64)
	m.Reconcile([]monitor.LinkSpec{{Key: "m", Addr: master.addr()}})
	rec.connected(t, "m")

	req := monitor.Failover{Host: "127.0.0.1", Port: replica.port, Timeout: 5 * time.Second}
	m.Send("m", req)
	if o := rec.await(t, wait, "failover reply", nil, is("m", monitor.ObsReply)); !o.OK || o.Reply != "OK" || o.Request != req {
		t.Fatalf("failover reply = %+v", o)
	}
	rec.await(t, 10*time.Second, "old master reporting the replica as its master", func() { m.Send("m", monitor.InfoRequest{}) },
		func(o monitor.Observation) bool {
			return o.Kind == monitor.ObsInfo && o.Info.Role == "slave" && o.Info.MasterPort == replica.port
		})
	if !strings.Contains(replica.text("INFO", "replication"), "role:master") {
		t.Fatal("replica not promoted")
	}
}

func TestPendingIsBounded(t *testing.T) {
	srv := startRedis(t)
	m, rec := newManager(t, zerolog.Nop(), 0) // unbuffered: the sink blocks until we read
	m.Reconcile([]monitor.LinkSpec{{Key: "m", Addr: srv.addr()}})
	rec.connected(t, "m")

	if m.Send("nope", monitor.Ping{}) || m.Send("m", nil) {
		t.Fatal("Send accepted an unknown link or a nil request")
	}
	// The first PING's reply is stuck in the sink, so nothing drains.
	for i := range maxPending {
		if !m.Send("m", monitor.Ping{}) {
			t.Fatalf("Send %d refused", i+1)
		}
	}
	if m.Send("m", monitor.Ping{}) {
		t.Fatal("Send accepted beyond the pending limit")
	}
	if n := m.Pending("m"); n != maxPending {
		t.Fatalf("Pending = %d, want %d", n, maxPending)
	}
	for range maxPending {
		rec.await(t, wait, "ping reply", nil, is("m", monitor.ObsPingReply))
	}
	testutil.Eventually(t, wait, "queue drained", func() bool { return m.Pending("m") == 0 })
}

func TestReconcileAndCloseLeaveNothingBehind(t *testing.T) {
	srv := startRedis(t)
	namedClients := func() []string {
		var names []string
		for line := range strings.Lines(srv.text("CLIENT", "LIST")) {
			if _, rest, ok := strings.Cut(line, "name=sentinel-"); ok {
				names = append(names, strings.Fields(rest)[0])
			}
		}
		return names
	}
	before := runtime.NumGoroutine()

	rec := newRecorder(64)
	m := NewManager(rec.sink, zerolog.Nop())
	a := monitor.LinkSpec{Key: "a", Addr: srv.addr(), ClientName: "sentinel-a", Subscribe: true}
	b := monitor.LinkSpec{Key: "b", Addr: srv.addr(), ClientName: "sentinel-b"}
	m.Reconcile([]monitor.LinkSpec{a, b})
	rec.connected(t, "a", "b")
	testutil.Eventually(t, wait, "three named connections", func() bool { return len(namedClients()) == 3 })

	// An identical spec keeps the running link.
	running := m.lookup("a")
	m.Reconcile([]monitor.LinkSpec{a, b})
	if m.lookup("a") != running {
		t.Fatal("unchanged spec restarted its link")
	}

	// Drop b, and rename a's connections: a restarts, b goes away.
	a.ClientName = "sentinel-a2"
	m.Reconcile([]monitor.LinkSpec{a})
	if m.Send("b", monitor.Ping{}) {
		t.Fatal("removed link accepted a request")
	}
	rec.await(t, wait, "a reconnected", nil, is("a", monitor.ObsConnected))
	testutil.Eventually(t, wait, "only a2's connections left", func() bool {
		names := strings.Join(namedClients(), " ")
		return names == "a2-cmd a2-pubsub" || names == "a2-pubsub a2-cmd"
	})

	close(rec.done)
	m.Close()
	m.Reconcile([]monitor.LinkSpec{a}) // after Close: starts nothing
	testutil.Eventually(t, wait, "no named connection", func() bool { return len(namedClients()) == 0 })
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Fatalf("%d goroutines left, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
