package atomicfile

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// modelFiles is a minimal model directory: model.json (schema_version,
// checksum, files) listing the other files, given as name, content pairs.
func modelFiles(pairs ...string) map[string][]byte {
	files := map[string][]byte{}
	listed := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		files[pairs[i]] = []byte(pairs[i+1])
		listed[pairs[i]] = "sha256:0"
	}
	b, _ := json.Marshal(map[string]any{"schema_version": 1, "checksum": "sha256:0", "files": listed})
	files["model.json"] = b
	return files
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshot records every path under root with its mode and content.
func snapshot(t *testing.T, root string) map[string]string {
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

// TestReplaceDirRefuses: a directory that is not empty and not the
// artifact being written (a git repository, a project directory, a model
// directory with a user's file in it) is refused with ErrRefused, and
// nothing on disk changes, next to it either.
func TestReplaceDirRefuses(t *testing.T) {
	t.Parallel()
	model := `{"schema_version": 1, "checksum": "sha256:0", "files": {"metrics.json": "sha256:0"}}`
	cases := []struct {
		name string
		kind Kind
		tree map[string]string
		msg  string
	}{
		{"git repository", ModelDir, map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/objects/": "", "README.md": "# hi\n"}, `no readable model.json`},
		{"project directory ($PWD)", ModelDir, map[string]string{"modelci.yaml": "data: {path: data.csv}\n", "data.csv": "a,b\n1,2\n", ".git/config": "[core]\n", "dist/model/model.json": model}, `no readable model.json`},
		{"dist with other files", ModelDir, map[string]string{"model.json": model, "metrics.json": "{}", "app.tar.gz": "x"}, `it also holds "app.tar.gz"`},
		{"model.json of something else", ModelDir, map[string]string{"model.json": `{"name": "x"}`}, "model.json is not a modelci model"},
		{"an OCI layout is not a model directory", ModelDir, map[string]string{"oci-layout": `{"imageLayoutVersion": "1.0.0"}`, "index.json": "{}"}, "no readable model.json"},
		{"a model directory is not a layout", OCILayout, map[string]string{"model.json": model, "metrics.json": "{}"}, "no readable oci-layout"},
		{"layout with more", OCILayout, map[string]string{"oci-layout": `{"imageLayoutVersion": "1.0.0"}`, "index.json": "{}", "blobs/": "", "notes.txt": "keep"}, `it also holds "notes.txt"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			writeTree(t, dir, tc.tree)
			before := snapshot(t, parent)
			filled := false
			err := ReplaceDir(dir, tc.kind, func(string) error { filled = true; return nil })
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("ReplaceDir error %v, want ErrRefused mentioning %q", err, tc.msg)
			}
			if filled {
				t.Error("fill ran although the directory is refused")
			}
			after := snapshot(t, parent)
			if len(after) != len(before) {
				t.Errorf("the tree changed: %d paths before, %d after", len(before), len(after))
			}
			for p, v := range before {
				if after[p] != v {
					t.Errorf("%s changed: %q → %q", p, v, after[p])
				}
			}
		})
	}
}

// TestReplaceDirAllows: a missing or empty directory, or one holding the
// artifact and nothing else, is replaced.
func TestReplaceDirAllows(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		kind Kind
		tree map[string]string
	}{
		{"missing", ModelDir, nil},
		{"empty", ModelDir, map[string]string{"./": ""}},
		{"model directory", ModelDir, map[string]string{"model.json": `{"schema_version": 1, "checksum": "", "files": {"profile.json": ""}}`, "profile.json": "{}"}},
		{"model directory of another schema version", ModelDir, map[string]string{"model.json": `{"schema_version": 7, "checksum": ""}`}},
		{"OCI layout", OCILayout, map[string]string{"oci-layout": `{"imageLayoutVersion": "1.0.0"}`, "index.json": "{}", "blobs/sha256/": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			if tc.tree != nil {
				writeTree(t, dir, tc.tree)
			}
			err := ReplaceDir(dir, tc.kind, func(tmp string) error { return os.WriteFile(filepath.Join(tmp, "new"), nil, 0o644) })
			if err != nil {
				t.Fatal(err)
			}
			assertOnly(t, dir, "new")
			assertOnly(t, parent, "out")
		})
	}
}

// TestReplaceDirWithoutExchange: where RENAME_EXCHANGE is unavailable the
// two-rename swap gives the same result and leaves nothing behind.
func TestReplaceDirWithoutExchange(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	if err := WriteDir(dir, modelFiles("a.json", "old")); err != nil {
		t.Fatal(err)
	}
	called := false
	noExchange := func(a, b string) error { called = true; return errors.New("EINVAL") }
	err := replaceDir(dir, ModelDir, func(tmp string) error { return os.WriteFile(filepath.Join(tmp, "b.json"), []byte("new"), 0o644) }, noExchange)
	if err != nil || !called {
		t.Fatalf("replaceDir: %v (exchange called: %v)", err, called)
	}
	assertOnly(t, dir, "b.json")
	assertOnly(t, parent, "model")
}

// TestExchange: the atomic swap exchanges two directories' contents.
func TestExchange(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	a, b := filepath.Join(parent, "a"), filepath.Join(parent, "b")
	writeTree(t, a, map[string]string{"in-a": ""})
	writeTree(t, b, map[string]string{"in-b": ""})
	if err := exchange(a, b); err != nil {
		t.Skipf("no RENAME_EXCHANGE here: %v", err)
	}
	assertOnly(t, a, "in-b")
	assertOnly(t, b, "in-a")
}

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	bin, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	cmd := exec.Command(bin)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if processAlive(pid) {
		t.Skip("the exited process's id is in use again")
	}
	return pid
}

// TestRecoverLeftovers: a run killed between the two renames left the old
// directory moved aside and dir missing; the next run moves it back, and
// removes the temporary directories of dead runs, but not those of a live
// process or names that are not its own.
func TestRecoverLeftovers(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dead := strconv.Itoa(deadPID(t))
	live := strconv.Itoa(os.Getpid())
	writeTree(t, parent, map[string]string{
		".model.tmp-" + dead + "-123.old/model.json": "old model",
		".model.tmp-" + dead + "-123/model.json":     "new, complete",
		".model.tmp-" + dead + "-456/model.json":     "partial",
		".model.tmp-" + live + "-789/model.json":     "in progress",
		".model.tmp-notes/keep":                      "",
		".other.tmp-" + dead + "-1/x":                "",
		".model.tmp-4242/model.json":                 "an earlier release's, maybe live",
		".model.tmp-4242.old/model.json":             "an earlier release's, moved aside",
	})
	// The directory moved aside last is the one restored.
	legacy := filepath.Join(parent, ".model.tmp-4242.old")
	if err := os.Chtimes(legacy, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := recoverLeftovers(parent, "model"); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, parent, "model", ".model.tmp-"+live+"-789", ".model.tmp-notes", ".other.tmp-"+dead+"-1", ".model.tmp-4242")
	if b, err := os.ReadFile(filepath.Join(parent, "model", "model.json")); err != nil || string(b) != "old model" {
		t.Errorf("model.json = %q, %v; want the moved-aside directory back", b, err)
	}

	// With dir present, a moved-aside copy is stale and removed; the next
	// write cleans up before it swaps.
	writeTree(t, parent, map[string]string{".model.tmp-" + dead + "-9.old/model.json": "older"})
	if err := os.WriteFile(filepath.Join(parent, "model", "model.json"), []byte(`{"schema_version": 1, "checksum": ""}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(filepath.Join(parent, "model"), modelFiles("a.json", "1")); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, parent, "model", ".model.tmp-"+live+"-789", ".model.tmp-notes", ".other.tmp-"+dead+"-1", ".model.tmp-4242")
	assertOnly(t, filepath.Join(parent, "model"), "model.json", "a.json")
}
