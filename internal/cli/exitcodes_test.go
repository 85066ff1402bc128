package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
)

// readmeExitCodes parses the exit-code table of README.md: the rows of the
// first table after the "### Exit codes" heading.
func readmeExitCodes(t *testing.T) map[int]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n### Exit codes\n")
	if !ok {
		t.Fatal(`README.md has no "### Exit codes" section`)
	}
	row := regexp.MustCompile(`^\| (\d+) \| ([^|]+) \|`)
	codes := map[int]string{}
	inTable := false
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		if m := row.FindStringSubmatch(line); m != nil {
			code, _ := strconv.Atoi(m[1])
			codes[code] = strings.TrimSpace(m[2])
		}
	}
	if len(codes) == 0 {
		t.Fatal("README.md: the exit-code table has no rows")
	}
	return codes
}

// interrupted is a context canceled by sig, as NotifyInterrupt cancels it.
func interrupted(sig syscall.Signal) context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&Interrupt{Signal: sig})
	return ctx
}

// TestExitCodeTable walks the README's exit-code table: every code in it
// has cases that produce it, and every code the cases produce is in it.
func TestExitCodeTable(t *testing.T) {
	t.Parallel()
	type exitCase struct {
		name  string
		ctx   context.Context
		files map[string]string
		env   map[string]string
		args  func(dir string) []string
	}
	train := func(extra ...string) func(string) []string {
		return func(dir string) []string {
			return append([]string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", filepath.Join(dir, "out")}, extra...)
		}
	}
	data := regressionCSV(60)
	ok := map[string]string{"modelci.yaml": minimalConfig, "data.csv": data}
	cases := map[int][]exitCase{
		exitcode.OK: {{name: "train", files: ok, args: train()}},
		exitcode.Failure: {
			{name: "data file missing", files: map[string]string{"modelci.yaml": minimalConfig}, args: train()},
			{name: "ragged row", files: map[string]string{"modelci.yaml": minimalConfig, "data.csv": "x1,x2,y\n1,2,3\n4,5\n"}, args: train()},
			{name: "over the memory budget", files: ok, env: map[string]string{EnvMemoryBudget: "1KiB"}, args: train()},
		},
		exitcode.Usage: {
			{name: "unknown flag", files: ok, args: train("--bogus")},
			{name: "unknown data.target", files: map[string]string{"modelci.yaml": "data:\n  path: data.csv\n  target: price\n", "data.csv": data}, args: train()},
			{name: "unknown data.features name", files: map[string]string{"modelci.yaml": "data:\n  path: data.csv\n  target: y\n  features: [x1, nope]\n", "data.csv": data}, args: train()},
			{name: "unknown data.target with data.features", files: map[string]string{"modelci.yaml": "data:\n  path: data.csv\n  target: price\n  features: [x1]\n", "data.csv": data}, args: train()},
			{name: "bad memory budget", files: ok, env: map[string]string{EnvMemoryBudget: "lots"}, args: train()},
			{name: "serve --addr notanaddr", files: ok, args: func(dir string) []string {
				return []string{"serve", "--model", filepath.Join(dir, "nomodel"), "--addr", "notanaddr"}
			}},
			{name: "serve --addr 127.0.0.1:99999", files: ok, args: func(dir string) []string {
				return []string{"serve", "--model", filepath.Join(dir, "nomodel"), "--addr", "127.0.0.1:99999"}
			}},
			{name: "serve MODELCI_ADDR=:99999", files: ok, env: map[string]string{"MODELCI_ADDR": ":99999"}, args: func(dir string) []string {
				return []string{"serve", "--model", filepath.Join(dir, "nomodel")}
			}},
			{name: "train --workers -1", files: ok, args: train("--workers", "-1")},
			{name: "diff --workers -1", files: ok, args: func(dir string) []string {
				return []string{"diff", "-c", filepath.Join(dir, "modelci.yaml"), "--baseline", "none", "--out", filepath.Join(dir, "report.md"), "--workers", "-1"}
			}},
		},
		exitcode.Gate: {{name: "gate failed", files: map[string]string{"modelci.yaml": minimalConfig + "gates:\n  - {metric: r2, max: 0.5}\n", "data.csv": data}, args: func(dir string) []string {
			return []string{"diff", "-c", filepath.Join(dir, "modelci.yaml"), "--baseline", "none", "--out", filepath.Join(dir, "report.md")}
		}}},
		130: {{name: "SIGINT", ctx: interrupted(syscall.SIGINT), files: ok, args: train()}},
		143: {
			{name: "SIGTERM", ctx: interrupted(syscall.SIGTERM), files: ok, args: train()},
			{name: "SIGTERM during diff", ctx: interrupted(syscall.SIGTERM), files: ok, args: func(dir string) []string {
				return []string{"diff", "-c", filepath.Join(dir, "modelci.yaml"), "--baseline", "none", "--out", filepath.Join(dir, "out")}
			}},
		},
	}
	table := readmeExitCodes(t)
	for code := range cases {
		if _, ok := table[code]; !ok {
			t.Errorf("exit code %d is produced but not in README.md's table", code)
		}
	}
	for code, meaning := range table {
		cs, ok := cases[code]
		if !ok {
			t.Errorf("README.md lists exit code %d (%s), but no case produces it", code, meaning)
			continue
		}
		for _, c := range cs {
			t.Run(strconv.Itoa(code)+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				dir := project(t, c.files)
				env, _, stderr := testEnv()
				env.Getenv = func(k string) string { return c.env[k] }
				ctx := c.ctx
				if ctx == nil {
					ctx = context.Background()
				}
				err := Run(ctx, env, c.args(dir))
				if got := exitcode.Of(err); got != code {
					t.Fatalf("exit %d, want %d (%s): %v\n%s", got, code, meaning, err, stderr)
				}
				if code >= 128 {
					if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
						t.Errorf("an interrupted run wrote %s", filepath.Join(dir, "out"))
					}
					if !strings.Contains(stderr.String(), "interrupted by") {
						t.Errorf("stderr: %s", stderr)
					}
				}
			})
		}
	}
}
