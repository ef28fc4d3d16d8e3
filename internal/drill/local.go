package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed877ff415/sentinel/internal/cluster"
)

const (
	// discoverTimeout bounds the sentinels' mutual discovery (hellos every
	// 2 s) and the client's first write.
	discoverTimeout = 30 * time.Second
	// endStateTimeout bounds the convergence of all sentinels on the new
	// master after the timeline is complete.
	endStateTimeout = 15 * time.Second
)

// LocalOptions configure a sandbox drill.
type LocalOptions struct {
	// SentinelCommand starts one sentinel; "{conf}" is replaced by its
	// config path, e.g. "/usr/local/bin/sentinel run {conf}" or
	// "redis-sentinel {conf}".
	SentinelCommand string
	Replicas        int
	Sentinels       int
	DownAfter       time.Duration
	FailoverTimeout time.Duration
	// RejoinTimeout bounds the old master's return as a replica after its
	// restart (Redis Sentinel converts it only after 8 s and an INFO).
	RejoinTimeout time.Duration
	MasterName    string
	// ViaProxy writes through the built-in proxy of the first sentinel
	// (docs/proxy.md) with a plain client instead of a FailoverClient.
	ViaProxy bool
	// TLS drills a TLS-only topology (cluster.Options.TLS): every process
	// and client speaks TLS, and the drill checks that no port answers a
	// plaintext PING.
	TLS bool
}

// DefaultLocalOptions are the defaults of `sentinel drill --local`, minus
// the sentinel command.
func DefaultLocalOptions() LocalOptions {
	return LocalOptions{
		Replicas:        2,
		Sentinels:       3,
		DownAfter:       time.Second,
		FailoverTimeout: 10 * time.Second,
		RejoinTimeout:   60 * time.Second,
		MasterName:      "mymaster",
	}
}

// Validate reports options no sandbox drill can run with.
func (o LocalOptions) Validate() error {
	var errs []error
	if !strings.Contains(o.SentinelCommand, "{conf}") {
		errs = append(errs, fmt.Errorf("sentinel command %q has no {conf} placeholder", o.SentinelCommand))
	}
	if o.Replicas < 1 {
		errs = append(errs, fmt.Errorf("%d replicas: a failover needs at least 1", o.Replicas))
	}
	if o.Sentinels < 1 {
		errs = append(errs, fmt.Errorf("%d sentinels: need at least 1", o.Sentinels))
	}
	if o.DownAfter <= 0 || o.FailoverTimeout <= 0 || o.RejoinTimeout <= 0 {
		errs = append(errs, errors.New("down-after, failover-timeout and rejoin timeout must be positive"))
	}
	if o.TLS && o.ViaProxy {
		errs = append(errs, errors.New("TLS and the proxy exclude each other: the proxy serves plaintext"))
	}
	if o.MasterName == "" || strings.ContainsAny(o.MasterName, " \t\r\n") {
		errs = append(errs, fmt.Errorf("master name %q is empty or has whitespace", o.MasterName))
	}
	return errors.Join(errs...)
}

// RunLocal starts a master, its replicas and sentinels on free loopback
// ports, writes through a FailoverClient, SIGKILLs the master and times the
// failover until the restarted old master is a replica again. It prints the
// timeline to progress as it happens. On a timeout the partial Result is
// returned with the error. Everything it started is stopped before it
// returns.
func RunLocal(ctx context.Context, o LocalOptions, progress io.Writer) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("local drill options: %w", err)
	}
	rep := newReporter(progress)
	defer rep.close()
	quorum := o.Sentinels/2 + 1
	transport := "plaintext"
	if o.TLS {
		transport = "TLS only"
	}
	rep.printf("drill: master + %d replicas, %d sentinels (quorum %d) of %q, down-after %v, failover-timeout %v, %s",
		o.Replicas, o.Sentinels, quorum, o.SentinelCommand, o.DownAfter, o.FailoverTimeout, transport)

	rep.waiting("the topology to start", time.Now())
	topo, err := cluster.Start(ctx, cluster.Options{
		Replicas:        o.Replicas,
		Sentinels:       o.Sentinels,
		Quorum:          quorum,
		DownAfter:       o.DownAfter,
		FailoverTimeout: o.FailoverTimeout,
		SentinelCommand: o.SentinelCommand,
		MasterName:      o.MasterName,
		TLS:             o.TLS,
	})
	if err != nil {
		return nil, fmt.Errorf("start topology: %w", err)
	}
	defer func() {
		rep.waiting("the topology to stop", time.Now())
		topo.Stop()
	}()

	rep.waiting("the sentinels to discover each other", time.Now())
	dctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	if err := topo.WaitDiscovered(dctx); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var sentinels, data []string
	for _, s := range topo.Sentinels {
		sentinels = append(sentinels, s.Addr())
	}
	for _, r := range topo.Replicas {
		data = append(data, r.Addr())
	}
	rep.printf("ready: master %s, replicas %s, sentinels %s",
		topo.Master.Addr(), strings.Join(data, " "), strings.Join(sentinels, " "))
	if o.TLS {
		all := append(append([]string{topo.Master.Addr()}, data...), sentinels...)
		if err := noPlaintext(ctx, all); err != nil {
			return nil, err
		}
		rep.printf("tls: CA %s; no plaintext PING answered on any of the %d ports", topo.TLS.CA.CertFile, len(all))
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	tlsConf := topo.ClientTLS()
	n := newNodes(append([]string{topo.Master.Addr()}, data...), sentinels, "", "", tlsConf)
	defer n.close()
	obs := make(chan observation, 64)
	w, err := watchEvents(ctx, sentinels, "", tlsConf, o.MasterName, obs)
	if err != nil {
		return nil, err
	}
	defer w.stop()

	res := &Result{Sentinel: o.SentinelCommand, Mode: "local", MasterName: o.MasterName, OldMaster: topo.Master.Addr()}
	var client *redis.Client
	via := "the FailoverClient"
	if o.TLS {
		res.Mode, via = "local over TLS", "the FailoverClient over TLS"
	}
	if o.ViaProxy {
		addrs, err := StartProxies(ctx, topo)
		if err != nil {
			return nil, err
		}
		addr := addrs[0]
		client, via = PlainClient(addr), "the proxy "+addr
		res.Mode = "local via proxy"
		rep.printf("proxies: every sentinel forwards a master port; the client writes through %s", addr)
	} else {
		client = FailoverClientTLS(o.MasterName, sentinels, tlsConf)
	}
	wr := startWriter(ctx, client, via, obs)
	defer func() {
		st := wr.stop()
		res.Writes = &st
	}()
	rep.waiting("the first write through "+via, time.Now())
	select {
	case <-wr.ready:
	case <-dctx.Done():
		return nil, fmt.Errorf("no successful write before the kill: %w", dctx.Err())
	}

	pid := topo.Master.PID()
	res.Start = time.Now()
	if err := topo.Master.Kill(); err != nil {
		return nil, fmt.Errorf("kill master: %w", err)
	}
	// Writes racing the SIGKILL could still reach the old master.
	wr.trigger(time.Now())
	kill := PhaseTime{Phase: PhaseKill, Detail: fmt.Sprintf("SIGKILL master %s (pid %d)", topo.Master.Addr(), pid)}
	res.Phases = append(res.Phases, kill)
	rep.printf("%s", timelineLine(kill))

	f := &follower{
		name:      o.MasterName,
		oldMaster: topo.Master.Addr(),
		replicas:  data,
		expect:    LocalPhases,
		downAfter: o.DownAfter,
		failover:  o.FailoverTimeout,
		rejoin:    o.RejoinTimeout,
		nodes:     n,
		rep:       rep,
		obs:       obs,
		restart:   topo.Master.Restart,
		res:       res,
	}
	err = f.run(ctx)
	res.sortPhases()
	if err == nil {
		err = checkEndState(ctx, rep, n, o.MasterName, append([]string{topo.Master.Addr()}, data...))
	}
	if err != nil {
		w.explain(ctx, rep, res, topo.Sentinels)
	}
	return res, err
}

// StartProxies gives every sentinel of topo a master proxy (SENTINEL SET
// proxy-master) on a free loopback port and returns their addresses in
// sentinel order. Only our sentinel has proxies.
func StartProxies(ctx context.Context, topo *cluster.Topology) ([]string, error) {
	var addrs []string
	for _, s := range topo.Sentinels {
		port, err := cluster.FreePort()
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cmd := redis.NewCmd(ctx, "sentinel", "set", topo.Opts.MasterName, "proxy-master", addr)
		if err := s.Client().Process(ctx, cmd); err != nil {
			return nil, fmt.Errorf("sentinel %s: SENTINEL SET proxy-master (proxies need our sentinel): %w", s.Addr(), err)
		}
		addrs = append(addrs, addr)
	}
	return addrs, nil
}

// noPlaintext fails if any of addrs answers a plaintext PING: in a
// TLS-only topology nothing may be served in the clear (docs/tls.md).
func noPlaintext(ctx context.Context, addrs []string) error {
	for _, a := range addrs {
		reply, err := cluster.PlaintextReply(ctx, a)
		if err != nil {
			return fmt.Errorf("tls: %s: %w", a, err)
		}
		if reply != "" {
			return fmt.Errorf("tls: %s answered a plaintext PING with %q", a, reply)
		}
	}
	return nil
}

// checkEndState polls until the group is in its final shape (one master,
// everyone following it, all sentinels agreeing) or endStateTimeout.
func checkEndState(ctx context.Context, rep *reporter, n *nodes, name string, data []string) error {
	rep.waiting("all sentinels to agree on the new master", time.Now())
	ctx, cancel := context.WithTimeout(ctx, endStateTimeout)
	defer cancel()
	var master string
	err := cluster.WaitFor(ctx, pollEvery, func() (bool, error) {
		m, err := n.endState(ctx, name, data)
		master = m
		return err == nil, err
	})
	rep.waiting("", time.Time{})
	if err != nil {
		return fmt.Errorf("end state: %w", err)
	}
	rep.printf("end state ok: %s is the only master, %d replica(s) follow it, %d sentinel(s) agree",
		master, len(data)-1, len(n.sentinels))
	return nil
}
