package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogIsPlainOffATerminal: a logfile or a pipe gets no ANSI colours
// (issue 9).
func TestLogIsPlainOffATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, out := range []*os.File{f, w} {
		if isTerminal(out) {
			t.Fatalf("%s is taken for a terminal", out.Name())
		}
	}
	var buf bytes.Buffer
	log, err := newLogger(&globalFlags{logLevel: "info", logFormat: "console"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Warn().Str("master", "mymaster").Msg("+sdown")
	if got := buf.String(); strings.Contains(got, "\x1b[") || !strings.Contains(got, "WRN +sdown master=mymaster") {
		t.Fatalf("log line %q", got)
	}
}

func TestCheckConfigNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.conf")
	if err := os.WriteFile(path, []byte("port 26379\ndir /nonexistent\ntls-port 26380\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := checkConfig(&bytes.Buffer{}, path)
	for _, want := range []string{path + ":2: 'dir /nonexistent': dir: cannot change to directory /nonexistent",
		path + ":3: 'tls-port 26380': tls-port: tls-port needs tls-cert-file and tls-key-file"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("check-config: %v; want %q", err, want)
		}
	}
}
