package image

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/modelci/modelci/internal/image/imagetest"
	"github.com/modelci/modelci/internal/proc"
)

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64"}
)

// fakeGo records go commands and "builds" by writing a fake ELF of the
// requested GOARCH to the -o path.
type fakeGo struct {
	mu    sync.Mutex
	calls []proc.Command
}

func (g *fakeGo) run(_ context.Context, c proc.Command) ([]byte, error) {
	g.mu.Lock()
	g.calls = append(g.calls, c)
	g.mu.Unlock()
	if len(c.Args) > 0 && c.Args[0] == "version" {
		return []byte("go version go1.99 linux/amd64\n"), nil
	}
	env := map[string]string{}
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[env["GOARCH"]]
	out := c.Args[slices.Index(c.Args, "-o")+1]
	return nil, os.WriteFile(out, imagetest.ELF(machine, false, "built "+env["GOARCH"]), 0o755)
}

func (g *fakeGo) builds() []proc.Command {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []proc.Command
	for _, c := range g.calls {
		if len(c.Args) > 0 && c.Args[0] == "build" {
			out = append(out, c)
		}
	}
	return out
}

// fakeModule writes a directory that looks like the modelci module.
func fakeModule(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFile(t, root, "go.mod", []byte("module "+ModulePath+"\n\ngo 1.26\n"), 0o644)
	writeFile(t, root, "cmd/modelci-serve/main.go", []byte("package main\n\nfunc main() {}\n"), 0o644)
	return root
}

func TestRuntimeFinder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	amdBin := writeFile(t, dir, "amd", imagetest.ELF(elf.EM_X86_64, false, "amd"), 0o755)
	armBin := writeFile(t, dir, "arm", imagetest.ELF(elf.EM_AARCH64, false, "arm"), 0o755)
	dynBin := writeFile(t, dir, "dyn", imagetest.ELF(elf.EM_X86_64, true, ""), 0o755)
	script := writeFile(t, dir, "script", []byte("#!/bin/sh\necho hi\n"), 0o755)
	pre := t.TempDir()
	writeFile(t, pre, "linux-amd64/modelci-serve", imagetest.ELF(elf.EM_X86_64, false, "prebuilt amd"), 0o755)
	writeFile(t, pre, "linux-arm64/modelci-serve", imagetest.ELF(elf.EM_AARCH64, false, "prebuilt arm"), 0o755)
	noGo := func(string) (string, error) { return "", exec.ErrNotFound }

	cases := []struct {
		name      string
		finder    RuntimeFinder
		platforms []v1.Platform
		// want is the origin of each runtime's bytes ("amd", "prebuilt
		// amd", "built amd64"…), matched as a suffix of the binary.
		want []string
		err  []string
	}{
		{
			name:      "explicit per platform",
			finder:    RuntimeFinder{Dir: pre, Flags: []string{"linux/amd64=" + amdBin, "linux/arm64=" + armBin}, LookPath: noGo},
			platforms: []v1.Platform{amd64, arm64},
			want:      []string{"amd", "arm"},
		},
		{
			name:      "explicit wins over the prebuilt copy, the rest is prebuilt",
			finder:    RuntimeFinder{Dir: pre, Flags: []string{"linux/arm64=" + armBin}, LookPath: noGo},
			platforms: []v1.Platform{amd64, arm64},
			want:      []string{"prebuilt amd", "arm"},
		},
		{
			name:      "bare path of the only platform",
			finder:    RuntimeFinder{Dir: pre, Flags: []string{armBin}, LookPath: noGo},
			platforms: []v1.Platform{arm64},
			want:      []string{"arm"},
		},
		{
			name:      "bare path for two platforms",
			finder:    RuntimeFinder{Dir: pre, Flags: []string{amdBin}, LookPath: noGo},
			platforms: []v1.Platform{amd64, arm64},
			err:       []string{"is a linux/amd64 binary, but the image also needs linux/arm64", "--runtime linux/arm64=PATH"},
		},
		{
			name:      "explicit path of the wrong architecture",
			finder:    RuntimeFinder{Flags: []string{"linux/arm64=" + amdBin}, LookPath: noGo},
			platforms: []v1.Platform{arm64},
			err:       []string{"is a linux/amd64 binary, not linux/arm64"},
		},
		{
			name:      "dynamically linked",
			finder:    RuntimeFinder{Flags: []string{"linux/amd64=" + dynBin}, LookPath: noGo},
			platforms: []v1.Platform{amd64},
			err:       []string{"dynamically linked", "/lib64/ld-linux-x86-64.so.2", "CGO_ENABLED=0"},
		},
		{
			name:      "not an ELF",
			finder:    RuntimeFinder{Flags: []string{script}, LookPath: noGo},
			platforms: []v1.Platform{amd64},
			err:       []string{"not an ELF executable"},
		},
		{
			name:      "platform not in the image",
			finder:    RuntimeFinder{Flags: []string{"linux/arm64=" + armBin}, LookPath: noGo},
			platforms: []v1.Platform{amd64},
			err:       []string{"not one of the image's platforms"},
		},
		{
			name:      "two bare paths",
			finder:    RuntimeFinder{Flags: []string{amdBin, armBin}, LookPath: noGo},
			platforms: []v1.Platform{amd64},
			err:       []string{"at most one bare PATH"},
		},
		{
			name:      "prebuilt copies",
			finder:    RuntimeFinder{Dir: pre, LookPath: noGo},
			platforms: []v1.Platform{amd64, arm64},
			want:      []string{"prebuilt amd", "prebuilt arm"},
		},
		{
			name:      "nothing works: the error says what to do",
			finder:    RuntimeFinder{Dir: t.TempDir(), LookPath: noGo},
			platforms: []v1.Platform{amd64},
			err:       []string{"no serving runtime for linux/amd64", "go command is not on PATH", "--runtime linux/amd64=", "CGO_ENABLED=0 GOOS=linux GOARCH=amd64"},
		},
		{
			name:      "go present but no module source",
			finder:    RuntimeFinder{Dir: t.TempDir(), WorkDir: t.TempDir(), LookPath: func(string) (string, error) { return "/usr/bin/go", nil }},
			platforms: []v1.Platform{amd64},
			err:       []string{"module source is not at or above"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rts, err := tc.finder.Find(context.Background(), tc.platforms)
			if tc.err != nil {
				if err == nil {
					t.Fatal("Find succeeded")
				}
				for _, s := range tc.err {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rts) != len(tc.want) {
				t.Fatalf("%d runtimes, want %d", len(rts), len(tc.want))
			}
			for i, rt := range rts {
				if rt.Platform.String() != tc.platforms[i].String() {
					t.Errorf("runtime %d is for %s, want %s", i, rt.Platform, tc.platforms[i])
				}
				if !bytes.HasSuffix(rt.Binary, []byte(tc.want[i])) || (tc.want[i] == "amd" && bytes.HasSuffix(rt.Binary, []byte("prebuilt amd"))) {
					t.Errorf("runtime %d is not %q", i, tc.want[i])
				}
			}
		})
	}
}

// TestRuntimeGoBuild: without a prebuilt copy or a flag, the runtime is
// built with go build, pinned flags and environment, once per platform,
// and a second Find reuses the cache.
func TestRuntimeGoBuild(t *testing.T) {
	t.Parallel()
	root := fakeModule(t)
	work := filepath.Join(root, "cmd", "modelci-serve")
	cache := t.TempDir()
	g := &fakeGo{}
	f := &RuntimeFinder{
		Dir:      t.TempDir(),
		WorkDir:  work,
		CacheDir: cache,
		Environ:  []string{"HOME=/root", "GOFLAGS=-race", "GOARCH=386", "CGO_ENABLED=1", "GOAMD64=v3"},
		Run:      g.run,
		LookPath: func(string) (string, error) { return "/usr/local/go/bin/go", nil },
	}
	rts, err := f.Find(context.Background(), []v1.Platform{amd64, arm64})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(rts[0].Binary, []byte("built amd64")) || !bytes.HasSuffix(rts[1].Binary, []byte("built arm64")) {
		t.Fatal("runtimes are not the built binaries")
	}
	builds := g.builds()
	if len(builds) != 2 {
		t.Fatalf("%d go builds, want 2", len(builds))
	}
	for i, c := range builds {
		if c.Dir != root {
			t.Errorf("build %d ran in %s, want the module root %s", i, c.Dir, root)
		}
		args := strings.Join(c.Args, " ")
		for _, want := range []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", RuntimePackage} {
			if !strings.Contains(args, want) {
				t.Errorf("build %d args %q lack %q", i, args, want)
			}
		}
		env := map[string][]string{}
		for _, kv := range c.Env {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = append(env[k], v)
		}
		wantArch := []string{"amd64", "arm64"}[i]
		for k, v := range map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": wantArch, "GOFLAGS": "", "GOAMD64": "v1", "HOME": "/root"} {
			if len(env[k]) != 1 || env[k][0] != v {
				t.Errorf("build %d: %s=%q, want exactly %q", i, k, env[k], v)
			}
		}
	}
	again, err := f.Find(context.Background(), []v1.Platform{amd64, arm64})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(g.builds()); n != 2 {
		t.Errorf("second Find ran go build again (%d builds)", n)
	}
	if !bytes.Equal(again[0].Binary, rts[0].Binary) || !bytes.Equal(again[1].Binary, rts[1].Binary) {
		t.Error("cached runtimes differ")
	}
	// A source change is a new cache key.
	writeFile(t, root, "cmd/modelci-serve/extra.go", []byte("package main\n"), 0o644)
	if _, err := f.Find(context.Background(), []v1.Platform{amd64}); err != nil {
		t.Fatal(err)
	}
	if n := len(g.builds()); n != 3 {
		t.Errorf("a source change did not rebuild (%d builds)", n)
	}
}

// TestRuntimeGoBuildReproducible builds a real program twice with the real
// go command from two different directories: the bytes must be equal, so
// the runtime layer is shared by identical builds.
func TestRuntimeGoBuildReproducible(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds with the go command")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	src := "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() { fmt.Fprintln(os.Stdout, \"serve\") }\n"
	var bins [][]byte
	for i := 0; i < 2; i++ {
		root := t.TempDir()
		writeFile(t, root, "go.mod", []byte("module "+ModulePath+"\n\ngo 1.22\n"), 0o644)
		writeFile(t, root, "cmd/modelci-serve/main.go", []byte(src), 0o644)
		f := &RuntimeFinder{Dir: t.TempDir(), WorkDir: root, Environ: os.Environ()}
		rts, err := f.Find(context.Background(), []v1.Platform{amd64, arm64})
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range rts {
			if _, err := checkStaticELFBytes(t, rt.Binary, rt.Platform.Architecture); err != nil {
				t.Errorf("%s: %v", rt.Platform, err)
			}
		}
		bins = append(bins, rts[0].Binary, rts[1].Binary)
	}
	if !bytes.Equal(bins[0], bins[2]) || !bytes.Equal(bins[1], bins[3]) {
		t.Error("two builds of the same source in different directories differ")
	}
	if bytes.Equal(bins[0], bins[1]) {
		t.Error("amd64 and arm64 builds are identical")
	}
}

func checkStaticELFBytes(t *testing.T, b []byte, arch string) (string, error) {
	t.Helper()
	p := writeFile(t, t.TempDir(), "bin", b, 0o755)
	return checkStaticELF(p, arch)
}

func TestFindModuleRoot(t *testing.T) {
	t.Parallel()
	root := fakeModule(t)
	got, err := findModuleRoot(filepath.Join(root, "cmd", "modelci-serve"))
	if err != nil || got != root {
		t.Errorf("findModuleRoot = %q, %v; want %q", got, err, root)
	}
	other := t.TempDir()
	writeFile(t, other, "go.mod", []byte("module example.com/other\n"), 0o644)
	if _, err := findModuleRoot(other); err == nil || !strings.Contains(err.Error(), "not at or above") {
		t.Errorf("other module: %v", err)
	}
	noCmd := t.TempDir()
	writeFile(t, noCmd, "go.mod", []byte("module "+ModulePath+"\n"), 0o644)
	if _, err := findModuleRoot(noCmd); err == nil || !strings.Contains(err.Error(), "has no") {
		t.Errorf("module without the runtime: %v", err)
	}
}

func TestPruneCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keys := []string{"aaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaaaaaaaaaa3", "aaaaaaaaaaaaaaaaaaaaaaa4", "aaaaaaaaaaaaaaaaaaaaaaa5"}
	for i, k := range keys {
		writeFile(t, dir, k+"/linux-amd64/modelci-serve", []byte("x"), 0o755)
		mod := testCreated.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(filepath.Join(dir, k), mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dir, "not-a-key/keep", []byte("x"), 0o644)
	pruneCache(dir, keys[0], 3)
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{keys[0], keys[3], keys[4], "not-a-key"}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v (the current entry, the two newest others, and foreign files)", left, want)
	}
}
