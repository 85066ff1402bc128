package baseline

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestDirty reads a real repository's working tree: clean after a commit,
// dirty with a modified, staged or deleted tracked file, and clean again
// with only untracked files (such as modelci's own dist/modelci).
func TestDirty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name  string
		setup func(t *testing.T, root string)
		dirty bool
	}{
		{"clean", func(t *testing.T, root string) {}, false},
		{"untracked files only", func(t *testing.T, root string) {
			write(t, filepath.Join(root, "sub", "dist", "modelci", "model", "model.json"), "{}\n")
			write(t, filepath.Join(root, "notes.txt"), "x\n")
		}, false},
		{"a modified data file", func(t *testing.T, root string) {
			write(t, filepath.Join(root, "sub", "data.csv"), csv(91, 3))
		}, true},
		{"a staged new file", func(t *testing.T, root string) {
			write(t, filepath.Join(root, "sub", "extra.csv"), "x\n1\n")
			git(t, root, "add", "sub/extra.csv")
		}, true},
		{"a deleted config", func(t *testing.T, root string) {
			if err := os.Remove(filepath.Join(root, "sub", "modelci.yaml")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a change outside the project directory", func(t *testing.T, root string) {
			write(t, filepath.Join(root, "README"), "changed\n")
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, _ := repo(t)
			tc.setup(t, root)
			r := &Resolver{}
			got, err := r.Dirty(ctx, filepath.Join(root, "sub"))
			if err != nil || got != tc.dirty {
				t.Errorf("Dirty = %v, %v; want %v", got, err, tc.dirty)
			}
		})
	}
	if _, err := (&Resolver{}).Dirty(ctx, t.TempDir()); err == nil {
		t.Error("Dirty outside a repository: no error")
	}
}
