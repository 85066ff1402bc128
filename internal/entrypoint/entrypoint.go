// Package entrypoint provides the container image's ENTRYPOINT: one image
// that GitHub Actions, GitLab CI and Jenkins can each start their own way.
//
// The image's ENTRYPOINT is ["/usr/local/bin/modelci", "entrypoint"], so
// the container's command line arrives here as args:
//
//   - no arguments (GitHub's `uses: docker://…` without args, `docker run
//     IMAGE`) runs `modelci run`;
//   - a modelci subcommand (`run`, as action.yml passes, `train`, `help`…),
//     a flag (`--help`, `--version`, `-v`) or `modelci …` runs modelci with
//     those arguments, in this process;
//   - anything else is a program: Jenkins' `cat` (docker.image(…).inside),
//     GitLab's shell-detection `sh -c …`, or a user's `bash`. It is looked up
//     on PATH and exec'ed in place of this process, with the same
//     environment, so it becomes the container's main process and gets its
//     signals and exit status.
//
// A modelci subcommand wins over a program of the same name (`diff` is
// modelci diff, not busybox's). Nothing else ever reaches this dispatch:
// `modelci` run by a user executes no program by surprise, because only
// the hidden first argument "entrypoint" selects it.
package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/modelci/modelci/internal/exitcode"
)

// Command is the hidden first argument of modelci that selects the
// container dispatch.
const Command = "entrypoint"

// DefaultCommand is the modelci subcommand of a container started without
// arguments.
const DefaultCommand = "run"

// Exit codes of a failed exec, as docker run and POSIX shells use them.
const (
	// ExitCannotExecute: the program exists but cannot be executed.
	ExitCannotExecute = 126
	// ExitNotFound: no such program on PATH.
	ExitNotFound = 127
)

// Kind says what a Decision runs.
type Kind int

const (
	// Modelci runs modelci in this process with Decision.Args.
	Modelci Kind = iota + 1
	// Exec replaces this process with the program Decision.Args[0].
	Exec
)

func (k Kind) String() string {
	switch k {
	case Modelci:
		return "modelci"
	case Exec:
		return "exec"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Decision is what the container runs.
type Decision struct {
	Kind Kind
	// Args are modelci's arguments (Modelci) or the program and its
	// arguments, argv[0] first (Exec).
	Args []string
}

// Decide chooses what the container's args run. commands are modelci's
// subcommand names and aliases (cli.CommandNames).
func Decide(args, commands []string) Decision {
	switch {
	case len(args) == 0:
		return Decision{Kind: Modelci, Args: []string{DefaultCommand}}
	case args[0] == "modelci":
		return Decision{Kind: Modelci, Args: slices.Clone(args[1:])}
	case strings.HasPrefix(args[0], "-") || slices.Contains(commands, args[0]):
		return Decision{Kind: Modelci, Args: slices.Clone(args)}
	}
	return Decision{Kind: Exec, Args: slices.Clone(args)}
}

// Deps are the side effects of Run.
type Deps struct {
	// Commands are modelci's subcommand names and aliases.
	Commands []string
	// Modelci runs modelci's command line in this process.
	Modelci func(ctx context.Context, args []string) error
	// LookPath finds a program on PATH (exec.LookPath).
	LookPath func(file string) (string, error)
	// Exec replaces the process (syscall.Exec); it returns only on
	// failure.
	Exec func(path string, argv, env []string) error
	// Environ is the environment handed to the program (os.Environ).
	Environ func() []string
	// Stderr receives the error of a failed exec.
	Stderr io.Writer
}

// Run runs the container's args as Decide says. For a program it returns
// only if the exec failed: an *exitcode.Error with ExitNotFound or
// ExitCannotExecute, whose message is also printed to Stderr.
func Run(ctx context.Context, args []string, d Deps) error {
	dec := Decide(args, d.Commands)
	if dec.Kind == Modelci {
		return d.Modelci(ctx, dec.Args)
	}
	err := execProgram(dec.Args, d)
	fmt.Fprintf(d.Stderr, "modelci entrypoint: %s\n", err)
	return err
}

func execProgram(argv []string, d Deps) error {
	name := argv[0]
	if name == "" {
		return &exitcode.Error{Code: ExitNotFound, Err: errors.New("empty command")}
	}
	path, err := d.LookPath(name)
	if err != nil {
		code := ExitCannotExecute
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code = ExitNotFound
		}
		return &exitcode.Error{Code: code, Err: fmt.Errorf("%q is neither a modelci command (%s) nor a program on PATH: %w", name, strings.Join(d.Commands, ", "), err)}
	}
	err = d.Exec(path, argv, d.Environ())
	if err == nil {
		// A real exec never returns on success; a substitute that does
		// has not run the program.
		err = errors.New("exec returned without running the program")
	}
	return &exitcode.Error{Code: ExitCannotExecute, Err: fmt.Errorf("exec %s: %w", path, err)}
}
