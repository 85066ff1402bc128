// Package revision abbreviates commits, checksums and digests for people to
// read: in logs, reports, version strings and error messages. It is
// standard library only, so the serving runtime uses it too.
package revision

import "strings"

// Short is the first 12 characters of a commit, checksum or fingerprint:
// long enough to stay unique in any repository or registry modelci meets.
func Short(s string) string { return cut(s, 12) }

// Abbrev is the first 7 characters of a git commit, as git itself
// abbreviates one (core.abbrev's default).
func Abbrev(s string) string { return cut(s, 7) }

// Display abbreviates what a report names: a "sha256:" digest to its
// algorithm and Short hex digits, and a commit as Abbrev.
func Display(s string) string {
	if hex, ok := strings.CutPrefix(s, "sha256:"); ok {
		return "sha256:" + Short(hex)
	}
	return Abbrev(s)
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
