package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/internal/drill"
)

// execute runs the command tree with args, as main would.
func execute(args ...string) (string, error) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestDrillRejectsContradictoryFlags(t *testing.T) {
	cases := [][]string{
		{"drill"},
		{"drill", "--local", "--sentinel", "127.0.0.1:26379"},
		{"drill", "--sentinel", "127.0.0.1:26379"},
		{"drill", "--local", "--runs", "0"},
		{"drill", "--local", "--mode", "switchover"},
		{"drill", "--sentinel", "127.0.0.1:26379", "--master", "m", "--via-proxy"},
		{"drill", "--sentinel", "127.0.0.1:26379", "--master", "m", "--tls"},
		{"drill", "--sentinel", "127.0.0.1:26379", "--master", "m", "--replicas", "3"},
	}
	for _, args := range cases {
		if _, err := execute(args...); !errors.Is(err, errDrillFlags) {
			t.Errorf("%q: err = %v, want errDrillFlags", args, err)
		}
	}
	if _, err := execute("drill", "--local", "--replicas", "x"); err == nil {
		t.Error("--replicas x accepted")
	}
}

func TestDrillFlagsBecomeOptions(t *testing.T) {
	cmd, f := drillCommand(&globalFlags{})
	if err := cmd.ParseFlags([]string{"--local", "--down-after", "1500", "--failover-timeout", "4000",
		"--replicas", "3", "--sentinels", "5", "--runs", "2", "--sentinel-cmd", "redis-sentinel {conf}", "--via-proxy"}); err != nil {
		t.Fatal(err)
	}
	if err := f.validate(cmd); err != nil {
		t.Fatal(err)
	}
	o := f.localOptions("redis-sentinel {conf}")
	if o.DownAfter != 1500*time.Millisecond || o.FailoverTimeout != 4*time.Second || o.Replicas != 3 || o.Sentinels != 5 || !o.ViaProxy {
		t.Errorf("local options %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("options from flags invalid: %v", err)
	}
	if len(f.sentinelCmds) != 1 || f.runs != 2 {
		t.Errorf("sentinel-cmd %q, runs %d", f.sentinelCmds, f.runs)
	}

	tc, tf := drillCommand(&globalFlags{})
	if err := tc.ParseFlags([]string{"--local", "--tls", "--sentinel-cmd", "redis-sentinel {conf}"}); err != nil {
		t.Fatal(err)
	}
	if err := tf.validate(tc); err != nil {
		t.Fatal(err)
	}
	if to := tf.localOptions("redis-sentinel {conf}"); !to.TLS || to.Validate() != nil {
		t.Errorf("--tls: options %+v, validate %v", to, to.Validate())
	}
	withProxy := tf.localOptions("redis-sentinel {conf}")
	withProxy.ViaProxy = true
	if withProxy.Validate() == nil {
		t.Error("--tls with --via-proxy validates: the proxy serves plaintext")
	}

	live, lf := drillCommand(&globalFlags{})
	if err := live.ParseFlags([]string{"--sentinel", "10.0.0.1:26379", "--master", "cache", "--mode", "switchover", "--yes"}); err != nil {
		t.Fatal(err)
	}
	if err := lf.validate(live); err != nil {
		t.Fatal(err)
	}
	lo := lf.liveOptions()
	if lo.Sentinel != "10.0.0.1:26379" || lo.MasterName != "cache" || lo.Mode != drill.ModeSwitchover || !lf.yes {
		t.Errorf("live options %+v", lo)
	}
	if err := lo.Validate(); err != nil {
		t.Errorf("options from flags invalid: %v", err)
	}
}
