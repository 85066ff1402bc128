package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
)

// TestServe covers `modelci serve`: flags and environment variables, a
// clean start and stop, and the exit codes of bad settings and bad models.
func TestServe(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{"modelci.yaml": minimalConfig, "data.csv": regressionCSV(200)})
	modelDir := filepath.Join(dir, "model")
	env, _, _ := testEnv()
	if err := Run(context.Background(), env, []string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", modelDir}); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel() // serve starts, then shuts down at once
	cases := []struct {
		name   string
		args   []string
		vars   map[string]string
		code   int
		substr string // in stderr
	}{
		{"serves and stops", []string{"serve", "--model", modelDir, "--addr", "127.0.0.1:0"}, nil, exitcode.OK, "stopped: all in-flight requests answered"},
		{"settings from the environment", []string{"serve"}, map[string]string{"MODELCI_MODEL_DIR": modelDir, "MODELCI_ADDR": "127.0.0.1:0", "MODELCI_LOG_FORMAT": "json"}, exitcode.OK, `"msg":"serving model"`},
		{"flag wins over environment", []string{"serve", "--model", modelDir}, map[string]string{"MODELCI_MODEL_DIR": "/nonexistent", "MODELCI_ADDR": "127.0.0.1:0"}, exitcode.OK, "serving model"},
		{"no model", []string{"serve"}, nil, exitcode.Usage, "serve needs --model DIR"},
		{"bad flag value", []string{"serve", "--model", modelDir, "--max-rows", "0"}, nil, exitcode.Usage, "positive integer"},
		{"bad environment value", []string{"serve", "--model", modelDir}, map[string]string{"MODELCI_LOG_FORMAT": "xml"}, exitcode.Usage, "MODELCI_LOG_FORMAT"},
		{"not a model directory", []string{"serve", "--model", dir, "--addr", "127.0.0.1:0"}, nil, exitcode.Failure, "model.json"},
		{"model and image", []string{"serve", "--model", modelDir, "--image", "oci:" + dir}, map[string]string{"MODELCI_MODEL_DIR": modelDir}, exitcode.Usage, "--model or --image, not both"},
		{"image wins over the environment", []string{"serve", "--image", "oci:" + filepath.Join(dir, "no-layout")}, map[string]string{"MODELCI_MODEL_DIR": modelDir}, exitcode.Failure, "serve --image oci:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env, _, stderr := testEnv()
			env.Getenv = func(k string) string { return c.vars[k] }
			err := Run(canceled, env, c.args)
			if got := exitcode.Of(err); got != c.code {
				t.Fatalf("exit %d, want %d (%v)\n%s", got, c.code, err, stderr)
			}
			if !strings.Contains(stderr.String(), c.substr) {
				t.Errorf("stderr lacks %q:\n%s", c.substr, stderr)
			}
		})
	}
}
