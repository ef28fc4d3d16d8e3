package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Load reads the config file at path, makes every path in it absolute and
// overlays the state file (see Save) when that holds state at least as new
// as the file's: its myid, current-epoch and, for masters the file still
// monitors, the address, epochs and known replicas and sentinels win.
func Load(path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	c, err := Parse(abs, data)
	if err != nil {
		return nil, err
	}
	if err := overlayState(c); err != nil {
		return nil, err
	}
	return c, nil
}

// StatePath is where Save puts the state file for c.
func StatePath(c *Config) string {
	dir := c.Dir
	if dir == "" {
		dir = filepath.Dir(c.Path)
	}
	return filepath.Join(dir, StateFileName)
}

func overlayState(c *Config) error {
	path := StatePath(c)
	if path == c.Path {
		return nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load state file: %w", err)
	}
	// Paths in it are relative to dir, where the daemon runs.
	st, err := parseIn(path, data, c.Dir)
	if err != nil {
		return fmt.Errorf("load state file: %w", err)
	}
	// Epochs only grow, so a state file behind the config file's epoch was
	// superseded by a later rewrite of the config file.
	if st.CurrentEpoch < c.CurrentEpoch {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: ignored: current-epoch %d is older than %d in %s",
			path, st.CurrentEpoch, c.CurrentEpoch, c.Path))
		return nil
	}
	if st.MyID != "" {
		c.MyID = st.MyID
	}
	c.CurrentEpoch = st.CurrentEpoch
	if st.Users != nil {
		c.Users = st.Users
	}
	for _, s := range st.Masters {
		// The config file decides which masters exist; the state file
		// holds all of their lines.
		if m := c.Master(s.Name); m != nil {
			*m = *s
		}
	}
	return nil
}

// RemoveTempFiles removes what an interrupted Save left behind: the
// temporary files next to the config file and the state file. It returns
// the paths removed.
func RemoveTempFiles(c *Config) ([]string, error) {
	var removed []string
	for _, target := range []string{c.Path, StatePath(c)} {
		matches, err := filepath.Glob(filepath.Join(filepath.Dir(target), globEscape(filepath.Base(target))+".tmp-*"))
		if err != nil {
			return removed, fmt.Errorf("remove temporary files: %w", err)
		}
		for _, m := range matches {
			if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, fmt.Errorf("remove temporary file: %w", err)
			}
			removed = append(removed, m)
		}
	}
	return removed, nil
}

// globEscape quotes filepath.Match's special characters.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Save rewrites c.Path with Render over its current content on disk, via a
// temporary file in the same directory, fsync, rename and directory fsync.
// When that fails (a read-only ConfigMap, say) it writes the state lines
// the same way to StatePath(c) and reports stateFile=true. The error, when
// both fail, names the paths; callers answer "-ERR Failed to save config
// file. Check server logs.".
func Save(c *Config) (stateFile bool, err error) {
	if c.Path == "" {
		return false, errors.New("save config: no config file path")
	}
	statePath := StatePath(c)
	mainErr := saveConfig(c)
	if mainErr == nil {
		if statePath == c.Path {
			return false, nil
		}
		// A leftover state file would shadow the state just written.
		if err := os.Remove(statePath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("save config: remove stale state file: %w", err)
		}
		return false, nil
	}
	if !readOnly(mainErr) {
		// Anything but a read-only file (the path became a directory, the
		// disk is full) is an error to report, as Redis does.
		return false, mainErr
	}
	if err := writeAtomic(statePath, renderState(c), 0o644); err != nil {
		return false, errors.Join(mainErr, fmt.Errorf("save state file: %w", err))
	}
	return true, nil
}

func saveConfig(c *Config) error {
	st, err := os.Stat(c.Path)
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	orig, err := os.ReadFile(c.Path)
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := writeAtomic(c.Path, Render(orig, c), st.Mode().Perm()); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// writeAtomic replaces path with data so that a crash leaves either the old
// or the new content, never a mix.
func writeAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	err = writeSynced(f, data, perm)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", tmp, cerr)
	}
	if err == nil {
		if rerr := os.Rename(tmp, path); rerr != nil {
			err = fmt.Errorf("rename %s to %s: %w", tmp, path, rerr)
		}
	}
	if err != nil {
		_ = os.Remove(tmp) // best effort: the write already failed
		return err
	}
	return syncDir(dir)
}

func writeSynced(f *os.File, data []byte, perm fs.FileMode) error {
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", f.Name(), err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// readOnly: the config file cannot be written by design (a ConfigMap, a
// read-only root file system), so state belongs in the state file.
func readOnly(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}
