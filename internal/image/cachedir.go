package image

import (
	"os"
	"path/filepath"
)

// RuntimeCacheDir returns the directory of the runtime build cache,
// <base>/modelci/runtime, on the first base that can hold it: the user
// cache directory (userCacheDir, os.UserCacheDir: $XDG_CACHE_HOME or
// $HOME/.cache), then $RUNNER_TEMP, $TMPDIR and tempDir() (os.TempDir). A
// base is skipped when it is not absolute or the directory cannot be
// created and written, as when a CI job runs as an arbitrary uid with HOME
// unset, "/" or read-only. "" means no cache: the runtime is built
// without one.
func RuntimeCacheDir(getenv func(string) string, userCacheDir func() (string, error), tempDir func() string) string {
	var bases []string
	if d, err := userCacheDir(); err == nil {
		bases = append(bases, d)
	}
	bases = append(bases, getenv("RUNNER_TEMP"), getenv("TMPDIR"), tempDir())
	for _, base := range bases {
		if base == "" || !filepath.IsAbs(base) {
			continue
		}
		dir := filepath.Join(base, "modelci", "runtime")
		if writableDir(dir) {
			return dir
		}
	}
	return ""
}

// writableDir creates dir if needed and checks that a file can be
// created in it.
func writableDir(dir string) bool {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name) == nil
}
