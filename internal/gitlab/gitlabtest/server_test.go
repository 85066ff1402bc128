package gitlabtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServerRefuses checks the fake refuses what GitLab refuses, so the
// client tests that pass against it mean something.
func TestServerRefuses(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	t.Cleanup(s.Close)
	s.AddToken("pat", Token{User: User{ID: 1, Username: "bot"}})
	s.AddToken("ro", Token{User: User{ID: 1, Username: "bot"}, ReadOnly: true})
	s.AddJobToken("job")
	s.AddMergeRequest(10, "g/p", 3)
	s.Seed(10, 3, User{ID: 2, Username: "alice"}, "hers", false)
	notes := s.URL() + "/projects/10/merge_requests/3/notes"
	cases := []struct {
		name   string
		method string
		url    string
		header [2]string
		body   string
		status int
		has    string
	}{
		{"no token", "GET", notes, [2]string{}, "", 401, "401 Unauthorized"},
		{"unknown token", "GET", notes, [2]string{"PRIVATE-TOKEN", "nope"}, "", 401, "401 Unauthorized"},
		{"basic auth is not a token", "GET", notes, [2]string{"Authorization", "Basic cGF0Og=="}, "", 401, ""},
		{"job token may not create notes", "POST", notes, [2]string{"JOB-TOKEN", "job"}, `{"body":"x"}`, 403, "403 Forbidden"},
		{"job token may not list notes", "GET", notes, [2]string{"JOB-TOKEN", "job"}, "", 401, ""},
		{"job token may not read /user", "GET", s.URL() + "/user", [2]string{"JOB-TOKEN", "job"}, "", 401, ""},
		{"read_api may not write", "POST", notes, [2]string{"PRIVATE-TOKEN", "ro"}, `{"body":"x"}`, 403, "insufficient_scope"},
		{"someone else's note may not be edited", "PUT", notes + "/500001", [2]string{"PRIVATE-TOKEN", "pat"}, `{"body":"x"}`, 403, ""},
		{"empty body", "POST", notes, [2]string{"PRIVATE-TOKEN", "pat"}, `{"body":""}`, 400, "body is missing"},
		{"too long", "POST", notes, [2]string{"PRIVATE-TOKEN", "pat"}, `{"body":"` + strings.Repeat("x", MaxBody+1) + `"}`, 400, "too long"},
		{"unknown merge request", "GET", s.URL() + "/projects/10/merge_requests/4/notes", [2]string{"PRIVATE-TOKEN", "pat"}, "", 404, ""},
		{"outside the prefix", "GET", strings.TrimSuffix(s.URL(), "/api/v4") + "/user", [2]string{"PRIVATE-TOKEN", "pat"}, "", 404, ""},
		{"bearer token, project by path", "GET", s.URL() + "/projects/g%2Fp/merge_requests/3/notes", [2]string{"Authorization", "Bearer pat"}, "", 200, "hers"},
		{"create", "POST", notes, [2]string{"PRIVATE-TOKEN", "pat"}, `{"body":"mine"}`, 201, `"username":"bot"`},
	}
	for _, tc := range cases {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req, _ := http.NewRequest(tc.method, tc.url, body)
		if tc.header[0] != "" {
			req.Header.Set(tc.header[0], tc.header[1])
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.has) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, resp.StatusCode, b, tc.status, tc.has)
		}
	}
}

// TestServerPages checks the pagination headers against GitLab's
// documented behaviour.
func TestServerPages(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{}, {OmitTotals: true}, {OmitNextPage: true}} {
		s := New(o)
		s.AddToken("pat", Token{User: User{ID: 1, Username: "bot"}})
		s.AddMergeRequest(10, "g/p", 3)
		for i := 0; i < 45; i++ {
			s.Seed(10, 3, User{ID: 2, Username: "alice"}, "n", false)
		}
		get := func(query string) (http.Header, []map[string]any) {
			req, _ := http.NewRequest("GET", s.URL()+"/projects/10/merge_requests/3/notes"+query, nil)
			req.Header.Set("PRIVATE-TOKEN", "pat")
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out []map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			return resp.Header, out
		}
		h, page := get("")
		if len(page) != 20 || h.Get("X-Per-Page") != "20" {
			t.Errorf("%+v: default page of %d, X-Per-Page %q", o, len(page), h.Get("X-Per-Page"))
		}
		h, page = get("?per_page=500&sort=asc")
		if len(page) != 45 || h.Get("X-Per-Page") != "100" {
			t.Errorf("%+v: per_page not clamped to 100: %d notes", o, len(page))
		}
		h, page = get("?per_page=20&page=3&sort=asc")
		first := page[0]["id"].(float64)
		_, desc := get("?per_page=20&page=1")
		if len(page) != 5 || first != 500041 || desc[0]["id"].(float64) != 500045 {
			t.Errorf("%+v: page 3 asc starts at %v (%d notes); desc starts at %v", o, first, len(page), desc[0]["id"])
		}
		_, hasNext := h[http.CanonicalHeaderKey("X-Next-Page")]
		if hasNext == o.OmitNextPage || (hasNext && h.Get("X-Next-Page") != "") {
			t.Errorf("%+v: X-Next-Page on the last page = %q (present %v)", o, h.Get("X-Next-Page"), hasNext)
		}
		if (h.Get("X-Total-Pages") == "3") == o.OmitTotals || strings.Contains(h.Get("Link"), `rel="last"`) == o.OmitTotals {
			t.Errorf("%+v: totals %q, link %q", o, h.Get("X-Total-Pages"), h.Get("Link"))
		}
		h, _ = get("?per_page=20&page=1&sort=asc")
		if !strings.Contains(h.Get("Link"), `page=2&per_page=20&sort=asc>; rel="next"`) {
			t.Errorf("%+v: Link %q", o, h.Get("Link"))
		}
		s.Close()
	}
}
