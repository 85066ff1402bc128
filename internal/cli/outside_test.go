package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestOutsideModule runs the built modelci binary in a project outside the
// modelci module, as a user who installed it does:
// with modelci-serve next to modelci, `modelci run` and `modelci package`
// need no flags; a local run packages the platforms it has a runtime for
// and says what it skipped; with no runtime at all the error is printed
// once.
func TestOutsideModule(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds modelci and modelci-serve")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, b := range []struct{ out, pkg, goos string }{
		{"modelci", "./cmd/modelci", runtime.GOOS},
		{"modelci-serve", "./cmd/modelci-serve", "linux"},
	} {
		cmd := exec.Command(goBin, "build", "-trimpath", "-buildvcs=false", "-o", filepath.Join(bin, b.out), b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+b.goos, "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	// modelci alone, with no runtime next to it.
	alone := t.TempDir()
	copyFile(t, filepath.Join(bin, "modelci"), filepath.Join(alone, "modelci"))

	data, err := os.ReadFile(filepath.Join(root, "examples", "house-prices", "data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const config = "name: house-prices\ndata: {path: data.csv, target: price, categorical: [city]}\nmodel: {type: ridge}\n"
	host := "linux/" + runtime.GOARCH
	other := "linux/arm64"
	if runtime.GOARCH == "arm64" {
		other = "linux/amd64"
	}

	cases := []struct {
		name     string
		modelci  string
		args     []string
		config   string
		wantCode int
		// platforms of the image written to layout.
		layout    string
		platforms []string
		stdout    []string
		// once must occur exactly once in stdout and stderr together.
		once string
	}{
		{
			name: "run, runtime next to modelci", modelci: filepath.Join(bin, "modelci"), args: []string{"run"}, config: config,
			layout: "dist/modelci/image", platforms: []string{host},
			stdout: []string{"a local build", "from " + filepath.Join(bin, "modelci-serve") + ")"},
		},
		{
			name: "package, runtime next to modelci", modelci: filepath.Join(bin, "modelci"), args: []string{"package", "--model", "model", "--platform", host}, config: config,
			layout: "dist/image", platforms: []string{host},
		},
		{
			name: "run, a configured platform without a runtime is skipped", modelci: filepath.Join(bin, "modelci"), args: []string{"run"},
			config: config + "image: {platforms: [" + host + ", " + other + "]}\n",
			layout: "dist/modelci/image", platforms: []string{host},
			stdout: []string{"skipped platform " + other},
		},
		{
			name: "run, no runtime at all", modelci: filepath.Join(alone, "modelci"), args: []string{"run"}, config: config,
			wantCode: 1, once: "no serving runtime for " + host,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTestFile(t, filepath.Join(dir, "modelci.yaml"), tc.config)
			writeTestFile(t, filepath.Join(dir, "data.csv"), string(data))
			env := []string{
				"PATH=/usr/bin:/bin", // no go command: nothing can be built
				"HOME=" + t.TempDir(),
				"SOURCE_DATE_EPOCH=1700000000",
				"MODELCI_RUNTIME_DIR=" + t.TempDir(),
			}
			if tc.args[0] == "package" {
				train := exec.Command(tc.modelci, "train", "--out", "model")
				train.Dir, train.Env = dir, env
				if out, err := train.CombinedOutput(); err != nil {
					t.Fatalf("train: %v\n%s", err, out)
				}
			}
			cmd := exec.Command(tc.modelci, tc.args...)
			cmd.Dir, cmd.Env = dir, env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			all := stdout.String() + stderr.String()
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tc.wantCode, all)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			if tc.once != "" {
				if n := strings.Count(all, tc.once); n != 1 {
					t.Errorf("%q is printed %d times, want once:\nstdout:\n%s\nstderr:\n%s", tc.once, n, stdout.String(), stderr.String())
				}
			}
			if tc.layout != "" {
				got := layoutPlatforms(t, filepath.Join(dir, tc.layout))
				if !slices.Equal(got, tc.platforms) {
					t.Errorf("image platforms %v, want %v\n%s", got, tc.platforms, all)
				}
			}
		})
	}
}

// layoutPlatforms lists the platforms of the image index in an OCI layout.
func layoutPlatforms(t *testing.T, dir string) []string {
	t.Helper()
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range m.Manifests {
		if d.MediaType != types.OCIImageIndex {
			continue
		}
		idx, err := top.ImageIndex(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range im.Manifests {
			if p.Platform != nil && !slices.Contains(out, p.Platform.String()) {
				out = append(out, p.Platform.String())
			}
		}
	}
	return out
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
