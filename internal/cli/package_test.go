package cli

import (
	"github.com/modelci/modelci/internal/workflow"

	"bytes"
	"context"
	"debug/elf"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/image/imagetest"
	"github.com/modelci/modelci/internal/model"
)

// packageFixture trains the small regression model and writes two fake
// static runtimes; it returns the model directory and the --runtime flags.
func packageFixture(t *testing.T) (string, []string) {
	t.Helper()
	dir := project(t, map[string]string{"modelci.yaml": "name: prices\n" + minimalConfig, "data.csv": regressionCSV(60)})
	env, _, _ := testEnv()
	out := filepath.Join(dir, "model")
	if err := Run(context.Background(), env, []string{"train", "--config", filepath.Join(dir, "modelci.yaml"), "--out", out}); err != nil {
		t.Fatal(err)
	}
	amd := filepath.Join(dir, "serve-amd64")
	arm := filepath.Join(dir, "serve-arm64")
	if err := os.WriteFile(amd, imagetest.ELF(elf.EM_X86_64, false, "amd64"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(arm, imagetest.ELF(elf.EM_AARCH64, false, "arm64"), 0o755); err != nil {
		t.Fatal(err)
	}
	return out, []string{"--runtime", "linux/amd64=" + amd, "--runtime", "linux/arm64=" + arm, "--config", filepath.Join(dir, "modelci.yaml"), "--revision", "rev1"}
}

// envWith returns a test Env whose Getenv reads vars.
func envWith(vars map[string]string, stdin string) (Env, *bytes.Buffer, *bytes.Buffer) {
	env, out, errb := testEnv()
	env.Getenv = func(k string) string { return vars[k] }
	env.Stdin = strings.NewReader(stdin)
	return env, out, errb
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// countingRegistry is an in-memory registry with basic auth that counts
// completed blob uploads.
func countingRegistry(t *testing.T, user, password string) (string, *atomic.Int64) {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var uploads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") {
			uploads.Add(1)
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), &uploads
}

// TestPackageLayout: the default output is an OCI layout; two runs with the
// same SOURCE_DATE_EPOCH give the same digest; the last line is the
// reference by digest.
func TestPackageLayout(t *testing.T) {
	t.Parallel()
	modelDir, flags := packageFixture(t)
	vars := map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}
	var refs []string
	for i := 0; i < 2; i++ {
		layout := filepath.Join(t.TempDir(), "image")
		env, out, errb := envWith(vars, "")
		args := append([]string{"package", "--model", modelDir, "--oci-layout", layout}, flags...)
		if err := Run(context.Background(), env, args); err != nil {
			t.Fatalf("package: %v\n%s", err, errb)
		}
		ref := lastLine(out.String())
		if !strings.HasPrefix(ref, "oci:"+layout+"@sha256:") {
			t.Fatalf("last line %q is not the layout reference\n%s", ref, out)
		}
		if _, err := os.Stat(filepath.Join(layout, "index.json")); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"linux/amd64", "linux/arm64", "model layer", "/models/prices/", "SOURCE_DATE_EPOCH"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		refs = append(refs, ref[strings.Index(ref, "@"):])
	}
	if refs[0] != refs[1] {
		t.Errorf("two packages of the same model differ: %s and %s", refs[0], refs[1])
	}
}

// TestPackagePush pushes with credentials from stdin inside GitHub
// Actions: the password is masked, the reference printed and the
// image_digest output set; a re-push uploads nothing.
func TestPackagePush(t *testing.T) {
	t.Parallel()
	modelDir, flags := packageFixture(t)
	host, uploads := countingRegistry(t, "ci", "hunter2-secret")
	outputs := filepath.Join(t.TempDir(), "github_output")
	if err := os.WriteFile(outputs, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"SOURCE_DATE_EPOCH": "1700000000", "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": outputs, "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": "0123abcd"}
	repo := host + "/acme/prices"
	args := append([]string{"package", "--model", modelDir, "--image", repo, "--registry-username", "ci", "--registry-password-stdin"}, flags...)

	env, out, errb := envWith(vars, "hunter2-secret\n")
	if err := Run(context.Background(), env, args); err != nil {
		t.Fatalf("package: %v\n%s\n%s", err, out, errb)
	}
	ref := lastLine(out.String())
	if !strings.HasPrefix(ref, repo+"@sha256:") {
		t.Fatalf("last line %q is not %s@sha256:…\n%s", ref, repo, out)
	}
	if !strings.Contains(out.String(), "::add-mask::hunter2-secret") {
		t.Errorf("the password was not masked:\n%s", out)
	}
	if n := uploads.Load(); n != 6 {
		t.Errorf("%d blobs uploaded, want 6", n)
	}
	b, err := os.ReadFile(outputs)
	if err != nil {
		t.Fatal(err)
	}
	digest := ref[strings.Index(ref, "@")+1:]
	if !strings.Contains(string(b), "image_digest") || !strings.Contains(string(b), digest) {
		t.Errorf("GITHUB_OUTPUT lacks image_digest=%s:\n%s", digest, b)
	}
	if got, err := workflow.ReadOutputs(outputs); err != nil || len(got) != 2 || got["image"] != ref || got["image_digest"] != digest {
		t.Errorf("GITHUB_OUTPUT is\n%s\nwant image=%s and image_digest=%s only (%v)", b, ref, digest, err)
	}
	// The default tags are the sha and latest.
	for _, tag := range []string{"0123abcd", "latest"} {
		r, err := name.ParseReference(repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		d, err := remote.Head(r, remote.WithAuth(&authn.Basic{Username: "ci", Password: "hunter2-secret"}))
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if d.Digest.String() != digest {
			t.Errorf("%s is %s, want %s", r, d.Digest, digest)
		}
	}

	uploads.Store(0)
	env, out, errb = envWith(vars, "hunter2-secret\n")
	if err := Run(context.Background(), env, args); err != nil {
		t.Fatalf("re-push: %v\n%s", err, errb)
	}
	if n := uploads.Load(); n != 0 {
		t.Errorf("re-push uploaded %d blobs", n)
	}
	if !strings.Contains(out.String(), "pushed 0 blob(s)") {
		t.Errorf("re-push output:\n%s", out)
	}
}

// TestPackagePushErrors: a wrong password fails with exit 1, a message that
// names the registry and the credentials' source and not the password, and
// nothing uploaded; a pull request never pushes.
func TestPackagePushErrors(t *testing.T) {
	t.Parallel()
	modelDir, flags := packageFixture(t)
	host, uploads := countingRegistry(t, "ci", "right")
	repo := host + "/acme/prices"

	env, out, errb := envWith(map[string]string{"SOURCE_DATE_EPOCH": "1"}, "")
	args := append([]string{"package", "--model", modelDir, "--image", repo, "--registry-username", "ci", "--registry-password", "wrong-pw-123"}, flags...)
	err := Run(context.Background(), env, args)
	if exitcode.Of(err) != exitcode.Failure {
		t.Fatalf("exit code %d (%v), want %d", exitcode.Of(err), err, exitcode.Failure)
	}
	for _, want := range []string{host, "registry_username/registry_password", "401"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
	if strings.Contains(out.String()+errb.String(), "wrong-pw-123") {
		t.Error("the password was printed")
	}
	if n := uploads.Load(); n != 0 {
		t.Errorf("%d blobs uploaded with a wrong password", n)
	}

	prEvent := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(prEvent, []byte(`{"repository":{"full_name":"acme/r"},"pull_request":{"head":{"repo":{"full_name":"acme/r"}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env, out, errb = envWith(map[string]string{"SOURCE_DATE_EPOCH": "1", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": prEvent}, "")
	args = append([]string{"package", "--model", modelDir, "--image", repo, "--registry-username", "ci", "--registry-password", "right"}, flags...)
	if err := Run(context.Background(), env, args); err != nil {
		t.Fatalf("package in a pull request: %v\n%s", err, errb)
	}
	if !strings.Contains(out.String(), "not pushing") || uploads.Load() != 0 {
		t.Errorf("a pull request pushed (%d uploads):\n%s", uploads.Load(), out)
	}
}

func TestPackageUsageErrors(t *testing.T) {
	t.Parallel()
	modelDir, flags := packageFixture(t)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad tag", []string{"--image", "127.0.0.1:1/a/b", "--tag", "-x"}, exitcode.Usage, "invalid tag"},
		{"username without password", []string{"--image", "127.0.0.1:1/a/b", "--registry-username", "u"}, exitcode.Usage, "both a username and a password"},
		{"bad platform", []string{"--platform", "windows/amd64"}, exitcode.Usage, "Linux binary"},
		{"repository with tag", []string{"--image", "127.0.0.1:1/a/b:v1"}, exitcode.Usage, "without a tag"},
		{"bad label", []string{"--label", "novalue"}, exitcode.Usage, "KEY=VALUE"},
		{"bad SOURCE_DATE_EPOCH", []string{"--label", "a=b"}, exitcode.Usage, "SOURCE_DATE_EPOCH"},
		{"corrupt model", []string{"--model", "CORRUPT"}, exitcode.Failure, "hashes to"},
	}
	corrupt := filepath.Join(t.TempDir(), "m")
	if err := os.MkdirAll(corrupt, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{model.FileModel, model.FileMetrics, model.FileProfile} {
		b, err := os.ReadFile(filepath.Join(modelDir, n))
		if err != nil {
			t.Fatal(err)
		}
		if n == model.FileProfile {
			b = append(b, ' ')
		}
		if err := os.WriteFile(filepath.Join(corrupt, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"SOURCE_DATE_EPOCH": "1"}
			if tc.name == "bad SOURCE_DATE_EPOCH" {
				vars["SOURCE_DATE_EPOCH"] = "soon"
			}
			env, _, errb := envWith(vars, "")
			layout := filepath.Join(t.TempDir(), "image")
			args := append([]string{"package", "--model", modelDir, "--oci-layout", layout}, flags...)
			args = append(args, tc.args...)
			for i, a := range args {
				if a == "CORRUPT" {
					args[i] = corrupt
				}
			}
			err := Run(context.Background(), env, args)
			if exitcode.Of(err) != tc.code {
				t.Fatalf("exit code %d (%v), want %d", exitcode.Of(err), err, tc.code)
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, errb)
			}
			if _, err := os.Stat(layout); !os.IsNotExist(err) {
				t.Error("a layout was written despite the error")
			}
		})
	}
}
