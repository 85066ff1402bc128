package serve

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileHTTPCorpus sends every request of the regression corpus
// ../../testdata/hostile-http (requests that once got a 200 they should
// not have, or that could hang or crash a parser) to the reference
// regression model and checks the status and the body.
func TestHostileHTTPCorpus(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../testdata/hostile-http/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("the corpus has %d requests; expected at least 5", len(files))
	}
	s := newServer(t, "regression", Options{})
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				Method      string `json:"method"`
				Path        string `json:"path"`
				ContentType string `json:"content_type"`
				Body        string `json:"body"`
				Status      int    `json:"status"`
				Contains    string `json:"contains"`
			}
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			status, body := call(s, c.Method, c.Path, c.ContentType, c.Body)
			if status != c.Status {
				t.Errorf("status %d, want %d; body %.300s", status, c.Status, body)
			}
			if !strings.Contains(body, c.Contains) {
				t.Errorf("body lacks %q: %.300s", c.Contains, body)
			}
		})
	}
}
