package entrypoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
)

// commands are modelci's subcommands as cli.CommandNames lists them.
var commands = []string{"completion", "diff", "evaluate", "help", "package", "predict", "run", "serve", "train"}

func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want Decision
	}{
		{"no arguments runs the action", nil, Decision{Modelci, []string{"run"}}},
		{"empty arguments run the action", []string{}, Decision{Modelci, []string{"run"}}},
		{"action.yml's args: [run]", []string{"run"}, Decision{Modelci, []string{"run"}}},
		{"a subcommand with flags", []string{"package", "--model", "dist/model", "--oci-layout", "out"}, Decision{Modelci, []string{"package", "--model", "dist/model", "--oci-layout", "out"}}},
		{"a modelci command shadows busybox diff", []string{"diff", "--baseline", "git:main"}, Decision{Modelci, []string{"diff", "--baseline", "git:main"}}},
		{"help", []string{"help", "train"}, Decision{Modelci, []string{"help", "train"}}},
		{"--help goes to modelci", []string{"--help"}, Decision{Modelci, []string{"--help"}}},
		{"-v goes to modelci", []string{"-v"}, Decision{Modelci, []string{"-v"}}},
		{"--version goes to modelci", []string{"--version"}, Decision{Modelci, []string{"--version"}}},
		{"modelci as the command", []string{"modelci", "train", "--out", "m"}, Decision{Modelci, []string{"train", "--out", "m"}}},
		{"bare modelci shows its help", []string{"modelci"}, Decision{Modelci, []string{}}},
		{"Jenkins inside starts cat", []string{"cat"}, Decision{Exec, []string{"cat"}}},
		{"GitLab's shell detection", []string{"sh", "-c", "if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash; else exec sh; fi"}, Decision{Exec, []string{"sh", "-c", "if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash; else exec sh; fi"}}},
		{"an absolute path", []string{"/bin/sh", "-c", "modelci run"}, Decision{Exec, []string{"/bin/sh", "-c", "modelci run"}}},
		{"modelci by path is a program", []string{"/usr/local/bin/modelci", "train"}, Decision{Exec, []string{"/usr/local/bin/modelci", "train"}}},
		{"a subcommand name later in the line does not matter", []string{"git", "diff"}, Decision{Exec, []string{"git", "diff"}}},
		{"case matters", []string{"Run"}, Decision{Exec, []string{"Run"}}},
		{"the hidden command itself is not a subcommand", []string{"entrypoint"}, Decision{Exec, []string{"entrypoint"}}},
		{"an empty command is a program (and fails)", []string{""}, Decision{Exec, []string{""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := slices.Clone(tt.args)
			got := Decide(tt.args, commands)
			if got.Kind != tt.want.Kind || !reflect.DeepEqual(got.Args, tt.want.Args) {
				t.Errorf("Decide(%q) = %v %q, want %v %q", tt.args, got.Kind, got.Args, tt.want.Kind, tt.want.Args)
			}
			if !reflect.DeepEqual(in, tt.args) {
				t.Errorf("Decide changed its input: %q, was %q", tt.args, in)
			}
			if len(got.Args) > 0 && len(tt.args) > 0 {
				got.Args[0] = "changed"
				if tt.args[0] == "changed" {
					t.Error("Decision.Args aliases the input")
				}
			}
		})
	}
}

// recorder stands in for the process: it records what Run asked for.
type recorder struct {
	modelci  [][]string
	lookups  []string
	execs    [][]string
	paths    []string
	envs     [][]string
	found    map[string]string // name → path
	lookErr  error             // returned when name is not in found
	execErr  error
	modelErr error
}

func (r *recorder) deps(stderr *bytes.Buffer) Deps {
	return Deps{
		Commands: commands,
		Modelci: func(_ context.Context, args []string) error {
			r.modelci = append(r.modelci, args)
			return r.modelErr
		},
		LookPath: func(name string) (string, error) {
			r.lookups = append(r.lookups, name)
			if p, ok := r.found[name]; ok {
				return p, nil
			}
			return "", r.lookErr
		},
		Exec: func(path string, argv, env []string) error {
			r.paths = append(r.paths, path)
			r.execs = append(r.execs, argv)
			r.envs = append(r.envs, env)
			return r.execErr
		},
		Environ: func() []string { return []string{"HOME=/", "CI=true"} },
		Stderr:  stderr,
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	notFound := &exec.Error{Name: "nope", Err: exec.ErrNotFound}
	denied := &fs.PathError{Op: "stat", Path: "/w/script", Err: fs.ErrPermission}
	gateErr := errors.New("gate failed")
	tests := []struct {
		name       string
		args       []string
		rec        recorder
		wantModel  [][]string
		wantExec   [][]string
		wantPath   string
		wantCode   int // 0: Run returns rec.modelErr as is
		wantErr    error
		wantStderr string
	}{
		{
			name:      "no args run the action in process",
			rec:       recorder{},
			wantModel: [][]string{{"run"}},
		},
		{
			name:      "modelci's own error is returned unchanged",
			args:      []string{"run"},
			rec:       recorder{modelErr: gateErr},
			wantModel: [][]string{{"run"}},
			wantErr:   gateErr,
		},
		{
			name:     "cat is exec'ed with the environment",
			args:     []string{"cat"},
			rec:      recorder{found: map[string]string{"cat": "/bin/cat"}, execErr: errors.New("exec format error")},
			wantExec: [][]string{{"cat"}},
			wantPath: "/bin/cat",
			// The substitute's failure shows how a failed exec ends.
			wantCode:   ExitCannotExecute,
			wantStderr: "modelci entrypoint: exec /bin/cat: exec format error",
		},
		{
			name:       "a program not on PATH",
			args:       []string{"nope", "x"},
			rec:        recorder{lookErr: notFound},
			wantCode:   ExitNotFound,
			wantErr:    exec.ErrNotFound,
			wantStderr: `modelci entrypoint: "nope" is neither a modelci command (completion, diff, evaluate, help, package, predict, run, serve, train) nor a program on PATH`,
		},
		{
			name:       "a program that cannot be run",
			args:       []string{"/w/script"},
			rec:        recorder{lookErr: denied},
			wantCode:   ExitCannotExecute,
			wantErr:    fs.ErrPermission,
			wantStderr: "permission denied",
		},
		{
			name:       "an empty command",
			args:       []string{""},
			rec:        recorder{},
			wantCode:   ExitNotFound,
			wantStderr: "modelci entrypoint: empty command",
		},
		{
			name:       "an exec that returns nil has not run the program",
			args:       []string{"sh"},
			rec:        recorder{found: map[string]string{"sh": "/bin/sh"}},
			wantExec:   [][]string{{"sh"}},
			wantPath:   "/bin/sh",
			wantCode:   ExitCannotExecute,
			wantStderr: "exec returned without running the program",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			rec := tt.rec
			err := Run(context.Background(), tt.args, rec.deps(&stderr))
			if !reflect.DeepEqual(rec.modelci, tt.wantModel) {
				t.Errorf("modelci ran with %q, want %q", rec.modelci, tt.wantModel)
			}
			if !reflect.DeepEqual(rec.execs, tt.wantExec) {
				t.Errorf("exec'ed %q, want %q", rec.execs, tt.wantExec)
			}
			if tt.wantPath != "" {
				if len(rec.paths) != 1 || rec.paths[0] != tt.wantPath {
					t.Errorf("exec path %q, want %q", rec.paths, tt.wantPath)
				}
				if !reflect.DeepEqual(rec.envs[0], []string{"HOME=/", "CI=true"}) {
					t.Errorf("exec env %q, want the process environment", rec.envs[0])
				}
			}
			if tt.wantCode == 0 {
				if err != tt.wantErr {
					t.Errorf("Run = %v, want %v", err, tt.wantErr)
				}
				if stderr.Len() != 0 {
					t.Errorf("stderr %q, want nothing (modelci prints its own errors)", stderr.String())
				}
				return
			}
			var ee *exitcode.Error
			if !errors.As(err, &ee) || ee.Code != tt.wantCode {
				t.Fatalf("Run = %v, want an exitcode.Error with code %d", err, tt.wantCode)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Run = %v, does not wrap %v", err, tt.wantErr)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || !strings.HasSuffix(stderr.String(), "\n") {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

// helperEnv makes the test binary act as `modelci entrypoint ARGS…` with
// the production Deps (exec.LookPath, syscall.Exec): see TestMain.
const helperEnv = "MODELCI_ENTRYPOINT_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		args := os.Args[1:]
		if i := indexOf(args, "--"); i >= 0 {
			args = args[i+1:]
		}
		modelci := func(_ context.Context, args []string) error {
			fmt.Printf("modelci %s\n", strings.Join(args, " "))
			return nil
		}
		err := Run(context.Background(), args, Deps{Commands: commands, Modelci: modelci, LookPath: exec.LookPath, Exec: syscall.Exec, Environ: os.Environ, Stderr: os.Stderr})
		var ee *exitcode.Error
		if errors.As(err, &ee) {
			os.Exit(ee.Code)
		}
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestSystemExec runs the production path in a child process: the program
// replaces the process (same pid, no fork), reads the same stdin and
// environment, and its exit status becomes the container's.
func TestSystemExec(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh on PATH")
	}
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantOut  string
		wantCode int
		wantErr  string
	}{
		{
			name:    "modelci subcommands stay in process",
			args:    []string{"train", "--out", "m"},
			wantOut: "modelci train --out m\n",
		},
		{
			name:    "no arguments",
			wantOut: "modelci run\n",
		},
		{
			name: "sh replaces the process and keeps the environment",
			// $PPID of the exec'ed shell is the test process that
			// started the helper: no intermediate fork.
			args:     []string{"sh", "-c", `echo "$0 $MARKER $PPID"; exit 7`},
			wantOut:  fmt.Sprintf("sh from-env %d\n", os.Getpid()),
			wantCode: 7,
		},
		{
			name:    "GitLab pipes the job script into the shell",
			args:    []string{"sh"},
			stdin:   "echo step one\necho \"step $((1+1))\"\n",
			wantOut: "step one\nstep 2\n",
		},
		{
			name:     "a missing program exits 127",
			args:     []string{"modelci-no-such-program"},
			wantCode: ExitNotFound,
			wantErr:  `modelci entrypoint: "modelci-no-such-program" is neither a modelci command`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, tt.args...)...)
			cmd.Env = append(os.Environ(), helperEnv+"=1", "MARKER=from-env")
			cmd.Stdin = strings.NewReader(tt.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if stdout.String() != tt.wantOut {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.wantOut)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.wantErr)
			}
		})
	}
}
