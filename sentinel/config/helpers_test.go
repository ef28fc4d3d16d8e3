package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// writeFile writes a file for a test and fails it on error.
func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}

// fullConfig copies testdata/full.conf and the scripts it names into a
// fresh directory, makes it the working directory (where Redis resolves
// relative paths without a dir line) and returns the copy's path and content.
func fullConfig(t *testing.T) (string, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "full.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, script := range []string{"notify.sh", "reconfig.sh"} {
		writeFile(t, filepath.Join(dir, script), "#!/bin/sh\nexit 0\n", 0o755)
	}
	path := filepath.Join(dir, "sentinel.conf")
	writeFile(t, path, string(data), 0o640)
	t.Chdir(dir)
	return path, data
}

func mustParse(t *testing.T, path string, data []byte) *Config {
	t.Helper()
	c, err := Parse(path, data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return c
}

// sameConfig fails the test when the configs differ in anything but
// Warnings, whose line numbers move when a rewrite drops lines.
func sameConfig(t *testing.T, want, got *Config) {
	t.Helper()
	w, g := *want, *got
	w.Warnings, g.Warnings = nil, nil
	if !reflect.DeepEqual(w, g) {
		t.Fatalf("configs differ\nwant %s\ngot  %s", dump(&w), dump(&g))
	}
}

func dump(c *Config) string {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// lineErrors unpacks Parse's joined error.
func lineErrors(t *testing.T, err error) []*LineError {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is not a join of line errors: %v", err, err)
	}
	var out []*LineError
	for _, e := range joined.Unwrap() {
		var le *LineError
		if !errors.As(e, &le) {
			t.Fatalf("error %T is not a *LineError: %v", e, e)
		}
		out = append(out, le)
	}
	return out
}
