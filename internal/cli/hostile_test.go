package cli

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
)

// hostileDir is the regression corpus of hostile inputs: data, configs,
// model files and environments that once destroyed data, hung, leaked or
// gave the wrong exit code. See testdata/hostile/README.md.
const hostileDir = "../../testdata/hostile"

// TestHostileCorpus runs every case of the corpus through the real command
// line and checks its exit code, its error text and that it touched
// nothing it must not.
func TestHostileCorpus(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(hostileDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runHostileCase(t, filepath.Join(hostileDir, name))
		})
	}
	if n < 10 {
		t.Fatalf("the corpus has %d cases; expected at least 10", n)
	}
}

// hostileCase is a parsed case: the files cmd, env and want of its
// directory. Every other file is copied into a fresh directory ($CASE) in
// which the command runs.
type hostileCase struct {
	args    []string
	env     map[string]string
	code    int
	has     []string // the output must contain each
	hasNot  []string // the output must contain none
	same    []string // paths (relative to $CASE) that must be unchanged
	absent  []string // paths that must not exist afterwards
	noEnvIn bool     // the output must not hold the value of any env entry
}

func parseHostileCase(t *testing.T, dir string) hostileCase {
	t.Helper()
	var c hostileCase
	cmd, err := os.ReadFile(filepath.Join(dir, "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	c.args = strings.Fields(string(cmd))
	c.env = map[string]string{}
	if b, err := os.ReadFile(filepath.Join(dir, "env")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
				c.env[k] = v
			}
		}
	}
	f, err := os.Open(filepath.Join(dir, "want"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if first {
			first = false
			code, err := strconv.Atoi(strings.TrimPrefix(line, "exit "))
			if err != nil {
				t.Fatalf("%s/want: first line %q is not \"exit N\"", dir, line)
			}
			c.code = code
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		switch {
		case !ok:
			t.Fatalf("%s/want: %q is not key: value", dir, line)
		case key == "output":
			c.has = append(c.has, val)
		case key == "!output":
			c.hasNot = append(c.hasNot, val)
		case key == "same":
			c.same = append(c.same, val)
		case key == "absent":
			c.absent = append(c.absent, val)
		case key == "no-env-in-output":
			c.noEnvIn = val == "true"
		default:
			t.Fatalf("%s/want: unknown key %q", dir, key)
		}
	}
	if first {
		t.Fatalf("%s/want: empty", dir)
	}
	return c
}

func runHostileCase(t *testing.T, src string) {
	c := parseHostileCase(t, src)
	work := t.TempDir()
	if err := copyTree(src, work, map[string]bool{"cmd": true, "env": true, "want": true}); err != nil {
		t.Fatal(err)
	}
	expand := func(s string) string { return strings.ReplaceAll(s, "$CASE", work) }
	args := make([]string, len(c.args))
	for i, a := range c.args {
		args[i] = expand(a)
	}
	env := map[string]string{}
	for k, v := range c.env {
		env[k] = expand(v)
	}
	before := map[string]map[string]string{}
	for _, p := range c.same {
		before[p] = tree(t, filepath.Join(work, p))
	}
	var out, errb bytes.Buffer
	e := Env{
		Stdin:   strings.NewReader(""),
		Stdout:  &out,
		Stderr:  &errb,
		Getenv:  func(k string) string { return env[k] },
		Environ: func() []string { return nil },
	}
	err := Run(context.Background(), e, args)
	// The job log of run goes to stdout, errors to stderr: check both.
	output := out.String() + errb.String()
	if got := exitcode.Of(err); got != c.code {
		t.Errorf("exit %d, want %d; output:\n%s", got, c.code, output)
	}
	for _, s := range c.has {
		if !strings.Contains(output, expand(s)) {
			t.Errorf("output lacks %q:\n%s", expand(s), output)
		}
	}
	for _, s := range c.hasNot {
		if strings.Contains(output, expand(s)) {
			t.Errorf("output holds %q:\n%s", expand(s), output)
		}
	}
	if c.noEnvIn {
		for _, kv := range os.Environ() {
			_, v, _ := strings.Cut(kv, "=")
			if len(v) >= 12 && strings.Contains(output, v) {
				t.Errorf("output holds the value of an environment variable (%.20s…)", v)
			}
		}
	}
	for _, p := range c.same {
		if got := tree(t, filepath.Join(work, p)); !maps.Equal(got, before[p]) {
			t.Errorf("%s changed", p)
		}
	}
	for _, p := range c.absent {
		if _, err := os.Lstat(filepath.Join(work, p)); err == nil {
			t.Errorf("%s exists", p)
		}
	}
}

// copyTree copies the regular files and directories under src into dst,
// leaving out the top-level names in skip.
func copyTree(src, dst string, skip map[string]bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "." {
			return nil
		}
		if skip[rel] {
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
