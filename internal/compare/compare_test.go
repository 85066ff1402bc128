package compare

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/baseline"
	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/sticky"
	"github.com/modelci/modelci/internal/train"
)

// project writes a regression project (y = 2·x1 − 3·x2 + noise) with the
// given gates and returns its config and training run.
func project(t *testing.T, dir, gates string, noise float64) (*config.Config, *train.Result) {
	t.Helper()
	var b strings.Builder
	b.WriteString("x1,x2,y\n")
	for i := 0; i < 300; i++ {
		x1, x2 := float64(i%17)*1.5, float64((i*7)%11)-5
		y := 2*x1 - 3*x2 + noise*float64(i%5-2)
		fmt.Fprintf(&b, "%s,%s,%s\n", ftoa(x1), ftoa(x2), ftoa(y))
	}
	files := map[string]string{
		"modelci.yaml": "name: demo\ndata:\n  path: data.csv\n  target: y\nmetrics: [rmse, r2]\n" + gates,
		"data.csv":     b.String(),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(filepath.Join(dir, "modelci.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Train(context.Background(), cfg, train.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, res
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func spec(t *testing.T, s string) baseline.Spec {
	t.Helper()
	sp, err := baseline.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// git runs git in dir with a fixed identity.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestCompare(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	champDir := t.TempDir()
	_, champ := project(t, champDir, "", 4)
	if err := train.Write(filepath.Join(champDir, "model"), champ); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		gates    string
		baseline string
		detached bool
		edit     bool
		env      map[string]string
		req      func(r *Request)
		// want
		ref, summary string
		champion     bool
		gateErr      bool
		uncommitted  bool
	}{
		{
			name: "no baseline, a failed absolute gate", gates: "gates:\n  - {metric: r2, max: 0.5}\n", baseline: "none",
			ref: "main", summary: "no baseline; 1 gate check(s) FAILED", gateErr: true,
		},
		{
			name: "a directory champion with more noise: the challenger is better", baseline: filepath.Join(champDir, "model"),
			ref: "main", summary: "2 better, 0 worse", champion: true,
		},
		{
			name: "a detached checkout is named by the CI's branch", baseline: "none", detached: true,
			env: map[string]string{"GITHUB_HEAD_REF": "feature/x"}, ref: "feature/x", summary: "no baseline; no gates",
		},
		{
			name: "the PR head named by the request wins over git", baseline: "none",
			req: func(r *Request) { r.Ref, r.SHA = "better-model", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678" },
			ref: "better-model", summary: "no gates",
		},
		{
			name: "uncommitted changes of a trained challenger are flagged", baseline: "none", edit: true,
			ref: "main", summary: "no gates", uncommitted: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg, res := project(t, dir, tc.gates, 0.1)
			git(t, dir, "init", "-q", "-b", "main")
			git(t, dir, "add", ".")
			git(t, dir, "commit", "-q", "-m", "project")
			if tc.detached {
				git(t, dir, "checkout", "-q", "--detach")
			}
			if tc.edit {
				if err := os.WriteFile(filepath.Join(dir, "modelci.yaml"), []byte("name: demo\ndata:\n  path: data.csv\n  target: y\nmetrics: [rmse, r2, mae]\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c := &Comparer{Env: proc.Env{Run: proc.Exec, Getenv: func(k string) string { return tc.env[k] }}, Workers: 1}
			req := Request{Config: cfg, Challenger: diff.ChallengerFromTraining(cfg, res), Baseline: spec(t, tc.baseline), Dir: dir, Trained: true}
			if tc.req != nil {
				tc.req(&req)
			}
			rep, err := c.Compare(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rep.Markdown, sticky.Marker("demo")) || len(rep.JSON) == 0 {
				t.Errorf("the report lacks the marker or the JSON:\n%s", rep.Markdown)
			}
			if got := rep.Result.Challenger.Ref; got != tc.ref {
				t.Errorf("challenger ref %q, want %q", got, tc.ref)
			}
			if got := rep.Result.Challenger.UncommittedChanges; got != tc.uncommitted {
				t.Errorf("uncommitted changes %v, want %v", got, tc.uncommitted)
			}
			if !strings.Contains(rep.Summary(), tc.summary) {
				t.Errorf("summary %q, want it to contain %q", rep.Summary(), tc.summary)
			}
			if (rep.Result.Champion != nil) != tc.champion {
				t.Errorf("champion %+v, want one: %v", rep.Result.Champion, tc.champion)
			}
			gerr := rep.GateError()
			if (gerr != nil) != tc.gateErr || rep.GatesPassed == tc.gateErr {
				t.Errorf("gate error %v, gates passed %v; want failed: %v", gerr, rep.GatesPassed, tc.gateErr)
			}
			if gerr != nil && (exitcode.Of(gerr) != exitcode.Gate || !strings.Contains(gerr.Error(), "r2 max 0.5")) {
				t.Errorf("gate error %q (exit %d)", gerr, exitcode.Of(gerr))
			}
		})
	}
}

// TestCompareRegistryFallback: a registry baseline without an image yet
// (the first release) falls back, and the report says so; without a
// registry it is a configuration error.
func TestCompareRegistryFallback(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, res := project(t, dir, "", 0.1)
	cfg.Image.Repository = "registry.example.com/acme/demo"
	var asked []string
	c := &Comparer{Workers: 1, Registry: func(repo, user, pass string) baseline.Registry {
		asked = append(asked, repo+" "+user+":"+pass)
		return emptyRegistry{}
	}}
	none := spec(t, "none")
	req := Request{Config: cfg, Challenger: diff.ChallengerFromTraining(cfg, res), Baseline: spec(t, "registry"), Fallback: &none, Ref: "main", SHA: "abc", Username: "u", Password: "p"}
	rep, err := c.Compare(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != "registry.example.com/acme/demo u:p" {
		t.Errorf("registry opened as %q", asked)
	}
	if w := strings.Join(rep.Result.Warnings, "\n"); !strings.Contains(w, "compared with none instead") {
		t.Errorf("warnings %q", w)
	}
	c.Registry = nil
	req.Fallback = nil
	if _, err := c.Compare(context.Background(), req); !errors.Is(err, baseline.ErrNotConfigured) {
		t.Errorf("no registry: %v, want ErrNotConfigured", err)
	}
}

func TestCompareNeedsChallenger(t *testing.T) {
	t.Parallel()
	if _, err := (&Comparer{}).Compare(context.Background(), Request{}); err == nil {
		t.Fatal("no error without a config and a challenger")
	}
}

type emptyRegistry struct{}

func (emptyRegistry) FetchModel(context.Context, string, string) (string, string, error) {
	return "", "", fmt.Errorf("%w: no such tag", baseline.ErrNoModel)
}
