package sentinel

import (
	"errors"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/server"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

var _ server.Backend = (*Daemon)(nil)

var errBusy = errors.New("ERR sentinel is busy, try again")

// Snapshot returns the current view, rebuilding it in the loop only when
// something changed since the last one.
func (d *Daemon) Snapshot() *view.Snapshot {
	if s := d.snap.Load(); s != nil && !d.stale.Load() {
		return s
	}
	var s *view.Snapshot
	if !d.call(func() { s = d.snapshot() }) {
		return d.snap.Load()
	}
	return s
}

// snapshot runs in the loop.
func (d *Daemon) snapshot() *view.Snapshot {
	if s := d.snap.Load(); s != nil && !d.stale.Load() {
		return s
	}
	s := d.state.Snapshot(d.links.Pending)
	d.snap.Store(s)
	d.stale.Store(false)
	return s
}

// exec runs a state-changing command in the loop. With flush, a failed save
// turns into Redis' error even when the command itself succeeded.
func (d *Daemon) exec(flush bool, f func(now time.Time) error) error {
	var err error
	ok := d.call(func() {
		err = f(time.Now())
		out := d.state.Drain()
		out.Persist = out.Persist || flush
		d.saveErr = nil
		d.apply(out)
		if flush && d.saveErr != nil && err == nil {
			err = errSaveFailed
		}
	})
	if !ok {
		return errBusy
	}
	return err
}

func (d *Daemon) Monitor(name, host string, port, quorum int) error {
	return d.exec(true, func(now time.Time) error { return d.state.Monitor(now, name, host, port, quorum) })
}

func (d *Daemon) Remove(name string) error {
	return d.exec(true, func(now time.Time) error { return d.state.Remove(now, name) })
}

func (d *Daemon) Set(name string, args []string) error {
	return d.exec(true, func(now time.Time) error {
		d.proxySet = true
		return d.state.Set(now, name, args)
	})
}

func (d *Daemon) Reset(pattern string) int {
	n := 0
	_ = d.exec(false, func(now time.Time) error { n = d.state.Reset(now, pattern); return nil })
	return n
}

func (d *Daemon) Failover(name string) error {
	return d.exec(false, func(now time.Time) error { return d.state.Failover(now, name) })
}

func (d *Daemon) FlushConfig() error {
	return d.exec(true, func(time.Time) error { return nil })
}

// ConfigSet applies pairs the server has checked, in one turn of the loop.
// The tls-* ones are loaded first: an invalid one changes nothing.
func (d *Daemon) ConfigSet(pairs []string) error {
	pairs, base, next, err := d.prepareTLS(pairs)
	if err != nil {
		return err
	}
	return d.exec(true, func(now time.Time) error {
		if next != nil && d.tls.Settings() != base {
			return errTLSChanged
		}
		for i := 0; i+1 < len(pairs); i += 2 {
			if err := d.state.ConfigSet(now, pairs[i], pairs[i+1]); err != nil {
				return err
			}
		}
		if next != nil {
			d.swapTLS(next)
		}
		return nil
	})
}

// IsMasterDownByAddr answers a peer; the vote is persisted (apply) before
// the reply is returned to the server, and withheld if that save failed.
func (d *Daemon) IsMasterDownByAddr(ip string, port int, epoch uint64, runid string) (bool, string, uint64) {
	var down bool
	var leader string
	var leaderEpoch uint64
	d.call(func() {
		down, leader, leaderEpoch = d.state.IsMasterDownByAddr(time.Now(), ip, port, epoch, runid)
		d.apply(d.state.Drain())
		if d.unsaved {
			leader, leaderEpoch = "", 0
		}
	})
	return down, leader, leaderEpoch
}

func (d *Daemon) SimulateFailure(flags []string) error {
	return d.exec(false, func(time.Time) error { return d.state.SimulateFailure(flags) })
}

func (d *Daemon) Debug(pairs []string) error {
	return d.exec(false, func(time.Time) error {
		if err := d.state.Debug(pairs); err != nil {
			return err
		}
		t := d.state.Timers()
		d.scripts.SetLimits(t.ScriptMaxRuntime, t.ScriptRetryDelay)
		return nil
	})
}

func (d *Daemon) Hello(payload string) {
	_ = d.exec(false, func(now time.Time) error { d.state.Hello(now, payload); return nil })
}

func (d *Daemon) PendingScripts() []server.Script {
	var out []server.Script
	for _, p := range d.scripts.Pending() {
		out = append(out, server.Script{Argv: p.Argv, Running: p.Running, PID: p.PID,
			RunTime: p.RunTime, RunDelay: p.RunDelay, RetryNum: p.RetryNum})
	}
	return out
}

var _ server.ProxyLister = (*Daemon)(nil)

// ProxyStatus lists the proxy listeners for SENTINEL PROXIES.
func (d *Daemon) ProxyStatus() [][]string {
	var out [][]string
	for _, s := range d.proxies.Status() {
		out = append(out, s.Fields())
	}
	return out
}
