// Package proc provides the one environment modelci runs in: the process's
// environment variables, standard streams, file reads, command execution,
// clock, randomness and HTTP client. main builds it once (System) and
// passes it down; tests build their own. It is standard library only, so
// the serving runtime can take it too.
package proc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Env is everything modelci touches outside its arguments and its own
// files. A zero field means "not available" unless a function's
// documentation says otherwise; WithDefaults fills the fields that have a
// harmless default.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable.
	Getenv func(string) string
	// Environ lists the environment as KEY=VALUE.
	Environ func() []string
	// ReadFile reads a whole file (the event payload, credentials files).
	// Inputs whose size is untrusted go through internal/inputfile instead.
	ReadFile func(string) ([]byte, error)
	// Run runs an external command (git, go).
	Run Runner
	// Clock tells the time and waits (stage timings, API retries).
	Clock Clock
	// Rand returns a uniform number in [0, 1) (retry jitter, log sampling).
	Rand func() float64
	// HTTPClient talks to remote APIs (GitHub, GitLab, registries).
	HTTPClient *http.Client
}

// System returns the Env of the real process.
func System() Env {
	return Env{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		Environ:    os.Environ,
		ReadFile:   os.ReadFile,
		Run:        Exec,
		Clock:      SystemClock{},
		Rand:       rand.Float64,
		HTTPClient: &http.Client{},
	}
}

// WithDefaults returns e with its nil fields set to harmless defaults: no
// input, discarded output, an empty environment, no files, no commands,
// the system clock, a fixed-sequence random source and a plain HTTP client.
// Tests use it to set only what they exercise.
func (e Env) WithDefaults() Env {
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Getenv == nil {
		e.Getenv = func(string) string { return "" }
	}
	if e.Environ == nil {
		e.Environ = func() []string { return nil }
	}
	if e.ReadFile == nil {
		e.ReadFile = func(name string) ([]byte, error) {
			return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
		}
	}
	if e.Run == nil {
		e.Run = func(_ context.Context, c Command) ([]byte, error) {
			return nil, fmt.Errorf("%s: %w", c.Name, exec.ErrNotFound)
		}
	}
	if e.Clock == nil {
		e.Clock = SystemClock{}
	}
	if e.Rand == nil {
		r := rand.New(rand.NewPCG(1, 2))
		e.Rand = r.Float64
	}
	if e.HTTPClient == nil {
		e.HTTPClient = &http.Client{}
	}
	return e
}

// Git runs git with args in dir through e.Run and returns its standard
// output.
func (e Env) Git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	return e.Run(ctx, Command{Dir: dir, Name: "git", Args: args})
}

// Command is one external command to run.
type Command struct {
	// Dir is the working directory ("" = the current one).
	Dir string
	// Env is the command's environment (nil = the current process's).
	Env  []string
	Name string
	Args []string
}

// String returns the command line, for errors.
func (c Command) String() string {
	return strings.TrimSpace(c.Name + " " + strings.Join(c.Args, " "))
}

// Runner runs a command and returns its standard output. On failure the
// error carries the command's standard error.
type Runner func(ctx context.Context, cmd Command) ([]byte, error)

// maxStderr bounds how much of a failed command's standard error goes into
// its error.
const maxStderr = 4000

// Exec runs commands with os/exec. A failure's error names the command
// line and includes the end of its standard error.
func Exec(ctx context.Context, c Command) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > maxStderr {
			msg = "…" + msg[len(msg)-maxStderr:]
		}
		if msg != "" {
			return stdout.Bytes(), fmt.Errorf("%s: %w: %s", c, err, msg)
		}
		return stdout.Bytes(), fmt.Errorf("%s: %w", c, err)
	}
	return stdout.Bytes(), nil
}

// Clock tells the time and waits, so tests can run on a fake clock that
// never sleeps for real.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first, and
	// returns ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits on a timer or the context.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
