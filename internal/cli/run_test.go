package cli

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/action"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/image/imagetest"
	"github.com/modelci/modelci/internal/train"
)

// TestRunCommand drives `modelci run` through the CLI: exit codes and the
// messages that reach the log.
func TestRunCommand(t *testing.T) {
	t.Parallel()
	events, err := filepath.Abs(filepath.Join("..", "..", "testdata", "events"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		env   map[string]string
		args  []string
		code  int
		out   []string
		lacks []string
	}{
		{
			name: "pull_request_target is refused",
			env: map[string]string{
				"GITHUB_EVENT_NAME": "pull_request_target",
				"GITHUB_EVENT_PATH": filepath.Join(events, "pull_request_target.json"),
				"GITHUB_REPOSITORY": "acme/house-prices",
			},
			code: exitcode.Usage,
			out:  []string{"::error title=modelci refuses pull_request_target::", "allow_pull_request_target"},
		},
		{
			name: "a push to another branch trains, reports and succeeds",
			env: map[string]string{
				"GITHUB_EVENT_NAME":       "push",
				"GITHUB_EVENT_PATH":       filepath.Join(events, "push_branch.json"),
				"GITHUB_REPOSITORY":       "acme/house-prices",
				"INPUT_WORKING_DIRECTORY": "WS",
			},
			code: exitcode.OK,
			out:  []string{"::group::Train", "rmse", "baseline none"},
		},
		{
			name: "an invalid input",
			env: map[string]string{
				"GITHUB_EVENT_NAME":  "push",
				"INPUT_FAIL_ON_GATE": "maybe",
				"INPUT_GITHUB_TOKEN": "ghs_secret_value",
			},
			code: exitcode.Usage,
			out:  []string{"::add-mask::ghs_secret_value", "fail_on_gate: want true or false"},
		},
		{
			name: "outside any CI without a config",
			env:  map[string]string{"MODELCI_WORKING_DIRECTORY": "WS", "MODELCI_CONFIG": "nope.yaml"},
			code: exitcode.Usage,
			out:  []string{"nope.yaml", "no such file"},
		},
		{
			name:  "another CI with --event other",
			env:   map[string]string{"MODELCI_WORKING_DIRECTORY": "WS"},
			args:  []string{"--event", "other"},
			code:  exitcode.OK,
			out:   []string{"modelci run on generic: flags (other)", "==> Train", "report written to WS/modelci-report.md"},
			lacks: []string{"::group::"},
		},
		{
			name: "a bad --event",
			env:  map[string]string{"MODELCI_WORKING_DIRECTORY": "WS"},
			args: []string{"--event", "deploy"},
			code: exitcode.Usage,
			out:  []string{`--event "deploy": want pr, push, other or local`},
		},
		{
			name: "a bad --pr-number from the environment",
			env:  map[string]string{"MODELCI_WORKING_DIRECTORY": "WS", "MODELCI_PR_NUMBER": "abc"},
			code: exitcode.Usage,
			out:  []string{`--pr-number "abc": want a positive whole number`},
		},
		{
			name: "a GitLab merge request with only the job token: no note, exit 0",
			env: map[string]string{
				"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "3",
				"CI_MERGE_REQUEST_PROJECT_ID": "12", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
				"CI_PROJECT_DIR": "WS", "CI_JOB_TOKEN": "glcbt-secret-job-token", "MODELCI_BASELINE": "none",
			},
			code:  exitcode.OK,
			out:   []string{"section_start:", "warning: no MR note: MODELCI_GITLAB_TOKEN is not set", "report written to modelci-report.md"},
			lacks: []string{"glcbt-secret-job-token", "::"},
		},
		{
			name: "a Jenkins branch build",
			env:  map[string]string{"JENKINS_URL": "https://jenkins.example.com/", "BRANCH_NAME": "feature", "WORKSPACE": "WS"},
			code: exitcode.OK,
			out:  []string{"modelci run on jenkins: branch (other)", "==> Train"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := project(t, map[string]string{"modelci.yaml": minimalConfig, "data.csv": regressionCSV(40)})
			var out, errb bytes.Buffer
			env := Env{
				Stdin:  strings.NewReader(""),
				Stdout: &out,
				Stderr: &errb,
				Getenv: func(k string) string {
					v := tc.env[k]
					return strings.ReplaceAll(v, "WS", dir)
				},
				Environ: func() []string { return nil },
			}
			err := Run(context.Background(), env, append([]string{"run"}, tc.args...))
			if got := exitcode.Of(err); got != tc.code {
				t.Fatalf("exit %d, want %d (%v)\n%s", got, tc.code, err, out.String())
			}
			all := out.String() + errb.String()
			for _, s := range tc.out {
				if !strings.Contains(all, strings.ReplaceAll(s, "WS", dir)) {
					t.Errorf("output lacks %q:\n%s", s, all)
				}
			}
			for _, s := range tc.lacks {
				if strings.Contains(all, s) {
					t.Errorf("output has %q:\n%s", s, all)
				}
			}
		})
	}
}

func TestRunExitError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		code int
	}{
		{nil, exitcode.OK},
		{fmt.Errorf("x: %w", action.ErrGateFailed), exitcode.Gate},
		{fmt.Errorf("x: %w", action.ErrUsage), exitcode.Usage},
		{fmt.Errorf("x: %w", action.ErrRefused), exitcode.Usage},
		{fmt.Errorf("x: %w", train.ErrData), exitcode.Failure},
		{errors.New("network down"), exitcode.Failure},
	}
	for _, tc := range cases {
		if got := exitcode.Of(tc.err); got != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.err, got, tc.code)
		}
	}
}

// TestRunRuntimeFlag: `modelci run --runtime` hands the binary to the
// local run's packaging, whose platforms are then the ones named.
func TestRunRuntimeFlag(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{"modelci.yaml": minimalConfig, "data.csv": regressionCSV(40)})
	arm := filepath.Join(dir, "serve-arm64")
	if err := os.WriteFile(arm, imagetest.ELF(elf.EM_AARCH64, false, "arm64"), 0o755); err != nil {
		t.Fatal(err)
	}
	env, out, errb := envWith(map[string]string{"MODELCI_WORKING_DIRECTORY": dir, "SOURCE_DATE_EPOCH": "1700000000"}, "")
	if err := Run(context.Background(), env, []string{"run", "--runtime", "linux/arm64=" + arm}); err != nil {
		t.Fatalf("run: %v\n%s%s", err, out, errb)
	}
	if !strings.Contains(out.String(), "from --runtime "+arm) {
		t.Errorf("the image does not use the --runtime binary:\n%s", out)
	}
	if got := layoutPlatforms(t, filepath.Join(dir, "dist", "modelci", "image")); !slices.Equal(got, []string{"linux/arm64"}) {
		t.Errorf("image platforms %v, want [linux/arm64]", got)
	}
}

// TestRunLocalHostPlatform: a local run with no image.platforms packages
// only the host's platform; image.platforms asks for more.
func TestRunLocalHostPlatform(t *testing.T) {
	t.Parallel()
	host := "linux/" + runtime.GOARCH
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	if _, ok := machines[runtime.GOARCH]; !ok {
		t.Skipf("no fake runtime for %s", runtime.GOARCH)
	}
	runtimes := t.TempDir()
	for arch, m := range machines {
		p := filepath.Join(runtimes, "linux-"+arch, "modelci-serve")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, imagetest.ELF(m, false, arch), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		config string
		want   []string
	}{
		{"default", minimalConfig, []string{host}},
		{"image.platforms", minimalConfig + "image: {platforms: [linux/arm64, linux/amd64]}\n", []string{"linux/amd64", "linux/arm64"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := project(t, map[string]string{"modelci.yaml": tc.config, "data.csv": regressionCSV(40)})
			env, out, errb := envWith(map[string]string{"MODELCI_WORKING_DIRECTORY": dir, "SOURCE_DATE_EPOCH": "1700000000", "MODELCI_RUNTIME_DIR": runtimes}, "")
			if err := Run(context.Background(), env, []string{"run"}); err != nil {
				t.Fatalf("run: %v\n%s%s", err, out, errb)
			}
			if got := layoutPlatforms(t, filepath.Join(dir, "dist", "modelci", "image")); !slices.Equal(got, tc.want) {
				t.Errorf("image platforms %v, want %v\n%s", got, tc.want, out)
			}
		})
	}
}
