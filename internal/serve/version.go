package serve

import (
	"runtime/debug"

	"github.com/modelci/modelci/internal/revision"
)

// versionOf reports the version a binary was built from, given its build
// information (debug.ReadBuildInfo): the module version when it is known
// (go install module@v1.2.3), else the VCS revision stamped by go build in
// a checkout (its first 12 hex digits, "+dirty" when the tree had local
// changes), else "devel".
func versionOf(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	rev = revision.Short(rev)
	if dirty {
		rev += "+dirty"
	}
	return rev
}
