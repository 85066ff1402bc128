package cli

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
)

// tree records every path under root with its mode and content.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		v := fi.Mode().String()
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			v += " " + string(b)
		}
		out[path] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTrainOutRefused: `modelci train --out DIR` never deletes what is at
// DIR unless it is empty or a model directory: the project directory
// itself (a git checkout) and a dist/ with other files survive byte for
// byte, with exit code 2.
func TestTrainOutRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		out  func(dir string) string
	}{
		{"the project directory", func(dir string) string { return dir }},
		{"a dist with other files", func(dir string) string { return filepath.Join(dir, "dist") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := project(t, map[string]string{
				"modelci.yaml":       minimalConfig,
				"data.csv":           regressionCSV(60),
				".git/HEAD":          "ref: refs/heads/main\n",
				".git/config":        "[core]\n",
				"dist/app.tar.gz":    "release",
				"dist/notes/one.txt": "keep me",
			})
			before := tree(t, filepath.Dir(dir))
			env, _, stderr := testEnv()
			err := Run(context.Background(), env, []string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", tc.out(dir)})
			if got := exitcode.Of(err); got != exitcode.Usage {
				t.Fatalf("exit code %d, want %d (%v)", got, exitcode.Usage, err)
			}
			if !strings.Contains(stderr.String(), "refusing to replace") {
				t.Errorf("stderr: %s", stderr)
			}
			after := tree(t, filepath.Dir(dir))
			if len(after) != len(before) {
				t.Errorf("%d paths before, %d after", len(before), len(after))
			}
			for p, v := range before {
				if after[p] != v {
					t.Errorf("%s changed", p)
				}
			}
		})
	}
	// A model directory is replaced, as before.
	dir := project(t, map[string]string{"modelci.yaml": minimalConfig, "data.csv": regressionCSV(60)})
	out := filepath.Join(dir, "dist", "model")
	for range 2 {
		env, _, stderr := testEnv()
		if err := Run(context.Background(), env, []string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", out}); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
	}
}

// TestConfigNotRegular: --config /dev/zero is a usage error, at once.
func TestConfigNotRegular(t *testing.T) {
	t.Parallel()
	env, _, _ := testEnv()
	err := Run(context.Background(), env, []string{"train", "-c", "/dev/zero", "-o", filepath.Join(t.TempDir(), "m")})
	if got := exitcode.Of(err); got != exitcode.Usage || !strings.Contains(err.Error(), "/dev/zero") {
		t.Fatalf("exit code %d, error %v", got, err)
	}
}
