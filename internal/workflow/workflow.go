// Package workflow provides GitHub Actions' workflow commands (log lines,
// annotations, groups, masks) and environment files (step outputs, the job
// summary) as calls that return errors, over sethvargo/go-githubactions.
//
// go-githubactions panics when it cannot write. Commands answers that in
// one place: log commands go through a writer that keeps the first write
// error (Err reports it), and the environment-file commands, whose panic is
// the only report of a failed write, are recovered into errors.
package workflow

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Delimiter is the fixed heredoc delimiter go-githubactions writes
// multi-line output values with. A value containing it could end the
// value early and forge other outputs, so such values are refused.
const Delimiter = "_GitHubActionsFileCommandDelimeter_"

// ErrNoFile is returned by SetOutput and AddStepSummary when the runner
// set no GITHUB_OUTPUT or GITHUB_STEP_SUMMARY (outside Actions, or an old
// runner).
var ErrNoFile = errors.New("the runner set no environment file")

// Commands writes workflow commands to a log and environment files named
// by the environment.
type Commands struct {
	a      *githubactions.Action
	w      *errWriter
	getenv func(string) string
}

// New returns the commands of the environment getenv reads (GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY), logging to w.
func New(getenv func(string) string, w io.Writer) *Commands {
	ew := &errWriter{w: w}
	return &Commands{
		a:      githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(ew)),
		w:      ew,
		getenv: getenv,
	}
}

// Err is the first error writing to the log, nil if none.
func (c *Commands) Err() error { return c.w.err }

// Infof writes a plain log line.
func (c *Commands) Infof(format string, args ...any) { c.a.Infof(format, args...) }

// Noticef, Warningf and Errorf write annotations.
func (c *Commands) Noticef(format string, args ...any)  { c.a.Noticef(format, args...) }
func (c *Commands) Warningf(format string, args ...any) { c.a.Warningf(format, args...) }
func (c *Commands) Errorf(format string, args ...any)   { c.a.Errorf(format, args...) }

// WarningTitled and ErrorTitled write annotations with a title.
func (c *Commands) WarningTitled(title, format string, args ...any) {
	c.a.WithFieldsMap(map[string]string{"title": title}).Warningf(format, args...)
}
func (c *Commands) ErrorTitled(title, format string, args ...any) {
	c.a.WithFieldsMap(map[string]string{"title": title}).Errorf(format, args...)
}

// Group opens a collapsible group; EndGroup closes it.
func (c *Commands) Group(name string) { c.a.Group(name) }
func (c *Commands) EndGroup()         { c.a.EndGroup() }

// AddMask hides secret in the rest of the log.
func (c *Commands) AddMask(secret string) { c.a.AddMask(secret) }

// SetOutput appends one step output to GITHUB_OUTPUT.
func (c *Commands) SetOutput(name, value string) error {
	if c.getenv("GITHUB_OUTPUT") == "" {
		return fmt.Errorf("output %s: GITHUB_OUTPUT: %w", name, ErrNoFile)
	}
	if strings.Contains(value, Delimiter) {
		return fmt.Errorf("output %s: the value contains the file command delimiter %q", name, Delimiter)
	}
	return recovered("write output "+name, func() { c.a.SetOutput(name, value) })
}

// SetOutputs appends step outputs to GITHUB_OUTPUT in the order of their
// names.
func (c *Commands) SetOutputs(outputs map[string]string) error {
	names := make([]string, 0, len(outputs))
	for n := range outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := c.SetOutput(n, outputs[n]); err != nil {
			return err
		}
	}
	return nil
}

// AddStepSummary appends markdown to GITHUB_STEP_SUMMARY.
func (c *Commands) AddStepSummary(markdown string) error {
	if c.getenv("GITHUB_STEP_SUMMARY") == "" {
		return fmt.Errorf("job summary: GITHUB_STEP_SUMMARY: %w", ErrNoFile)
	}
	return recovered("write the job summary", func() { c.a.AddStepSummary(markdown) })
}

// ReadOutputs reads a GITHUB_OUTPUT file the way the runner does: lines
// name=value, or name<<DELIMITER, the value's lines, DELIMITER. A later
// value of a name wins.
func ReadOutputs(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the step outputs: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(b) == 0 {
		lines = nil
	}
	out := map[string]string{}
	for i := 0; i < len(lines); i++ {
		start := i + 1
		if name, delim, ok := strings.Cut(lines[i], "<<"); ok && name != "" && delim != "" {
			var value []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				value = append(value, lines[i])
			}
			if i == len(lines) {
				return nil, fmt.Errorf("%s: line %d: output %s: no closing %s", path, start, name, delim)
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		name, value, ok := strings.Cut(lines[i], "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%s: line %d: want name=value or name<<DELIMITER, got %q", path, start, lines[i])
		}
		out[name] = value
	}
	return out, nil
}

// recovered runs fn and turns the panic go-githubactions raises when an
// environment file cannot be written into an error.
func recovered(op string, fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if e, ok := v.(error); ok {
				err = fmt.Errorf("%s: %w", op, e)
			} else {
				err = fmt.Errorf("%s: %v", op, v)
			}
		}
	}()
	fn()
	return nil
}

// errWriter keeps the first write error instead of returning it, since
// go-githubactions panics on one; Commands.Err reports it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err == nil {
		if _, err := e.w.Write(p); err != nil {
			e.err = err
		}
	}
	return len(p), nil
}
