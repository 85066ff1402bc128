package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/profile"
)

// reference is testdata/reference.json, written by
// scripts/goldens/serve.py.
type reference struct {
	Models   map[string]json.RawMessage `json:"models"`
	Profiles map[string]json.RawMessage `json:"profiles"`
	Cases    []refCase                  `json:"cases"`
	Drift    []refDrift                 `json:"drift"`
}

type refCase struct {
	Name          string           `json:"name"`
	Model         string           `json:"model"`
	Rows          []map[string]any `json:"rows"`
	Predictions   []float64        `json:"predictions"`
	Labels        []string         `json:"labels"`
	Probabilities []float64        `json:"probabilities"`
	Unseen        map[string]int   `json:"unseen"`
}

type refWindow struct {
	Rows          []map[string]any   `json:"rows"`
	PSI           map[string]float64 `json:"psi"`
	PredictionPSI float64            `json:"prediction_psi"`
	Predictions   []float64          `json:"predictions"`
}

type refDrift struct {
	Model   string    `json:"model"`
	Stable  refWindow `json:"stable"`
	Shifted refWindow `json:"shifted"`
}

var loadReference = sync.OnceValues(func() (*reference, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		return nil, err
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		return nil, err
	}
	return &ref, nil
})

func ref(t testing.TB) *reference {
	t.Helper()
	r, err := loadReference()
	if err != nil {
		t.Fatalf("read reference: %v", err)
	}
	return r
}

// modelDir seals the reference model named name (with its profile unless
// noProfile) into a new model directory.
func modelDir(t testing.TB, name string, noProfile bool) string {
	t.Helper()
	r := ref(t)
	var m model.Model
	if err := json.Unmarshal(r.Models[name], &m); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	if !noProfile {
		var p profile.Profile
		if err := json.Unmarshal(r.Profiles[name], &p); err != nil {
			t.Fatal(err)
		}
		pb, err := model.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		files[model.FileProfile] = pb
	}
	mb, err := m.Seal(files)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files[model.FileModel] = mb
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// newServer loads the reference model named name into a Server.
func newServer(t testing.TB, name string, o Options) *Server {
	t.Helper()
	m, p, err := Load(modelDir(t, name, false))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, p, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// call sends one request to h and returns the status and body.
func call(h http.Handler, method, path, contentType, body string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}
