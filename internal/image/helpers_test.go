package image

import (
	"debug/elf"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/modelci/modelci/internal/image/imagetest"
	"github.com/modelci/modelci/internal/model"
)

// writeModel writes a valid, sealed model directory: a linear model of one
// feature whose intercept tells models apart.
func writeModel(t *testing.T, dir, name string, intercept float64) {
	t.Helper()
	impute := 2.0
	m := &model.Model{
		Name:         name,
		Task:         model.TaskRegression,
		Algorithm:    "linear",
		Target:       "y",
		Features:     []model.Feature{{Name: "x", Type: model.Numeric, Missing: "mean", Impute: &impute, Center: 2, Scale: 1}},
		Columns:      []string{"x"},
		Intercept:    intercept,
		Coefficients: []float64{3},
		Training:     model.Training{Solver: "qr", FitIntercept: true, TrainRows: 8, TestRows: 2, TestSize: 0.2, Seed: 42, DataSHA256: "ab12"},
	}
	metrics, err := model.Marshal(&model.Metrics{
		SchemaVersion: model.SchemaVersion,
		Name:          name,
		Task:          model.TaskRegression,
		Metrics:       map[string]float64{"rmse": 1.5, "r2": 0.75},
		Directions:    map[string]string{"rmse": "lower", "r2": "higher"},
		Data:          model.DataInfo{Path: "data.csv", SHA256: "ab12", Rows: 10, Used: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	profile := []byte("{\"features\": []}\n")
	files := map[string][]byte{model.FileMetrics: metrics, model.FileProfile: profile}
	mj, err := m.Seal(files)
	if err != nil {
		t.Fatal(err)
	}
	files[model.FileModel] = mj
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeFile writes b to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, b []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// testRuntimes returns fake runtimes for linux/amd64 and linux/arm64.
func testRuntimes() []Runtime {
	return []Runtime{
		{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Binary: imagetest.ELF(elf.EM_X86_64, false, strings.Repeat("amd64 runtime ", 500)), Origin: "test"},
		{Platform: v1.Platform{OS: "linux", Architecture: "arm64"}, Binary: imagetest.ELF(elf.EM_AARCH64, false, strings.Repeat("arm64 runtime ", 500)), Origin: "test"},
	}
}

var testCreated = time.Unix(1700000000, 0).UTC()

// buildTest builds the image of a fresh model directory.
func buildTest(t *testing.T, name string, intercept float64, meta Metadata) *Built {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	writeModel(t, dir, name, intercept)
	if meta.Created.IsZero() {
		meta.Created = testCreated
	}
	b, err := Build(Spec{ModelDir: dir, Runtimes: testRuntimes(), Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// request is one request seen by the recording proxy.
type request struct {
	Method string
	Path   string
	Query  string
	Status int
}

// recorder sits in front of a registry and records every request, so a
// test can count uploads independently of the code under test.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []request
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	r.next.ServeHTTP(sw, req)
	r.mu.Lock()
	r.reqs = append(r.reqs, request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Status: sw.status})
	r.mu.Unlock()
}

// take returns the requests recorded since the last call.
func (r *recorder) take() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// uploadedBlobs returns the digests of blobs whose upload was completed
// (PUT …/blobs/uploads/…?digest=…, 201).
func uploadedBlobs(reqs []request) []string {
	var out []string
	for _, q := range reqs {
		if q.Method == http.MethodPut && strings.Contains(q.Path, "/blobs/uploads/") && q.Status == http.StatusCreated {
			for _, kv := range strings.Split(q.Query, "&") {
				if d, ok := strings.CutPrefix(kv, "digest="); ok {
					out = append(out, strings.ReplaceAll(d, "%3A", ":"))
				}
			}
		}
	}
	return out
}

// basicAuth requires user:password on every request.
func basicAuth(next http.Handler, user, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// testRegistry starts an in-memory registry behind a recorder, optionally
// with basic auth, and returns its host:port.
func testRegistry(t *testing.T, user, password string) (string, *recorder) {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if user != "" {
		h = basicAuth(h, user, password)
	}
	rec := &recorder{next: h}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), rec
}
