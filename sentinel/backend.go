package sentinel

import (
	"errors"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/core"
	"github.com/seed877ff415/sentinel/sentinel/peer"
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
		d.saveErr = nil
		d.apply(flush)
		if flush && d.saveErr != nil && err == nil {
			err = errSaveFailed
		}
	})
	if !ok {
		return errBusy
	}
	return err
}

// step is exec for one command of the core.
func (d *Daemon) step(flush bool, in core.Input) error {
	return d.exec(flush, func(now time.Time) error { return d.state.Step(now, in).Err })
}

func (d *Daemon) Monitor(name, host string, port, quorum int) error {
	return d.step(true, core.Monitor{Name: name, Host: host, Port: port, Quorum: quorum})
}

func (d *Daemon) Remove(name string) error { return d.step(true, core.Remove{Name: name}) }

func (d *Daemon) Set(name string, args []string) error {
	return d.exec(true, func(now time.Time) error {
		d.proxySet = true
		return d.state.Step(now, core.Set{Name: name, Args: args}).Err
	})
}

func (d *Daemon) Reset(pattern string) int {
	n := 0
	_ = d.exec(false, func(now time.Time) error { n = d.state.Step(now, core.Reset{Pattern: pattern}).Reset; return nil })
	return n
}

func (d *Daemon) Failover(name string) error { return d.step(false, core.Failover{Name: name}) }

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
			if err := d.state.Step(now, core.ConfigSet{Param: pairs[i], Value: pairs[i+1]}).Err; err != nil {
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
func (d *Daemon) IsMasterDownByAddr(q peer.VoteRequest) peer.VoteReply {
	var v peer.VoteReply
	d.call(func() {
		v = d.state.Step(time.Now(), core.IsMasterDownByAddr{Vote: q}).Vote
		d.apply(false)
		if d.unsaved {
			v.Leader, v.LeaderEpoch = "", 0
		}
	})
	return v
}

func (d *Daemon) SimulateFailure(flags []string) error {
	return d.step(false, core.SimulateFailure{Flags: flags})
}

func (d *Daemon) Debug(pairs []string) error { return d.step(false, core.Debug{Pairs: pairs}) }

func (d *Daemon) Hello(payload string) { _ = d.step(false, core.Hello{Payload: payload}) }

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
