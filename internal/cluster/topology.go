package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// startAttempts is how often Start tries an instance whose port was taken
// between FreePort and bind.
const startAttempts = 3

// Options describes a topology. Zero fields take the defaults documented on
// each field.
type Options struct {
	// Dir holds one sub-directory per process. Empty: a new temporary
	// directory (on /dev/shm when possible) that Stop removes.
	Dir       string
	Replicas  int
	Sentinels int
	// Quorum defaults to a majority of Sentinels.
	Quorum int
	// DownAfter defaults to 1 s, FailoverTimeout to 5 s (millisecond
	// resolution, as in sentinel.conf).
	DownAfter, FailoverTimeout time.Duration
	// SentinelCommand defaults to DefaultSentinelCommand.
	SentinelCommand string
	// SentinelCommands, when longer than i, gives sentinel i its own
	// command (a mixed group); "" keeps SentinelCommand.
	SentinelCommands []string
	// MasterName defaults to "mymaster".
	MasterName string
	// ReplicaConf holds extra redis.conf lines per replica (index i for
	// replica i); it may be shorter than Replicas.
	ReplicaConf [][]string
	// TLS makes a TLS-only topology: Start issues a CA and a certificate
	// for 127.0.0.1 in Dir, and every process serves TLS only (port 0,
	// tls-port, tls-replication yes); see docs/tls.md.
	TLS bool
}

// Validate reports options no topology can be built from.
func (o Options) Validate() error {
	var errs []error
	if o.Replicas < 0 || o.Sentinels < 0 {
		errs = append(errs, fmt.Errorf("negative count: %d replicas, %d sentinels", o.Replicas, o.Sentinels))
	}
	if o.Quorum < 0 || o.Quorum > o.Sentinels {
		errs = append(errs, fmt.Errorf("quorum %d outside 0..%d sentinels", o.Quorum, o.Sentinels))
	}
	if o.DownAfter < 0 || o.FailoverTimeout < 0 {
		errs = append(errs, errors.New("negative timer"))
	}
	if len(o.SentinelCommands) > o.Sentinels {
		errs = append(errs, fmt.Errorf("commands for %d sentinels but only %d sentinels", len(o.SentinelCommands), o.Sentinels))
	}
	if len(o.ReplicaConf) > o.Replicas {
		errs = append(errs, fmt.Errorf("conf for %d replicas but only %d replicas", len(o.ReplicaConf), o.Replicas))
	}
	if strings.ContainsAny(o.MasterName, " \t\r\n") {
		errs = append(errs, fmt.Errorf("master name %q contains whitespace", o.MasterName))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.Quorum == 0 {
		o.Quorum = o.Sentinels/2 + 1
	}
	if o.DownAfter == 0 {
		o.DownAfter = time.Second
	}
	if o.FailoverTimeout == 0 {
		o.FailoverTimeout = 5 * time.Second
	}
	if o.SentinelCommand == "" {
		o.SentinelCommand = DefaultSentinelCommand
	}
	if o.MasterName == "" {
		o.MasterName = "mymaster"
	}
	return o
}

// Topology is a master, its replicas and the sentinels monitoring it. Master
// and Replicas are the roles at Start; after a failover use MasterAddr and
// Instance. Opts holds the options with defaults applied. TLS is set when
// Opts.TLS is.
type Topology struct {
	Master    *Redis
	Replicas  []*Redis
	Sentinels []*Sentinel
	Opts      Options
	TLS       *TopologyTLS

	ownDir bool // Dir was created by Start and is removed by Stop
}

// Start launches the master, then the replicas (waiting until each one's
// replication link is up), then the sentinels. On error it stops whatever it
// started and returns the error.
func Start(ctx context.Context, o Options) (*Topology, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("topology options: %w", err)
	}
	o = o.withDefaults()
	t := &Topology{Opts: o}
	if o.Dir == "" {
		dir, err := tempDir()
		if err != nil {
			return nil, fmt.Errorf("topology dir: %w", err)
		}
		t.Opts.Dir, t.ownDir = dir, true
	}
	if err := t.start(ctx); err != nil {
		t.Stop()
		return nil, err
	}
	return t, nil
}

// tempDir prefers tmpfs: sentinels fsync their config on every change, and
// on a busy disk one slow fsync stalls their timer long enough to enter TILT
// (30 s without failovers).
func tempDir() (string, error) {
	if dir, err := os.MkdirTemp("/dev/shm", "sentinel-cluster-"); err == nil {
		return dir, nil
	}
	return os.MkdirTemp("", "sentinel-cluster-")
}

func (t *Topology) start(ctx context.Context) error {
	o := t.Opts
	if o.TLS {
		tt, err := newTopologyTLS(filepath.Join(o.Dir, "tls"))
		if err != nil {
			return err
		}
		t.TLS = tt
	}
	master, err := t.startRedis(ctx, filepath.Join(o.Dir, "master"))
	if err != nil {
		return fmt.Errorf("start master: %w", err)
	}
	t.Master = master
	for i := range o.Replicas {
		conf := []string{fmt.Sprintf("replicaof 127.0.0.1 %d", master.Port)}
		if i < len(o.ReplicaConf) {
			conf = append(conf, o.ReplicaConf[i]...)
		}
		r, err := t.startRedis(ctx, filepath.Join(o.Dir, fmt.Sprintf("replica-%d", i+1)), conf...)
		if err != nil {
			return fmt.Errorf("start replica %d: %w", i+1, err)
		}
		t.Replicas = append(t.Replicas, r)
	}
	linkCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for _, r := range t.Replicas {
		if err := WaitFor(linkCtx, pollInterval, func() (bool, error) { return linkUp(linkCtx, r) }); err != nil {
			return fmt.Errorf("replica %s link to master: %w", r.Addr(), err)
		}
	}
	for i := range o.Sentinels {
		s, err := t.startSentinel(ctx, i)
		if err != nil {
			return fmt.Errorf("start sentinel %d: %w", i+1, err)
		}
		t.Sentinels = append(t.Sentinels, s)
	}
	return nil
}

// startRedis starts one data node on a free port, TLS-only in a TLS
// topology.
func (t *Topology) startRedis(ctx context.Context, dir string, conf ...string) (*Redis, error) {
	if t.TLS == nil {
		return StartRedisOnFreePort(ctx, dir, conf...)
	}
	return onFreePort(func(port int) (*Redis, error) {
		return StartRedisTLS(ctx, dir, port, t.TLS.ClientConfig(), append(t.TLS.ConfLines(), conf...)...)
	})
}

// startSentinel starts sentinel i with its command on a free port.
func (t *Topology) startSentinel(ctx context.Context, i int) (*Sentinel, error) {
	o := t.Opts
	command := o.SentinelCommand
	if i < len(o.SentinelCommands) && o.SentinelCommands[i] != "" {
		command = o.SentinelCommands[i]
	}
	dir := filepath.Join(o.Dir, fmt.Sprintf("sentinel-%d", i+1))
	conf := func(port int, extra ...string) string {
		return SentinelConf(port, o.MasterName, t.Master.Port, o.Quorum,
			int(o.DownAfter.Milliseconds()), int(o.FailoverTimeout.Milliseconds()), extra...)
	}
	if t.TLS == nil {
		return StartSentinelOnFreePort(ctx, command, dir, func(port int) string { return conf(port) })
	}
	extra := t.TLS.ConfLines()
	if !IsRedisSentinel(command) {
		extra = append(extra, "sentinel gossip-key "+t.TLS.GossipKey)
	}
	return onFreePort(func(port int) (*Sentinel, error) {
		return StartSentinelTLS(ctx, command, dir, port, conf(0, append([]string{"tls-port " + strconv.Itoa(port)}, extra...)...),
			t.TLS.ClientConfig())
	})
}

// onFreePort runs start on a free port, trying another port when the one
// picked was taken meanwhile (by a replica's outgoing connection, say).
func onFreePort[T any](start func(port int) (T, error)) (T, error) {
	var zero T
	var err error
	for range startAttempts {
		var port int
		if port, err = FreePort(); err != nil {
			return zero, err
		}
		var v T
		if v, err = start(port); !errors.Is(err, ErrAddrInUse) {
			return v, err
		}
	}
	return zero, err
}

// StartRedisOnFreePort starts a redis-server on a free port.
func StartRedisOnFreePort(ctx context.Context, dir string, extraConf ...string) (*Redis, error) {
	return onFreePort(func(port int) (*Redis, error) { return StartRedis(ctx, dir, port, extraConf...) })
}

// StartSentinelOnFreePort starts a sentinel on a free port; conf renders
// its configuration for that port.
func StartSentinelOnFreePort(ctx context.Context, command, dir string, conf func(port int) string) (*Sentinel, error) {
	return onFreePort(func(port int) (*Sentinel, error) { return StartSentinel(ctx, command, dir, port, conf(port)) })
}

// linkUp reports whether a replica's INFO says its link to the master is up.
func linkUp(ctx context.Context, r *Redis) (bool, error) {
	info, err := r.Client().Info(ctx, "replication").Result()
	if err != nil {
		return false, err
	}
	if !strings.Contains(info, "master_link_status:up") {
		return false, fmt.Errorf("replica %s: master link not up", r.Addr())
	}
	return true, nil
}

// Stop stops every process Start started (sentinels, replicas and master, in
// parallel), then removes Dir if Start created it. It is idempotent and safe
// on a partially started topology; errors are dropped because there is
// nothing left to do about them, and every process is reaped regardless.
func (t *Topology) Stop() {
	var wg sync.WaitGroup
	for _, s := range t.Sentinels {
		wg.Go(func() { _ = s.Stop() })
	}
	for _, r := range t.instances() {
		wg.Go(func() { _ = r.Stop() })
	}
	wg.Wait()
	if t.ownDir {
		// Best effort: a leftover temp dir is harmless.
		_ = os.RemoveAll(t.Opts.Dir)
	}
}

// instances is the master followed by the replicas, as started.
func (t *Topology) instances() []*Redis {
	var all []*Redis
	if t.Master != nil {
		all = append(all, t.Master)
	}
	return append(all, t.Replicas...)
}

// Instance returns the Redis (master or replica) listening on addr, or nil.
func (t *Topology) Instance(addr string) *Redis {
	for _, r := range t.instances() {
		if r.Addr() == addr {
			return r
		}
	}
	return nil
}

// aliveSentinels returns the indexes of the sentinels that are running;
// killed ones are left out of MasterAddr and WaitDiscovered.
func (t *Topology) aliveSentinels() ([]int, error) {
	var alive []int
	for i, s := range t.Sentinels {
		if s.Alive() {
			alive = append(alive, i)
		}
	}
	if len(alive) == 0 {
		return nil, errors.New("no sentinel running")
	}
	return alive, nil
}

// MasterAddr asks every running sentinel for the master's address
// (SENTINEL GET-MASTER-ADDR-BY-NAME) and returns it if they all agree.
func (t *Topology) MasterAddr(ctx context.Context) (string, error) {
	alive, err := t.aliveSentinels()
	if err != nil {
		return "", err
	}
	answers := make([]string, len(alive))
	for k, i := range alive {
		if answers[k], err = t.sentinelMaster(ctx, i); err != nil {
			return "", err
		}
	}
	for _, a := range answers[1:] {
		if a != answers[0] {
			return "", fmt.Errorf("sentinels disagree on the master: %s", strings.Join(answers, ", "))
		}
	}
	return answers[0], nil
}

func (t *Topology) sentinelMaster(ctx context.Context, i int) (string, error) {
	s := t.Sentinels[i]
	hostPort, err := s.Client().GetMasterAddrByName(ctx, t.Opts.MasterName).Result()
	if err != nil {
		return "", fmt.Errorf("sentinel %s: get-master-addr-by-name: %w", s.Addr(), err)
	}
	if len(hostPort) != 2 {
		return "", fmt.Errorf("sentinel %s: get-master-addr-by-name: reply %q", s.Addr(), hostPort)
	}
	return net.JoinHostPort(hostPort[0], hostPort[1]), nil
}

// WaitDiscovered waits until every running sentinel lists as replicas all
// instances but the master it reports, and lists all the other sentinels.
func (t *Topology) WaitDiscovered(ctx context.Context) error {
	return WaitFor(ctx, 100*time.Millisecond, func() (bool, error) {
		alive, err := t.aliveSentinels()
		if err != nil {
			return false, err
		}
		for _, i := range alive {
			if err := t.discovered(ctx, i); err != nil {
				return false, err
			}
		}
		return true, nil
	})
}

// discovered checks sentinel i's view; the error names what is missing.
func (t *Topology) discovered(ctx context.Context, i int) error {
	s := t.Sentinels[i]
	master, err := t.sentinelMaster(ctx, i)
	if err != nil {
		return err
	}
	replicas, err := s.Client().Replicas(ctx, t.Opts.MasterName).Result()
	if err != nil {
		return fmt.Errorf("sentinel %s: replicas: %w", s.Addr(), err)
	}
	var wantReplicas []string
	for _, r := range t.instances() {
		if r.Addr() != master {
			wantReplicas = append(wantReplicas, r.Addr())
		}
	}
	if missing := missingAddrs(wantReplicas, replicas); len(missing) > 0 {
		return fmt.Errorf("sentinel %s: replicas not yet known: %s", s.Addr(), strings.Join(missing, ", "))
	}
	peers, err := s.Client().Sentinels(ctx, t.Opts.MasterName).Result()
	if err != nil {
		return fmt.Errorf("sentinel %s: sentinels: %w", s.Addr(), err)
	}
	var wantPeers []string
	for j, peer := range t.Sentinels {
		if j != i {
			wantPeers = append(wantPeers, peer.Addr())
		}
	}
	if missing := missingAddrs(wantPeers, peers); len(missing) > 0 {
		return fmt.Errorf("sentinel %s: sentinels not yet known: %s", s.Addr(), strings.Join(missing, ", "))
	}
	return nil
}

// missingAddrs returns the addresses in want that no instance map (with ip
// and port fields) in got describes.
func missingAddrs(want []string, got []map[string]string) []string {
	have := make([]string, 0, len(got))
	for _, m := range got {
		have = append(have, net.JoinHostPort(m["ip"], m["port"]))
	}
	var missing []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			missing = append(missing, w)
		}
	}
	return missing
}
