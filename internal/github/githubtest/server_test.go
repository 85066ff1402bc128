package githubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestFakeBehavesLikeGitHub checks the fake itself with raw HTTP, so the
// client tests rest on a server that refuses what GitHub refuses.
func TestFakeBehavesLikeGitHub(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	s.AddToken("tok", Token{Account: Account{Login: "octo", ID: 1, Type: "User"}})
	s.AddToken("ro", Token{Account: ActionsBot, Installation: true, ReadOnly: true})
	for i := 0; i < 65; i++ {
		s.Seed("o", "r", 1, Account{Login: "u", ID: 2, Type: "User"}, fmt.Sprintf("c%d", i))
	}
	do := func(method, path, auth, body string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		contains                       string
		link                           string
		items                          int
	}{
		{name: "no auth", method: "GET", path: "/user", status: 401, contains: "Requires authentication"},
		{name: "unknown token", method: "GET", path: "/user", auth: "Bearer nope", status: 401, contains: "Bad credentials"},
		{name: "basic scheme refused", method: "GET", path: "/user", auth: "Basic tok", status: 401},
		{name: "token scheme", method: "GET", path: "/user", auth: "token tok", status: 200, contains: `"login":"octo"`},
		{name: "installation token has no /user", method: "GET", path: "/user", auth: "Bearer ro", status: 403, contains: "Resource not accessible by integration"},
		{name: "default page of 30", method: "GET", path: "/repos/o/r/issues/1/comments", auth: "Bearer tok", status: 200, items: 30,
			link: `<URL/repos/o/r/issues/1/comments?page=2&per_page=30>; rel="next", <URL/repos/o/r/issues/1/comments?page=3&per_page=30>; rel="last"`},
		{name: "last page", method: "GET", path: "/repos/o/r/issues/1/comments?page=3", auth: "Bearer tok", status: 200, items: 5,
			link: `<URL/repos/o/r/issues/1/comments?page=2&per_page=30>; rel="prev", <URL/repos/o/r/issues/1/comments?page=1&per_page=30>; rel="first"`},
		{name: "per_page clamped to 100", method: "GET", path: "/repos/o/r/issues/1/comments?per_page=500", auth: "Bearer tok", status: 200, items: 65},
		{name: "unknown PR", method: "GET", path: "/repos/o/r/issues/2/comments", auth: "Bearer tok", status: 404},
		{name: "empty body", method: "POST", path: "/repos/o/r/issues/1/comments", auth: "Bearer tok", body: `{"body":""}`, status: 422, contains: "wasn't supplied"},
		{name: "65,537 characters", method: "POST", path: "/repos/o/r/issues/1/comments", auth: "Bearer tok", body: `{"body":"` + strings.Repeat("é", MaxBody+1) + `"}`, status: 422, contains: "body is too long (maximum is 65536 characters)"},
		{name: "65,536 characters", method: "POST", path: "/repos/o/r/issues/1/comments", auth: "Bearer tok", body: `{"body":"` + strings.Repeat("é", MaxBody) + `"}`, status: 201},
		{name: "read-only write", method: "POST", path: "/repos/o/r/issues/1/comments", auth: "Bearer ro", body: `{"body":"x"}`, status: 403, contains: "Resource not accessible by integration"},
		{name: "edit unknown comment", method: "PATCH", path: "/repos/o/r/issues/comments/1", auth: "Bearer tok", body: `{"body":"x"}`, status: 404},
	}
	for _, tc := range cases {
		resp, body := do(tc.method, tc.path, tc.auth, tc.body)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, resp.StatusCode, tc.status, body)
			continue
		}
		if tc.contains != "" && !strings.Contains(body, tc.contains) {
			t.Errorf("%s: body %q lacks %q", tc.name, body, tc.contains)
		}
		if tc.link != "" {
			if got, want := resp.Header.Get("Link"), strings.ReplaceAll(tc.link, "URL", s.URL()); got != want {
				t.Errorf("%s: Link\n got %s\nwant %s", tc.name, got, want)
			}
		}
		if tc.items > 0 {
			var list []map[string]any
			if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != tc.items {
				t.Errorf("%s: %d items (%v), want %d", tc.name, len(list), err, tc.items)
			}
		}
		if tc.status == 403 && tc.method == "POST" && resp.Header.Get("X-Accepted-GitHub-Permissions") == "" {
			t.Errorf("%s: no X-Accepted-GitHub-Permissions", tc.name)
		}
	}
	if n := len(s.Comments("o", "r", 1)); n != 66 {
		t.Errorf("%d comments, want 65 seeded + 1 created", n)
	}
	if n := s.Count("", ""); n != len(cases) {
		t.Errorf("recorded %d requests, want %d", n, len(cases))
	}
}

func TestFaultApply(t *testing.T) {
	t.Parallel()
	s := New(Options{Prefix: "/api/v3"})
	defer s.Close()
	s.AddToken("tok", Token{Account: Account{Login: "octo", ID: 1}})
	s.AddPullRequest("o", "r", 1)
	f := BadGateway("POST", "/repos/o/r/issues/1/comments")
	f.Apply = true
	s.Inject(f)
	req, _ := http.NewRequest("POST", s.URL()+"/repos/o/r/issues/1/comments", strings.NewReader(`{"body":"x"}`))
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 || len(s.Comments("o", "r", 1)) != 1 {
		t.Errorf("status %d, %d comments; want 502 and the comment stored", resp.StatusCode, len(s.Comments("o", "r", 1)))
	}
	if r := s.Requests()[0]; r.Path != "/repos/o/r/issues/1/comments" || r.Status != 502 {
		t.Errorf("recorded %+v", r)
	}
}
