package cli

import (
	"github.com/modelci/modelci/internal/baseline"

	"github.com/modelci/modelci/internal/compare"
	"github.com/modelci/modelci/internal/proc"

	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/github"
	"github.com/modelci/modelci/internal/train"
)

const diffConfig = "name: demo\ndata:\n  path: data.csv\n  target: y\n  categorical: [city]\nmetrics: [rmse, r2]\n"

// trainBaseline trains the project's model into dir/base with the CLI.
func trainBaseline(t *testing.T, dir string) string {
	t.Helper()
	env, _, _ := testEnv()
	out := filepath.Join(dir, "base")
	if err := Run(context.Background(), env, []string{"train", "--config", filepath.Join(dir, "modelci.yaml"), "--out", out}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDiffCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		config string
		args   func(dir, base string) []string
		code   int
		check  func(t *testing.T, dir, stdout, stderr string)
	}{
		{
			name:   "markdown to a file",
			config: diffConfig + "gates:\n  - {metric: r2, min: 0.5}\n",
			args: func(dir, base string) []string {
				return []string{"--baseline", base, "--out", filepath.Join(dir, "report.md"), "--challenger-ref", "feature/x", "--challenger-sha", "0123456789abcdef"}
			},
			code: exitcode.OK,
			check: func(t *testing.T, dir, stdout, _ string) {
				b, err := os.ReadFile(filepath.Join(dir, "report.md"))
				if err != nil {
					t.Fatal(err)
				}
				md := string(b)
				for _, want := range []string{"<!-- modelci:report name=demo -->", "`feature/x` @ `0123456`", "| `rmse` ↓ |", "⚪ unchanged", "**Gates: ✅ passed**", "```mermaid"} {
					if !strings.Contains(md, want) {
						t.Errorf("report lacks %q", want)
					}
				}
				if !strings.Contains(stdout, "wrote "+filepath.Join(dir, "report.md")) || !strings.Contains(stdout, "gates passed") {
					t.Errorf("stdout %q", stdout)
				}
			},
		},
		{
			name:   "json to stdout",
			config: diffConfig,
			args:   func(_, base string) []string { return []string{"--baseline", base, "--format", "json"} },
			code:   exitcode.OK,
			check: func(t *testing.T, _, stdout, _ string) {
				var res diff.Result
				if err := json.Unmarshal([]byte(stdout), &res); err != nil {
					t.Fatalf("stdout is not a diff result: %v\n%s", err, stdout)
				}
				if res.SchemaVersion != diff.SchemaVersion || !res.Comparable || res.Baseline.Kind != "dir" || len(res.Metrics) != 2 {
					t.Errorf("result %+v", res)
				}
			},
		},
		{
			name:   "gate failed: exit 3 after writing the report",
			config: diffConfig + "gates:\n  - {metric: r2, max: 0.5}\n",
			args: func(dir, base string) []string {
				return []string{"--baseline", base, "--out", filepath.Join(dir, "report.md")}
			},
			code: exitcode.Gate,
			check: func(t *testing.T, dir, _, stderr string) {
				b, err := os.ReadFile(filepath.Join(dir, "report.md"))
				if err != nil {
					t.Fatalf("no report after a failed gate: %v", err)
				}
				if !strings.Contains(string(b), "❌ **gate failed**") {
					t.Error("the report does not show the failed gate")
				}
				if !strings.Contains(stderr, "quality gate(s) failed: r2 max 0.5") {
					t.Errorf("stderr %q", stderr)
				}
			},
		},
		{
			name:   "no baseline",
			config: diffConfig,
			args:   func(_, _ string) []string { return []string{"--baseline", "none"} },
			code:   exitcode.OK,
			check: func(t *testing.T, _, stdout, _ string) {
				if !strings.Contains(stdout, "**Champion** none") || !strings.Contains(stdout, "| metric | challenger | status |") {
					t.Errorf("report:\n%s", stdout)
				}
			},
		},
		{
			name:   "baseline from the config, relative to it",
			config: diffConfig + "baseline:\n  ref: base\n",
			args:   func(_, _ string) []string { return []string{"--format", "json"} },
			code:   exitcode.OK,
			check: func(t *testing.T, _, stdout, _ string) {
				if !strings.Contains(stdout, `"kind": "dir"`) {
					t.Errorf("report:\n%s", stdout)
				}
			},
		},
		{name: "auto needs a baseline", config: diffConfig, args: func(_, _ string) []string { return nil }, code: exitcode.Usage,
			check: expectStderr("diff needs a baseline")},
		{name: "bad format", config: diffConfig, args: func(_, base string) []string { return []string{"--baseline", base, "--format", "xml"} }, code: exitcode.Usage,
			check: expectStderr("--format must be markdown or json")},
		{name: "bad git spec", config: diffConfig, args: func(_, _ string) []string { return []string{"--baseline", "git:"} }, code: exitcode.Usage,
			check: expectStderr("git:<ref>")},
		{name: "not a model directory", config: diffConfig, args: func(dir, _ string) []string { return []string{"--baseline", dir} }, code: exitcode.Usage,
			check: expectStderr("not a model directory")},
		{name: "registry not configured", config: diffConfig, args: func(_, _ string) []string { return []string{"--baseline", "registry"} }, code: exitcode.Usage,
			check: expectStderr("no registry client")},
		{name: "gate on an unknown metric", config: diffConfig + "gates:\n  - {metric: auc, min: 0.5}\n", args: func(_, _ string) []string { return []string{"--baseline", "none"} }, code: exitcode.Usage,
			check: expectStderr(`gates[0].metric: unknown metric "auc"`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := project(t, map[string]string{"modelci.yaml": diffConfig, "data.csv": regressionCSV(300)})
			base := trainBaseline(t, dir)
			if err := os.WriteFile(filepath.Join(dir, "modelci.yaml"), []byte(c.config), 0o644); err != nil {
				t.Fatal(err)
			}
			env, stdout, stderr := testEnv()
			args := append([]string{"diff", "--config", filepath.Join(dir, "modelci.yaml"), "--workers", "1"}, c.args(dir, base)...)
			err := Run(context.Background(), env, args)
			if got := exitcode.Of(err); got != c.code {
				t.Fatalf("exit %d, want %d: %v\nstderr: %s", got, c.code, err, stderr)
			}
			c.check(t, dir, stdout.String(), stderr.String())
		})
	}
}

func expectStderr(want string) func(*testing.T, string, string, string) {
	return func(t *testing.T, _, _, stderr string) {
		t.Helper()
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not say %q", stderr, want)
		}
	}
}

// TestDiffModelFlag: --model compares a saved challenger and warns when it
// was trained on other data than the config's.
func TestDiffModelFlag(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{"modelci.yaml": diffConfig, "data.csv": regressionCSV(300)})
	base := trainBaseline(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(regressionCSV(320)), 0o644); err != nil {
		t.Fatal(err)
	}
	env, stdout, stderr := testEnv()
	err := Run(context.Background(), env, []string{"diff", "--config", filepath.Join(dir, "modelci.yaml"), "--baseline", base, "--model", base, "--format", "json"})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var res diff.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) == 0 || !strings.HasPrefix(res.Warnings[0], "DATA MISMATCH") {
		t.Errorf("warnings %q", res.Warnings)
	}
	if res.Challenger.Data.Rows != 320 {
		t.Errorf("challenger rows %d, want the config's current data (320)", res.Challenger.Data.Rows)
	}
}

// gitRun runs git for test setup with a fixed identity.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestDiffGitBaseline runs `modelci diff --baseline git:HEAD~1` in a
// throwaway repository with two commits: the champion is trained from the
// first commit's config and data.
func TestDiffGitBaseline(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{"modelci.yaml": diffConfig, "data.csv": regressionCSV(200)})
	gitRun(t, dir, "init", "-q", "-b", "main")
	gitRun(t, dir, "add", "-A")
	gitRun(t, dir, "commit", "-q", "-m", "first")
	first := gitRun(t, dir, "rev-parse", "HEAD")
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(regressionCSV(260)), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, dir, "commit", "-q", "-am", "more data")
	head := gitRun(t, dir, "rev-parse", "HEAD")

	env, stdout, stderr := testEnv()
	err := Run(context.Background(), env, []string{"diff", "--config", filepath.Join(dir, "modelci.yaml"), "--baseline", "git:HEAD~1", "--workers", "1"})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	md := stdout.String()
	for _, want := range []string{"**Champion** `HEAD~1` @ `" + first[:7] + "`", "**Challenger** `main` @ `" + head[:7] + "`", "| rows | 200 | 260 (+60) |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if wt := gitRun(t, dir, "worktree", "list"); strings.Count(wt, "\n") != 0 {
		t.Errorf("worktrees left:\n%s", wt)
	}
}

// TestRunComparer: the comparer of `modelci run` renders the same report,
// with the marker the comment poster looks for.
func TestRunComparer(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{"modelci.yaml": diffConfig + "gates:\n  - {metric: r2, max: 0.5}\n", "data.csv": regressionCSV(300)})
	cfg, err := config.Load(filepath.Join(dir, "modelci.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Train(context.Background(), cfg, train.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, err := comparer(proc.Env{Run: proc.Exec}, 1).Compare(context.Background(), compare.Request{Config: cfg, Challenger: diff.ChallengerFromTraining(cfg, res), Baseline: noBaseline, Dir: dir, Trained: true})
	if err != nil {
		t.Fatal(err)
	}
	marker := github.Marker(cfg.Name)
	if !strings.Contains(d.Markdown, marker) {
		t.Errorf("the report lacks the marker %q", marker)
	}
	if d.GatesPassed || d.Regressed {
		t.Errorf("gates passed %t, regressed %t; want a failed gate and no regression without a baseline", d.GatesPassed, d.Regressed)
	}
	var back diff.Result
	if err := json.Unmarshal(d.JSON, &back); err != nil || back.Name != "demo" {
		t.Errorf("JSON: %v %q", err, back.Name)
	}
	// On a GitLab or Jenkins PR the report names the PR's head, not the
	// merge commit CI checked out.
	const head = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	d, err = comparer(proc.Env{Run: proc.Exec}, 1).Compare(context.Background(), compare.Request{Config: cfg, Challenger: diff.ChallengerFromTraining(cfg, res), Baseline: noBaseline, Dir: dir, Trained: true, Ref: "better-model", SHA: head})
	if err != nil {
		t.Fatal(err)
	}
	back = diff.Result{}
	if err := json.Unmarshal(d.JSON, &back); err != nil || back.Challenger.SHA != head || back.Challenger.Ref != "better-model" {
		t.Errorf("challenger %+v: %v", back.Challenger, err)
	}
	if !strings.Contains(d.Markdown, head[:7]) {
		t.Errorf("the report does not name the PR head %s:\n%s", head[:7], d.Markdown)
	}
}

// noBaseline is the spec "none": the challenger alone.
var noBaseline = baseline.Spec{Kind: baseline.KindNone, Raw: "none"}
