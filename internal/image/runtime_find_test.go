package image

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/modelci/modelci/internal/image/imagetest"
)

// TestRuntimeBesideExecutable: a modelci-serve next to the modelci binary
// (through a symlink to it) is used before the prebuilt directory and
// before any go build; a plain modelci-serve only for its own
// architecture, a modelci-serve-linux-<arch> for that platform.
func TestRuntimeBesideExecutable(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	exe := writeFile(t, bin, "modelci", []byte("#!/bin/sh\n"), 0o755)
	writeFile(t, bin, "modelci-serve", imagetest.ELF(elf.EM_X86_64, false, "beside amd"), 0o755)
	writeFile(t, bin, "modelci-serve-linux-arm64", imagetest.ELF(elf.EM_AARCH64, false, "beside arm"), 0o755)
	link := filepath.Join(t.TempDir(), "modelci")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	pre := t.TempDir()
	writeFile(t, pre, "linux-amd64/modelci-serve", imagetest.ELF(elf.EM_X86_64, false, "prebuilt amd"), 0o755)
	noGo := func(string) (string, error) { return "", exec.ErrNotFound }

	cases := []struct {
		name      string
		exe       func() (string, error)
		platforms []v1.Platform
		want      []string
		err       string
	}{
		{name: "both beside, through a symlink", exe: func() (string, error) { return link, nil }, platforms: []v1.Platform{amd64, arm64}, want: []string{"beside amd", "beside arm"}},
		{name: "plain name of another arch is not used", exe: func() (string, error) { return filepath.Join(t.TempDir(), "modelci"), nil }, platforms: []v1.Platform{amd64}, want: []string{"prebuilt amd"}},
		{name: "no executable: prebuilt, then nothing", exe: func() (string, error) { return "", errors.New("unknown") }, platforms: []v1.Platform{amd64, arm64}, err: "no serving runtime for linux/arm64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &RuntimeFinder{Dir: pre, Executable: tc.exe, LookPath: noGo}
			rts, err := f.Find(context.Background(), tc.platforms)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rts) != len(tc.want) {
				t.Fatalf("%d runtimes, want %d", len(rts), len(tc.want))
			}
			for i, w := range tc.want {
				if !bytes.HasSuffix(rts[i].Binary, []byte(w)) {
					t.Errorf("runtime %d is not %q (origin %s)", i, w, rts[i].Origin)
				}
			}
		})
	}

	// A plain modelci-serve of the wrong architecture next to modelci is
	// skipped, not an error, when the platform is found elsewhere.
	wrong := t.TempDir()
	writeFile(t, wrong, "modelci-serve", imagetest.ELF(elf.EM_AARCH64, false, "arm"), 0o755)
	f := &RuntimeFinder{Dir: pre, Executable: func() (string, error) { return filepath.Join(wrong, "modelci"), nil }, LookPath: noGo}
	rts, err := f.Find(context.Background(), []v1.Platform{amd64})
	if err != nil || !bytes.HasSuffix(rts[0].Binary, []byte("prebuilt amd")) {
		t.Errorf("wrong-arch modelci-serve beside modelci: %v", err)
	}
}

// TestRuntimeSkip: with Skip set, a platform without a runtime is reported
// and left out; with none left Find fails; without Skip it fails.
func TestRuntimeSkip(t *testing.T) {
	t.Parallel()
	pre := t.TempDir()
	writeFile(t, pre, "linux-amd64/modelci-serve", imagetest.ELF(elf.EM_X86_64, false, "prebuilt amd"), 0o755)
	noExe := func() (string, error) { return "", errors.New("none") }
	noGo := func(string) (string, error) { return "", exec.ErrNotFound }

	var skipped []string
	f := &RuntimeFinder{Dir: pre, Executable: noExe, LookPath: noGo, Skip: func(p v1.Platform, reason error) {
		skipped = append(skipped, p.String()+": "+reason.Error())
	}}
	armv7 := v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	rts, err := f.Find(context.Background(), []v1.Platform{amd64, arm64, armv7})
	if err != nil {
		t.Fatal(err)
	}
	if len(rts) != 1 || rts[0].Platform.Architecture != "amd64" {
		t.Fatalf("runtimes %v, want only linux/amd64", rts)
	}
	if len(skipped) != 2 {
		t.Fatalf("skipped %q, want linux/arm64 and linux/arm/v7", skipped)
	}
	for i, p := range []string{"linux/arm64", "linux/arm/v7"} {
		// Each reason is about its own platform.
		if !strings.HasPrefix(skipped[i], p+": no serving runtime for "+p+":") || !strings.Contains(skipped[i], "go command is not on PATH") || !strings.Contains(skipped[i], "--runtime "+p+"=") {
			t.Errorf("skipped[%d] = %q, want %s with its reason", i, skipped[i], p)
		}
	}

	f.Dir = t.TempDir()
	if _, err := f.Find(context.Background(), []v1.Platform{amd64, arm64}); err == nil || !strings.Contains(err.Error(), "no serving runtime for linux/amd64") {
		t.Errorf("nothing found: err = %v", err)
	}

	strict := &RuntimeFinder{Dir: pre, Executable: noExe, LookPath: noGo}
	if _, err := strict.Find(context.Background(), []v1.Platform{amd64, arm64}); err == nil {
		t.Error("without Skip a missing platform is not an error")
	}
}

// TestRuntimeModuleVersionChecks: only a released build of the modelci
// module downloads its source; the reasons say why not.
func TestRuntimeModuleVersionChecks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "no build information"},
		{"other module", &debug.BuildInfo{Main: debug.Module{Path: "example.com/x", Version: "v1.0.0"}}, "not built from"},
		{"devel", &debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "(devel)"}}, "development build"},
		{"dirty", &debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "v0.4.1-0.20260101000000-abcdefabcdef+dirty"}}, "development build"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := &fakeGo{}
			f := &RuntimeFinder{BuildInfo: func() (*debug.BuildInfo, bool) { return tc.bi, tc.bi != nil }, Run: g.run}
			_, err := f.moduleCacheSource(context.Background(), "go")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if len(g.calls) != 0 {
				t.Errorf("ran %v", g.calls)
			}
		})
	}
}

// TestRuntimeFromModuleCache builds the real runtime the way a modelci
// installed with `go install …/cmd/modelci@v0.99.0` does outside a clone:
// the module is served by a file-based module proxy (this checkout's
// source at v0.99.0, its dependencies from the machine's module cache), so
// no network is used.
func TestRuntimeFromModuleCache(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds with the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	realCache := strings.TrimSpace(string(out))
	src, err := findModuleRoot("")
	if err != nil {
		t.Fatal(err)
	}
	const version = "v0.99.0"
	proxy := t.TempDir()
	writeModuleProxy(t, proxy, src, version)
	modCache := t.TempDir()
	t.Cleanup(func() { makeWritable(modCache) })
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOPROXY", "GOMODCACHE", "GOSUMDB", "GONOSUMDB", "GOFLAGS", "GOPRIVATE", "GONOPROXY":
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(filepath.Join(realCache, "cache", "download")),
		"GOMODCACHE="+modCache,
		"GOSUMDB=off",
	)
	var logs []string
	f := &RuntimeFinder{
		Dir:        t.TempDir(),
		WorkDir:    t.TempDir(), // outside any module
		Environ:    env,
		Executable: func() (string, error) { return "", errors.New("none") },
		BuildInfo: func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: version}}, true
		},
		Logf: func(format string, args ...any) { logs = append(logs, format) },
	}
	rts, err := f.Find(context.Background(), []v1.Platform{amd64})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkStaticELFBytes(t, rts[0].Binary, "amd64"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rts[0].Origin, version) {
		t.Errorf("origin %q does not name the version", rts[0].Origin)
	}
	wantDir := filepath.Join(modCache, ModulePath+"@"+version)
	if _, err := os.Stat(filepath.Join(wantDir, "cmd", "modelci-serve")); err != nil {
		t.Errorf("the module was not downloaded to %s: %v", wantDir, err)
	}
	// The runtime built from the module cache is byte-for-byte the one
	// built from the clone: the same source and flags.
	dev := &RuntimeFinder{Dir: t.TempDir(), WorkDir: src, Environ: os.Environ(), Executable: f.Executable}
	devRts, err := dev.Find(context.Background(), []v1.Platform{amd64})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(devRts[0].Binary, rts[0].Binary) {
		t.Error("the runtime built from the module cache differs from the clone's build")
	}
}

// writeModuleProxy lays out a GOPROXY directory serving ModulePath at
// version, with the non-test Go files, go.mod and go.sum of src.
func writeModuleProxy(t *testing.T, proxy, src, version string) {
	t.Helper()
	dir := filepath.Join(proxy, filepath.FromSlash(ModulePath), "@v")
	gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "list", []byte(version+"\n"), 0o644)
	writeFile(t, dir, version+".info", []byte(`{"Version":"`+version+`","Time":"2026-01-01T00:00:00Z"}`), 0o644)
	writeFile(t, dir, version+".mod", gomod, 0o644)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	prefix := ModulePath + "@" + version + "/"
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "dist") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || (rel != "go.mod" && rel != "go.sum" && (!strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go"))) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(prefix + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, version+".zip", buf.Bytes(), 0o644)
}

// makeWritable undoes the module cache's read-only modes so the test's
// temporary directory can be removed.
func makeWritable(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
}
