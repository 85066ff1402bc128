package cli

import (
	"github.com/modelci/modelci/internal/compare"
	"github.com/modelci/modelci/internal/proc"

	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/train"
)

// TestReportSaysUncommittedChanges: in a real repository, a challenger
// trained from a working tree whose tracked data differs from HEAD is
// reported as HEAD with uncommitted changes, by `modelci diff` and by the
// Differ of `modelci run`; a clean tree (untracked files aside) is not.
func TestReportSaysUncommittedChanges(t *testing.T) {
	t.Parallel()
	for _, edit := range []bool{false, true} {
		dir := project(t, map[string]string{"modelci.yaml": diffConfig, "data.csv": regressionCSV(200)})
		gitRun(t, dir, "init", "-q", "-b", "main")
		gitRun(t, dir, "add", "-A")
		gitRun(t, dir, "commit", "-q", "-m", "first")
		head := gitRun(t, dir, "rev-parse", "HEAD")
		// Untracked outputs never count.
		if err := os.MkdirAll(filepath.Join(dir, "dist", "modelci"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "dist", "modelci", "report.md"), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if edit {
			if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(regressionCSV(230)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		const phrase = " with **uncommitted changes**"
		wantLine := "**Challenger** `main` @ `" + head[:7] + "`"
		if edit {
			wantLine += phrase
		}

		env, stdout, stderr := testEnv()
		if err := Run(context.Background(), env, []string{"diff", "--config", filepath.Join(dir, "modelci.yaml"), "--baseline", "git:HEAD", "--workers", "1"}); err != nil {
			t.Fatalf("edit %v: %v\n%s", edit, err, stderr)
		}
		md := stdout.String()
		if !strings.Contains(md, wantLine+" ·") || strings.Contains(md, phrase) != edit {
			t.Errorf("edit %v: modelci diff: want %q:\n%s", edit, wantLine, md)
		}

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
		if !strings.Contains(d.Markdown, wantLine+" ·") || strings.Contains(d.Markdown, phrase) != edit {
			t.Errorf("edit %v: modelci run: want %q:\n%s", edit, wantLine, d.Markdown)
		}
		var back diff.Result
		if err := json.Unmarshal(d.JSON, &back); err != nil || back.Challenger.UncommittedChanges != edit {
			t.Errorf("edit %v: JSON uncommitted_changes = %v (%v)", edit, back.Challenger.UncommittedChanges, err)
		}
	}
}
