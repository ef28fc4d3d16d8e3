package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Mode is how a live drill makes the master go away.
type Mode string

const (
	// ModePause makes the master unresponsive with CLIENT PAUSE ... ALL, so
	// the sentinels detect it and fail over; no data is lost.
	ModePause Mode = "pause"
	// ModeSwitchover asks a sentinel for SENTINEL FAILOVER.
	ModeSwitchover Mode = "switchover"
)

var (
	// ErrNoQuorum means SENTINEL CKQUORUM said a failover cannot happen;
	// nothing was paused.
	ErrNoQuorum = errors.New("failover cannot be authorized")
	// ErrAborted means the operator declined.
	ErrAborted = errors.New("drill not confirmed")
	// ErrNoFailover means the sentinels did not fail over in time.
	ErrNoFailover = errors.New("no failover")
)

// LiveOptions configure a drill against a running deployment.
type LiveOptions struct {
	// Sentinel is one sentinel's host:port; the others are found with
	// SENTINEL SENTINELS.
	Sentinel   string
	MasterName string
	Mode       Mode
	// PauseMargin is added to down-after-milliseconds for the length of the
	// CLIENT PAUSE, leaving the sentinels time to agree and promote.
	PauseMargin   time.Duration
	RejoinTimeout time.Duration
	// Password authenticates to the data nodes, SentinelPassword to the
	// sentinels.
	Password, SentinelPassword string
	// Confirm is shown what is about to happen; false aborts the drill.
	// Nil proceeds.
	Confirm func(plan string) (bool, error)
}

// DefaultLiveOptions are the defaults of `sentinel drill --sentinel`.
func DefaultLiveOptions() LiveOptions {
	return LiveOptions{
		Sentinel:      "127.0.0.1:26379",
		Mode:          ModePause,
		PauseMargin:   5 * time.Second,
		RejoinTimeout: 60 * time.Second,
	}
}

// Validate reports options no live drill can run with.
func (o LiveOptions) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(o.Sentinel); err != nil {
		errs = append(errs, fmt.Errorf("sentinel address: %w", err))
	}
	if o.MasterName == "" {
		errs = append(errs, errors.New("no master name"))
	}
	if o.Mode != ModePause && o.Mode != ModeSwitchover {
		errs = append(errs, fmt.Errorf("mode %q is not %s or %s", o.Mode, ModePause, ModeSwitchover))
	}
	if o.PauseMargin <= 0 || o.RejoinTimeout <= 0 {
		errs = append(errs, errors.New("pause margin and rejoin timeout must be positive"))
	}
	return errors.Join(errs...)
}

// group is what a live drill learns about the deployment before acting.
type group struct {
	master    string
	replicas  []string
	sentinels []string // the given one first
	downAfter time.Duration
	failover  time.Duration
}

// RunLive makes the group fail over without killing anything, prints the
// timeline from the sentinels' events and checks the end state. In pause
// mode it first checks SENTINEL CKQUORUM and returns ErrNoQuorum without
// pausing when a failover cannot be authorized.
func RunLive(ctx context.Context, o LiveOptions, progress io.Writer) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("live drill options: %w", err)
	}
	rep := newReporter(progress)
	defer rep.close()
	sc := redis.NewSentinelClient(clientOptions(o.Sentinel, o.SentinelPassword))
	defer sc.Close()

	rep.waiting("sentinel "+o.Sentinel, time.Now())
	g, err := discover(ctx, sc, o)
	rep.waiting("", time.Time{})
	if err != nil {
		return nil, err
	}
	rep.printf("group %s: master %s, replicas %s, sentinels %s, down-after %v, failover-timeout %v",
		o.MasterName, g.master, strings.Join(g.replicas, " "), strings.Join(g.sentinels, " "), g.downAfter, g.failover)
	if len(g.replicas) == 0 {
		return nil, fmt.Errorf("%w: %s has no replica to promote", ErrNoFailover, o.MasterName)
	}
	pause := g.downAfter + o.PauseMargin
	var plan string
	if o.Mode == ModePause {
		q, err := sc.CkQuorum(ctx, o.MasterName).Result()
		if err != nil {
			return nil, fmt.Errorf("%w: SENTINEL CKQUORUM %s: %v", ErrNoQuorum, o.MasterName, err)
		}
		rep.printf("ckquorum: %s", q)
		plan = fmt.Sprintf("CLIENT PAUSE %d ALL on master %s: its clients block for %v and the sentinels should fail over",
			pause.Milliseconds(), g.master, pause)
	} else {
		plan = fmt.Sprintf("SENTINEL FAILOVER %s on %s: %s becomes a replica", o.MasterName, o.Sentinel, g.master)
	}
	if o.Confirm != nil {
		ok, err := o.Confirm(plan)
		if err != nil {
			return nil, fmt.Errorf("confirm: %w", err)
		}
		if !ok {
			return nil, ErrAborted
		}
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	data := append([]string{g.master}, g.replicas...)
	n := newNodes(data, g.sentinels, o.Password, o.SentinelPassword, nil)
	defer n.close()
	obs := make(chan observation, 64)
	w, err := watchEvents(ctx, g.sentinels, o.SentinelPassword, nil, o.MasterName, obs)
	if err != nil {
		return nil, err
	}
	defer w.stop()

	res := &Result{Sentinel: o.Sentinel, Mode: string(o.Mode), MasterName: o.MasterName, OldMaster: g.master}
	trigger := PhaseTime{Phase: PhaseFailover, Detail: plan}
	res.Start = time.Now()
	if o.Mode == ModePause {
		trigger.Phase = PhasePause
		err = n.data[g.master].Do(ctx, "client", "pause", pause.Milliseconds(), "all").Err()
	} else {
		err = sc.Failover(ctx, o.MasterName).Err()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", trigger.Phase, err)
	}
	res.Phases = append(res.Phases, trigger)
	rep.printf("%s", timelineLine(trigger))

	expect := SwitchoverPhases
	if o.Mode == ModePause {
		expect = PausePhases
	}
	f := &follower{
		name:      o.MasterName,
		oldMaster: g.master,
		replicas:  g.replicas,
		expect:    expect,
		downAfter: g.downAfter,
		failover:  g.failover,
		rejoin:    o.RejoinTimeout,
		nodes:     n,
		rep:       rep,
		obs:       obs,
		res:       res,
	}
	err = f.run(ctx)
	res.sortPhases()
	if err != nil {
		w.explain(ctx, rep, res, nil)
		if _, switched := res.At(PhaseSwitch); !switched {
			err = fmt.Errorf("%w: %w", ErrNoFailover, err)
			if o.Mode == ModePause {
				err = errors.Join(err, unpause(ctx, n, g.master, res.Start.Add(pause)))
			}
		}
		return res, err
	}
	return res, checkEndState(ctx, rep, n, o.MasterName, data)
}

// unpause ends the pause early. Redis 7.0 queues CLIENT UNPAUSE behind a
// PAUSE ALL like any other command, so there it only returns when the pause
// expires; the wait is bounded by that expiry.
func unpause(ctx context.Context, n *nodes, master string, expires time.Time) error {
	// Also after Ctrl-C: that is when an operator wants the master back.
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), expires.Add(time.Second))
	defer cancel()
	opt := clientOptions(master, n.data[master].Options().Password)
	opt.ReadTimeout = max(time.Until(expires), 0) + time.Second
	c := redis.NewClient(opt)
	defer c.Close()
	if err := c.Do(ctx, "client", "unpause").Err(); err != nil {
		return fmt.Errorf("client unpause %s: %w", master, err)
	}
	return nil
}

// discover reads the group from one sentinel: the master's address and
// timers, its replicas and the other sentinels.
func discover(ctx context.Context, sc *redis.SentinelClient, o LiveOptions) (group, error) {
	g := group{sentinels: []string{o.Sentinel}}
	m, err := sc.Master(ctx, o.MasterName).Result()
	if err != nil {
		return g, fmt.Errorf("sentinel master %s on %s: %w", o.MasterName, o.Sentinel, err)
	}
	if m["flags"] != "master" {
		return g, fmt.Errorf("master %s is not healthy (flags %s): not drilling", o.MasterName, m["flags"])
	}
	if g.downAfter, err = msField(m, "down-after-milliseconds"); err != nil {
		return g, err
	}
	if g.failover, err = msField(m, "failover-timeout"); err != nil {
		return g, err
	}
	if g.master, err = sentinelMasterAddr(ctx, sc, o.MasterName); err != nil {
		return g, fmt.Errorf("sentinel %s: %w", o.Sentinel, err)
	}
	replicas, err := sc.Replicas(ctx, o.MasterName).Result()
	if err != nil {
		return g, fmt.Errorf("sentinel replicas %s: %w", o.MasterName, err)
	}
	for _, r := range replicas {
		// A replica already down would never be repointed.
		if hasFlag(r["flags"], "s_down", "o_down", "disconnected") {
			return g, fmt.Errorf("replica %s:%s is down (flags %s): not drilling", r["ip"], r["port"], r["flags"])
		}
		g.replicas = append(g.replicas, net.JoinHostPort(r["ip"], r["port"]))
	}
	peers, err := sc.Sentinels(ctx, o.MasterName).Result()
	if err != nil {
		return g, fmt.Errorf("sentinel sentinels %s: %w", o.MasterName, err)
	}
	for _, p := range peers {
		g.sentinels = append(g.sentinels, net.JoinHostPort(p["ip"], p["port"]))
	}
	return g, nil
}

func msField(m map[string]string, key string) (time.Duration, error) {
	v, err := strconv.ParseInt(m[key], 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("sentinel master: field %s = %q is not a positive integer", key, m[key])
	}
	return time.Duration(v) * time.Millisecond, nil
}

// hasFlag reports whether the comma-separated flags contain any of want.
func hasFlag(flags string, want ...string) bool {
	for f := range strings.SplitSeq(flags, ",") {
		if slices.Contains(want, f) {
			return true
		}
	}
	return false
}
