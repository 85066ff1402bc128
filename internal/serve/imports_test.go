package serve

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// forbidden are the modules the slim serving runtime must never link: the
// GitHub and registry clients and the CLI framework (with their usual
// companions), the training stack, and modelci's own CI, API-client,
// image and comparison packages.
var forbidden = []string{
	"github.com/google/go-github",
	"github.com/google/go-containerregistry",
	"github.com/spf13/cobra",
	"github.com/spf13/pflag",
	"github.com/sethvargo/go-githubactions",
	"github.com/goccy/go-yaml",
	"gonum.org/v1/gonum",
	"github.com/modelci/modelci/internal/cli",
	"github.com/modelci/modelci/internal/train",
	// CI, GitHub, GitLab, registries and the comparison pipeline.
	"github.com/modelci/modelci/internal/action",
	"github.com/modelci/modelci/internal/ci",
	"github.com/modelci/modelci/internal/compare",
	"github.com/modelci/modelci/internal/github",
	"github.com/modelci/modelci/internal/gitlab",
	"github.com/modelci/modelci/internal/image",
	"github.com/modelci/modelci/internal/workflow",
}

// TestImports lists the dependencies of the runtime with `go list -deps`
// and fails if any is forbidden.
func TestImports(t *testing.T) {
	t.Parallel()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	cmd := exec.Command(gobin, "list", "-deps", "-json=ImportPath,Standard", "../../cmd/modelci-serve", ".")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var deps []string
	for {
		var p struct {
			ImportPath string
			Standard   bool
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		if !p.Standard {
			deps = append(deps, p.ImportPath)
		}
	}
	// The list must be the real one: it holds what the runtime does use.
	for _, want := range []string{"github.com/modelci/modelci/internal/model", "github.com/modelci/modelci/internal/profile", "github.com/prometheus/client_golang/prometheus"} {
		if !slices.Contains(deps, want) {
			t.Fatalf("go list -deps lacks %s; got %v", want, deps)
		}
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("the serving runtime depends on %s (forbidden: %s)", d, f)
			}
		}
	}
	t.Logf("%d non-standard packages: %s", len(deps), strings.Join(deps, " "))
}
