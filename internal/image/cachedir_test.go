package image

import (
	"context"
	"debug/elf"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/modelci/modelci/internal/image/imagetest"
)

// TestRuntimeCacheDir: the cache goes to the user cache directory when it
// is usable, else to the CI's temp directory, never failing because HOME
// is not writable. Unwritable bases are paths below a regular file, which
// even root cannot create directories in.
func TestRuntimeCacheDir(t *testing.T) {
	t.Parallel()
	// Bases by role: "ok" is a fresh writable directory, "bad" one below a
	// regular file, "rel" a relative path, "" unset.
	type bases struct{ userCache, runnerTemp, tmpdir, osTemp string }
	tests := []struct {
		name    string
		b       bases
		userErr error
		want    string // the role whose base holds the cache; "" for none
	}{
		{"user cache", bases{"ok", "ok", "ok", "ok"}, nil, "userCache"},
		{"HOME unwritable: RUNNER_TEMP", bases{"bad", "ok", "ok", "ok"}, nil, "runnerTemp"},
		{"HOME unset: RUNNER_TEMP", bases{"", "ok", "", "ok"}, errors.New("neither $XDG_CACHE_HOME nor $HOME are defined"), "runnerTemp"},
		{"RUNNER_TEMP unwritable: TMPDIR", bases{"bad", "bad", "ok", "ok"}, nil, "tmpdir"},
		{"no RUNNER_TEMP: TMPDIR", bases{"bad", "", "ok", "ok"}, nil, "tmpdir"},
		{"relative bases are skipped", bases{"rel", "rel", "rel", "ok"}, nil, "osTemp"},
		{"only os.TempDir", bases{"bad", "", "", "ok"}, nil, "osTemp"},
		{"nothing writable: no cache", bases{"bad", "", "bad", "bad"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			file := filepath.Join(tmp, "a-file")
			if err := os.WriteFile(file, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			paths := map[string]string{}
			resolve := func(role, kind string) string {
				switch kind {
				case "ok":
					paths[role] = filepath.Join(tmp, role)
					if err := os.Mkdir(paths[role], 0o755); err != nil {
						t.Fatal(err)
					}
				case "bad":
					paths[role] = filepath.Join(file, role)
				case "rel":
					paths[role] = filepath.Join("relative", role)
				}
				return paths[role]
			}
			env := map[string]string{
				"RUNNER_TEMP": resolve("runnerTemp", tt.b.runnerTemp),
				"TMPDIR":      resolve("tmpdir", tt.b.tmpdir),
			}
			userCache, osTemp := resolve("userCache", tt.b.userCache), resolve("osTemp", tt.b.osTemp)
			got := RuntimeCacheDir(
				func(k string) string { return env[k] },
				func() (string, error) { return userCache, tt.userErr },
				func() string { return osTemp },
			)
			want := ""
			if tt.want != "" {
				want = filepath.Join(paths[tt.want], "modelci", "runtime")
			}
			if got != want {
				t.Fatalf("RuntimeCacheDir = %q, want %q", got, want)
			}
			if want == "" {
				return
			}
			entries, err := os.ReadDir(got)
			if err != nil {
				t.Fatalf("the chosen directory: %v", err)
			}
			for _, e := range entries {
				t.Errorf("the probe left %s behind", e.Name())
			}
		})
	}
}

// TestRuntimeCacheDirFunc: the finder asks for a cache directory only when
// it has to build a runtime, once, and builds into what it was given;
// with prebuilt runtimes nothing is asked for (nothing gets created).
func TestRuntimeCacheDirFunc(t *testing.T) {
	t.Parallel()
	pre := t.TempDir()
	writeFile(t, pre, "linux-amd64/modelci-serve", imagetest.ELF(elf.EM_X86_64, false, "prebuilt amd"), 0o755)
	writeFile(t, pre, "linux-arm64/modelci-serve", imagetest.ELF(elf.EM_AARCH64, false, "prebuilt arm"), 0o755)
	tests := []struct {
		name       string
		dir        string
		wantCalls  int
		wantCached bool
	}{
		{"prebuilt runtimes: not asked", pre, 0, false},
		{"go build: asked once, cached there", "", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cache := filepath.Join(t.TempDir(), "modelci", "runtime")
			calls := 0
			dir := tt.dir
			if dir == "" {
				dir = t.TempDir()
			}
			g := &fakeGo{}
			f := &RuntimeFinder{
				Dir:          dir,
				WorkDir:      fakeModule(t),
				CacheDirFunc: func() string { calls++; return cache },
				Run:          g.run,
				LookPath:     func(string) (string, error) { return "/usr/local/go/bin/go", nil },
			}
			if _, err := f.Find(context.Background(), []v1.Platform{amd64, arm64}); err != nil {
				t.Fatal(err)
			}
			if calls != tt.wantCalls {
				t.Errorf("CacheDirFunc called %d times, want %d", calls, tt.wantCalls)
			}
			var cached []string
			_ = filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					cached = append(cached, p)
				}
				return nil
			})
			if tt.wantCached != (len(cached) == 2) || (!tt.wantCached && len(cached) != 0) {
				t.Errorf("cache holds %q", cached)
			}
		})
	}
}
