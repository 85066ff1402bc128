package atomicfile

import (
	"errors"

	"golang.org/x/sys/unix"
)

// exchange swaps the directories a and b atomically, so b never stops
// existing. It fails (and changes nothing) where the file system does not
// support RENAME_EXCHANGE; the caller then falls back to two renames.
func exchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}

// processAlive reports whether a process with this id exists (signal 0
// probes without sending).
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
