package workflow

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	out, err := ReadOutputs(path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSetOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
	var log strings.Builder
	c := New(func(k string) string { return env[k] }, &log)
	if err := c.SetOutputs(map[string]string{"image_digest": "sha256:ab", "image": "r/x:1", "multi": "a\nb"}); err != nil {
		t.Fatal(err)
	}
	got := readOutputs(t, env["GITHUB_OUTPUT"])
	want := map[string]string{"image_digest": "sha256:ab", "image": "r/x:1", "multi": "a\nb"}
	if len(got) != len(want) {
		t.Errorf("outputs %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
	if err := c.AddStepSummary("# report\n"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"]); err != nil || string(b) != "# report\n\n" {
		t.Errorf("summary %q (%v)", b, err)
	}
	if log.Len() != 0 {
		t.Errorf("environment files wrote to the log: %q", log.String())
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name string
		env  map[string]string
		fn   func(c *Commands) error
		want string
		is   error
	}{
		{"no GITHUB_OUTPUT", nil, func(c *Commands) error { return c.SetOutput("a", "b") }, "GITHUB_OUTPUT", ErrNoFile},
		{"no GITHUB_STEP_SUMMARY", nil, func(c *Commands) error { return c.AddStepSummary("x") }, "GITHUB_STEP_SUMMARY", ErrNoFile},
		{"a forged delimiter is refused", map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "o")},
			func(c *Commands) error {
				return c.SetOutput("metrics", "{}\n"+Delimiter+"\ngates_passed<<EOF\ntrue\nEOF")
			}, "delimiter", nil},
		{"an unwritable output file is an error, not a panic", map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "missing", "o")},
			func(c *Commands) error { return c.SetOutput("a", "b") }, "write output a", nil},
		{"an unwritable summary is an error, not a panic", map[string]string{"GITHUB_STEP_SUMMARY": dir},
			func(c *Commands) error { return c.AddStepSummary("x") }, "write the job summary", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := New(func(k string) string { return tc.env[k] }, &strings.Builder{})
			err := tc.fn(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("err = %v, want one naming %q (is %v)", err, tc.want, tc.is)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused output was written: %v", err)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

// TestLogWriteError: a failed log write does not panic; Err reports the
// first one.
func TestLogWriteError(t *testing.T) {
	t.Parallel()
	w := &failWriter{}
	c := New(func(string) string { return "" }, w)
	c.AddMask("s3cret")
	c.Group("g")
	c.Infof("hello %d", 1)
	c.WarningTitled("t", "w")
	c.EndGroup()
	if err := c.Err(); err == nil || err.Error() != "disk full" {
		t.Errorf("Err() = %v", err)
	}
	if w.n != 1 {
		t.Errorf("%d writes after the first failure, want none", w.n-1)
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	var log strings.Builder
	c := New(func(string) string { return "" }, &log)
	c.AddMask("s3cret")
	c.Group("Train")
	c.Infof("rows %d", 3)
	c.ErrorTitled("modelci: gate", "r2 %s", "low")
	c.EndGroup()
	want := "::add-mask::s3cret\n::group::Train\nrows 3\n::error title=modelci%3A gate::r2 low\n::endgroup::\n"
	if log.String() != want || c.Err() != nil {
		t.Errorf("log %q, want %q (%v)", log.String(), want, c.Err())
	}
}

func TestReadOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name, body string
		want       map[string]string
		err        string
	}{
		{"both forms", "a=1\nb<<EOF\nx\ny\nEOF\nc=\n", map[string]string{"a": "1", "b": "x\ny", "c": ""}, ""},
		{"an unterminated heredoc", "b<<EOF\nx\n", nil, "line 1: output b: no closing EOF"},
		{"a line that is neither", "junk\n", nil, "line 1"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(dir, strings.Repeat("f", i+1))
			if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadOutputs(p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
