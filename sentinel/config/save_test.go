package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/acl"
)

// dirNames lists a directory, to catch temporary files left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestSaveRewritesAtomically(t *testing.T) {
	path, _ := fullConfig(t)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c.MyID = GenerateID()
	c.CurrentEpoch = 9
	c.Master("mymaster").KnownReplicas = append(c.Master("mymaster").KnownReplicas, Addr{Host: "10.0.0.7", Port: 6379})

	stateFile, err := Save(c)
	if err != nil || stateFile {
		t.Fatalf("Save = %v, %v", stateFile, err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sameConfig(t, c, got)
	if names := dirNames(t, filepath.Dir(path)); !slices.Equal(names, []string{"notify.sh", "reconfig.sh", "sentinel.conf"}) {
		t.Errorf("directory holds %q: a temporary file was left behind", names)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode after save = %v, %v; want 0640 kept", st.Mode(), err)
	}
}

func TestSaveRereadsTheFile(t *testing.T) {
	path, _ := fullConfig(t)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// An operator edits the file while the sentinel runs.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("# added by hand\nmaxclients 100\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	c.CurrentEpoch = 10
	if _, err := Save(c); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "# added by hand\nmaxclients 100\n") || !strings.Contains(string(data), "sentinel current-epoch 10\n") {
		t.Fatalf("saved file lost the hand edit or the new state:\n%s", data)
	}
}

// TestSaveFallsBackToStateFile makes the config file's directory unusable
// in a way that also stops root: it is replaced by a regular file, so the
// temporary file cannot be created next to the config.
func TestSaveFallsBackToStateFile(t *testing.T) {
	base := t.TempDir()
	confDir := filepath.Join(base, "configmap")
	stateDir := filepath.Join(base, "state")
	for _, d := range []string{confDir, stateDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(confDir, "sentinel.conf")
	orig := "dir " + stateDir + "\nsentinel resolve-hostnames yes\nsentinel monitor m 10.0.0.1 6379 2\nsentinel monitor other 10.0.0.9 6379 1\n"
	writeFile(t, path, orig, 0o644)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}

	c.MyID = GenerateID()
	c.CurrentEpoch = 3
	m := c.Master("m")
	m.Host, m.Port, m.ConfigEpoch, m.LeaderEpoch = "redis-1.example.com", 6380, 3, 3
	m.KnownReplicas = []Addr{{Host: "10.0.0.1", Port: 6379}}
	m.KnownSentinels = []KnownSentinel{{Host: "10.0.0.5", Port: 26379, RunID: GenerateID()}}
	// SENTINEL SET changes are kept too (issue 8), and so are users.
	m.Quorum, m.DownAfter, m.AuthPass = 1, 5*time.Second, "secret"
	c.Users = []*acl.User{acl.NewUser("ops")}

	// An immutable directory refuses the rename even to root, as a
	// read-only ConfigMap mount would.
	makeImmutable(t, confDir)
	stateFile, err := Save(c)
	if err != nil || !stateFile {
		t.Fatalf("Save = %v, %v; want the state file written", stateFile, err)
	}
	if names := dirNames(t, stateDir); !slices.Equal(names, []string{StateFileName}) {
		t.Fatalf("state dir holds %q", names)
	}
	clearImmutable(t, confDir)
	if data, err := os.ReadFile(path); err != nil || string(data) != orig {
		t.Fatalf("config file changed: %q, %v", data, err)
	}

	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sameConfig(t, c, got)

	// Once the config file is writable again, a save there retires the
	// state file so it cannot shadow newer state.
	if stateFile, err := Save(got); err != nil || stateFile {
		t.Fatalf("Save = %v, %v", stateFile, err)
	}
	if _, err := os.Stat(StatePath(got)); !os.IsNotExist(err) {
		t.Errorf("state file still there: %v", err)
	}
	again, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sameConfig(t, got, again)
}

func makeImmutable(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s immutable to simulate a read-only config: %v %s", dir, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", dir).Run() })
}

func clearImmutable(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("chattr", "-i", dir).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i %s: %v %s", dir, err, out)
	}
}

// TestSaveFailsWhenConfigBecameADirectory: only a read-only config falls
// back to the state file; other failures are reported (docs/behaviour.md §7).
func TestSaveFailsWhenConfigBecameADirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sentinel.conf")
	writeFile(t, path, "sentinel monitor m 10.0.0.1 6379 2\n", 0o644)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if stateFile, err := Save(c); err == nil || stateFile {
		t.Fatalf("Save = %v, %v; want an error", stateFile, err)
	}
	if _, err := os.Stat(StatePath(c)); !os.IsNotExist(err) {
		t.Fatalf("a state file was written: %v", err)
	}
}

func TestSaveFailsWhenNothingIsWritable(t *testing.T) {
	confDir, stateDir := t.TempDir(), t.TempDir()
	path := filepath.Join(confDir, "sentinel.conf")
	writeFile(t, path, "dir "+stateDir+"\n", 0o644)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	makeImmutable(t, confDir)
	makeImmutable(t, stateDir)
	stateFile, err := Save(c)
	if err == nil || stateFile {
		t.Fatalf("Save = %v, %v; want an error", stateFile, err)
	}
	for _, p := range []string{c.Path, StatePath(c)} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name %s", err, p)
		}
	}
}

func TestLoadIgnoresAnOlderStateFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	path := filepath.Join(dir, "sentinel.conf")
	writeFile(t, path, "sentinel monitor m 10.0.0.1 6379 2\nsentinel config-epoch m 5\n", 0o644)
	writeFile(t, filepath.Join(dir, StateFileName), "sentinel monitor m 10.0.0.2 6379 2\nsentinel config-epoch m 1\nsentinel current-epoch 1\n", 0o644)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Master("m").Host != "10.0.0.1" || c.CurrentEpoch != 5 {
		t.Errorf("older state file applied: %s", dump(c))
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "ignored") {
		t.Errorf("warnings = %q", c.Warnings)
	}
}

func TestLoadRejectsABrokenStateFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	path := filepath.Join(dir, "sentinel.conf")
	writeFile(t, path, "sentinel monitor m 10.0.0.1 6379 2\n", 0o644)
	writeFile(t, filepath.Join(dir, StateFileName), "sentinel myid nope\n", 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), StateFileName) {
		t.Fatalf("Load = %v, want an error naming the state file", err)
	}
}

func TestLoadMakesPathsAbsolute(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sentinel.conf"), "logfile sentinel.log\n", 0o644)
	t.Chdir(dir)
	c, err := Load("sentinel.conf")
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != filepath.Join(dir, "sentinel.conf") || c.Dir != dir || c.LogFile != filepath.Join(dir, "sentinel.log") {
		t.Errorf("path/dir/logfile = %q %q %q", c.Path, c.Dir, c.LogFile)
	}
	if _, err := Load("missing.conf"); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "missing.conf")) {
		t.Errorf("Load(missing) = %v", err)
	}
}

func TestGenerateID(t *testing.T) {
	a, b := GenerateID(), GenerateID()
	if len(a) != 40 || !isHexString(a) || a == b {
		t.Fatalf("GenerateID = %q, %q", a, b)
	}
	if _, err := Parse("s.conf", []byte("sentinel myid "+a+"\n")); err != nil {
		t.Fatalf("generated id rejected: %v", err)
	}
}

func TestWriteAtomicLeavesNoTempFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	// Renaming a file over a non-empty directory fails after the temporary
	// file was written.
	target := filepath.Join(dir, "sentinel.conf")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(target, "keep"), "", 0o644)
	if err := writeAtomic(target, []byte("port 1\n"), 0o644); err == nil || !strings.Contains(err.Error(), target) {
		t.Fatalf("writeAtomic = %v, want an error naming %s", err, target)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"sentinel.conf"}) {
		t.Errorf("directory holds %q: the temporary file was left behind", names)
	}
}

// TestRemoveTempFiles: what a kill -9 during Save leaves is removed at
// start (issue 8), and nothing else.
func TestRemoveTempFiles(t *testing.T) {
	confDir, stateDir := t.TempDir(), t.TempDir()
	path := filepath.Join(confDir, "s[1].conf")
	writeFile(t, path, "dir "+stateDir+"\n", 0o644)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	left := []string{path + ".tmp-123", filepath.Join(stateDir, StateFileName+".tmp-9")}
	for _, p := range append(slices.Clone(left), filepath.Join(confDir, "other.tmp-1"), filepath.Join(stateDir, "keep")) {
		writeFile(t, p, "x", 0o644)
	}
	removed, err := RemoveTempFiles(c)
	if err != nil || !slices.Equal(removed, left) {
		t.Fatalf("removed %q, %v; want %q", removed, err, left)
	}
	if got := append(dirNames(t, confDir), dirNames(t, stateDir)...); !slices.Equal(got, []string{"other.tmp-1", "s[1].conf", "keep"}) {
		t.Fatalf("left %q", got)
	}
}
