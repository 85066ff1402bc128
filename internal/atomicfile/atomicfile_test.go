package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "report.md")
	for _, content := range []string{"first\n", "second, longer\n"} {
		if err := WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != content {
			t.Fatalf("content %q, %v", b, err)
		}
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
	assertOnly(t, filepath.Join(dir, "sub"), "report.md")
}

func TestWriteDirReplacesAtomically(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	if err := WriteDir(dir, modelFiles("a.json", "1", "b.json", "2")); err != nil {
		t.Fatal(err)
	}
	// A second write replaces the whole directory: b.json is gone.
	if err := WriteDir(dir, modelFiles("a.json", "3", "c.json", "4")); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "model.json", "a.json", "c.json")
	if b, _ := os.ReadFile(filepath.Join(dir, "a.json")); string(b) != "3" {
		t.Errorf("a.json = %q", b)
	}
	assertOnly(t, parent, "model")
}

func TestWriteDirFailureLeavesOldContent(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	if err := WriteDir(dir, map[string][]byte{"a.json": []byte("old")}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		files map[string][]byte
	}{
		{"path traversal", map[string][]byte{"../evil": []byte("x")}},
		{"nested name", map[string][]byte{"sub/a.json": []byte("x")}},
		{"dot", map[string][]byte{"..": []byte("x")}},
	}
	for _, tc := range cases {
		if err := WriteDir(dir, tc.files); err == nil || !strings.Contains(err.Error(), "plain name") {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	assertOnly(t, dir, "a.json")
	if b, _ := os.ReadFile(filepath.Join(dir, "a.json")); string(b) != "old" {
		t.Errorf("old content changed: %q", b)
	}
	assertOnly(t, parent, "model")
	// A file where the directory should be is an error, and it stays.
	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(file, map[string][]byte{"a": nil}); err == nil {
		t.Error("replaced a regular file with a directory")
	}
	assertOnly(t, parent, "file", "model")
}

// assertOnly checks that dir holds exactly names: no temporary leftovers.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	sort.Strings(names)
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

// TestReplaceDirFillFails: when fill fails, the old directory stays and the
// temporary one is removed.
func TestReplaceDirFillFails(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "layout")
	if err := WriteDir(dir, modelFiles("index.json", "old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := ReplaceDir(dir, ModelDir, func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, "index.json"), []byte("new"), 0o644); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "index.json")); string(b) != "old" {
		t.Errorf("old content changed: %q", b)
	}
	assertOnly(t, parent, "layout")
}
