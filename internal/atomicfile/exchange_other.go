//go:build !linux

package atomicfile

import "errors"

// exchange is not available: the caller falls back to two renames.
func exchange(a, b string) error { return errors.New("RENAME_EXCHANGE is not supported") }

// processAlive cannot tell, so leftovers are never taken for a dead run's.
func processAlive(int) bool { return true }
