// Package atomicfile provides all-or-nothing writes of files and
// directories: content goes to a temporary name in the same directory and is
// renamed into place only once it is complete, so a failed or interrupted run
// never leaves a half-written artifact.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// WriteFile writes data to path atomically with the given permissions.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteDir replaces the model directory dir with one holding exactly files
// (name → content). The new directory is written under a temporary name
// next to dir and swapped in; if anything fails, dir is left as it was. An
// existing dir is replaced only if Replaceable(dir, ModelDir) allows it.
func WriteDir(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for name := range files {
		if name != filepath.Base(name) || name == "." || name == ".." {
			return fmt.Errorf("write %s: file name %q is not a plain name", dir, name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return ReplaceDir(dir, ModelDir, func(tmp string) error {
		for _, name := range names {
			if err := writeSynced(filepath.Join(tmp, name), files[name]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReplaceDir replaces the directory dir, an artifact of kind k, with one
// that fill writes. An existing dir that Replaceable refuses is left
// untouched and the error wraps ErrRefused. fill gets an empty directory
// under a temporary name next to dir (".NAME.tmp-PID-*"), which is then
// swapped in: atomically with renameat2(RENAME_EXCHANGE) where the system
// has it, else with two renames, the old directory being moved aside to
// the temporary name plus ".old" for the moment in between. If fill or the
// swap fails, dir is left as it was and the temporary directory removed.
//
// Leftovers of a run that was killed (its process no longer exists) are
// cleaned up first: if dir is missing but the run had moved it aside, it
// is moved back; stale temporary directories are removed.
func ReplaceDir(dir string, k Kind, fill func(tmp string) error) error {
	return replaceDir(dir, k, fill, exchange)
}

// replaceDir is ReplaceDir with the atomic exchange injected.
func replaceDir(dir string, k Kind, fill func(tmp string) error, exchange func(a, b string) error) (err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	parent, base := filepath.Split(abs)
	if err := recoverLeftovers(parent, base); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if err := Replaceable(dir, k); err != nil {
		return err
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, tempPrefix(base)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if err := fill(tmp); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	fi, statErr := os.Lstat(abs)
	switch {
	case errors.Is(statErr, os.ErrNotExist):
		if err := os.Rename(tmp, abs); err != nil {
			return fmt.Errorf("write %s: %w", dir, err)
		}
		return nil
	case statErr != nil:
		return fmt.Errorf("write %s: %w", dir, statErr)
	case !fi.IsDir():
		return fmt.Errorf("write %s: %w: it exists and is not a directory", dir, ErrRefused)
	}
	if exchange(tmp, abs) == nil {
		// tmp now holds the old directory.
		_ = os.RemoveAll(tmp)
		return nil
	}
	old := tmp + oldSuffix
	if err := os.Rename(abs, old); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		_ = os.Rename(old, abs)
		return fmt.Errorf("write %s: %w", dir, err)
	}
	_ = os.RemoveAll(old)
	return nil
}

// oldSuffix marks the old directory moved aside during a two-rename swap.
const oldSuffix = ".old"

func tempPrefix(base string) string { return "." + base + ".tmp-" }

// recoverLeftovers cleans up after runs that were killed while replacing
// parent/base: a directory moved aside is moved back if base is missing,
// and temporary directories are removed. Only names of the form
// ".BASE.tmp-PID-N[.old]" whose PID is not a live process, and
// ".BASE.tmp-N.old" of earlier releases, are touched (see deadRun).
func recoverLeftovers(parent, base string) error {
	entries, err := os.ReadDir(parent)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	prefix := tempPrefix(base)
	var stale, olds []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		rest, isOld := strings.CutSuffix(rest, oldSuffix)
		if !deadRun(rest, isOld) {
			continue
		}
		if isOld {
			olds = append(olds, e.Name())
		} else {
			stale = append(stale, e.Name())
		}
	}
	target := filepath.Join(parent, base)
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) && len(olds) > 0 {
		// A killed run had moved the directory aside; at most one run at a
		// time gets that far, so the newest is the one to restore.
		sort.Slice(olds, func(i, j int) bool { return modTime(parent, olds[i]) > modTime(parent, olds[j]) })
		if err := os.Rename(filepath.Join(parent, olds[0]), target); err != nil {
			return fmt.Errorf("restore %s left by a killed run: %w", olds[0], err)
		}
		olds = olds[1:]
	}
	for _, name := range append(stale, olds...) {
		if err := os.RemoveAll(filepath.Join(parent, name)); err != nil {
			return fmt.Errorf("remove %s left by a killed run: %w", name, err)
		}
	}
	return nil
}

// deadRun reports whether the temporary name suffix (what follows
// ".BASE.tmp-", without ".old") belongs to a run that no longer runs: its
// "PID-N" names a process that does not exist. Releases before the PID was
// part of the name used "N" alone; such a directory moved aside (".old") is
// a leftover too, since a live run of those releases removes or restores
// it itself, but their temporary directories cannot be told from a live
// run's and are left alone.
func deadRun(suffix string, isOld bool) bool {
	digits := func(s string) bool {
		_, err := strconv.ParseUint(s, 10, 64)
		return err == nil
	}
	pid, n, ok := strings.Cut(suffix, "-")
	if !ok {
		return isOld && digits(suffix)
	}
	p, err := strconv.Atoi(pid)
	return err == nil && p > 0 && digits(n) && !processAlive(p)
}

func modTime(parent, name string) int64 {
	fi, err := os.Lstat(filepath.Join(parent, name))
	if err != nil {
		return 0
	}
	return fi.ModTime().UnixNano()
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
