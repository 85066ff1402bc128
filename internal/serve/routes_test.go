package serve

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestDocListsTheRoutes: the endpoint list in doc.go is the server's
// routes, line for line.
func TestDocListsTheRoutes(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "// Endpoints"):
			in = true
		case in && strings.HasPrefix(line, "//\t"):
			f := strings.Fields(strings.TrimPrefix(line, "//\t"))
			doc = append(doc, f[0]+" "+f[1])
		case in && len(doc) > 0 && line == "//":
			in = false
		}
	}
	s := newServer(t, "regression", Options{})
	var routes []string
	for _, r := range s.routes() {
		routes = append(routes, r.method+" "+r.path)
	}
	if strings.Join(doc, "\n") != strings.Join(routes, "\n") {
		t.Errorf("doc.go lists\n%s\n\nthe server routes\n%s", strings.Join(doc, "\n"), strings.Join(routes, "\n"))
	}
}

// TestEveryRouteAnswersOtherMethodsWith405: on every route's path another
// method gets 405, the Allow header and an error body in the route's
// protocol.
func TestEveryRouteAnswersOtherMethodsWith405(t *testing.T) {
	t.Parallel()
	s := newServer(t, "regression", Options{})
	fill := strings.NewReplacer("{name}", s.m.Name, "{version}", s.version, "{$}", "")
	for _, rt := range s.routes() {
		path := fill.Replace(rt.path)
		other := http.MethodPost
		if rt.method == http.MethodPost {
			other = http.MethodGet
		}
		code, body := call(s, other, path, "application/json", "")
		if code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s = %d, want 405", other, path, code)
			continue
		}
		want := `{"error":`
		if rt.proto == protoMLflow {
			want = `{"error_code":"`
		}
		if !strings.HasPrefix(body, want) {
			t.Errorf("%s %s body %q, want it to start with %s", other, path, body, want)
		}
		if rt.method == http.MethodGet {
			if code, _ := call(s, http.MethodHead, path, "", ""); code != http.StatusOK {
				t.Errorf("HEAD %s = %d, want 200", path, code)
			}
		}
	}
	if code, body := call(s, http.MethodGet, "/v2/nothing", "", ""); code != http.StatusNotFound || !strings.Contains(body, "no such endpoint") {
		t.Errorf("GET /v2/nothing = %d %q", code, body)
	}
	if code, body := call(s, http.MethodGet, "/v2/models/other", "", ""); code != http.StatusNotFound || !strings.Contains(body, "not found") {
		t.Errorf("GET /v2/models/other = %d %q", code, body)
	}
}
