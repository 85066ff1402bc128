package apifake

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// newCounter is a fake whose only route, POST /things, counts the things
// created; GET /things answers the count.
func newCounter(t *testing.T, o Options) (*Server, *int) {
	t.Helper()
	n := new(int)
	var s *Server
	s = New(o, func(w *Response, r *http.Request, path string, inPrefix bool) string {
		if !inPrefix || path != "/things" {
			WriteJSON(w, http.StatusNotFound, map[string]string{"message": "not found"})
			return ""
		}
		route := func(w *Response) {
			if r.Method == http.MethodPost {
				*n++
			}
			WriteJSON(w, http.StatusOK, map[string]int{"things": *n})
		}
		if !s.AnswerFault(w, r.Method, path, route) {
			route(w)
		}
		return "test"
	})
	t.Cleanup(s.Close)
	return s, n
}

func send(t *testing.T, s *Server, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerFaultsAndRecording(t *testing.T) {
	t.Parallel()
	s, n := newCounter(t, Options{Prefix: "/api/"})
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/api") {
		t.Errorf("URL = %s, want the loopback interface and the prefix without a trailing slash", s.URL())
	}
	s.Inject(
		Fault{Method: http.MethodPost, Path: "/things", Status: http.StatusBadGateway, Body: "gateway", Apply: true},
		Fault{Method: http.MethodGet, Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"3"}}, Times: 2},
	)
	if code, body := send(t, s, http.MethodPost, "/things"); code != http.StatusBadGateway || body != "gateway" || *n != 1 {
		t.Errorf("applied fault: %d %q, %d things; want 502 \"gateway\", 1 thing", code, body, *n)
	}
	for range 2 {
		if code, _ := send(t, s, http.MethodGet, "/things"); code != http.StatusTooManyRequests {
			t.Errorf("GET = %d, want 429 twice", code)
		}
	}
	if code, body := send(t, s, http.MethodGet, "/things"); code != http.StatusOK || body != `{"things":1}` {
		t.Errorf("after the faults: %d %q", code, body)
	}
	if code, _ := send(t, s, http.MethodGet, "/elsewhere"); code != http.StatusNotFound {
		t.Errorf("unknown route: %d, want 404", code)
	}
	got := fmt.Sprint(s.Requests())
	want := "[{POST /things map[] test 502} {GET /things map[] test 429} {GET /things map[] test 429} {GET /things map[] test 200} {GET /elsewhere map[]  404}]"
	if got != want {
		t.Errorf("requests =\n%s\nwant\n%s", got, want)
	}
	if c := s.Count(http.MethodGet, "/things"); c != 3 {
		t.Errorf("Count(GET /things) = %d, want 3", c)
	}
}

func TestEscapedPaths(t *testing.T) {
	t.Parallel()
	for _, escaped := range []bool{false, true} {
		s, _ := newCounter(t, Options{EscapedPaths: escaped})
		send(t, s, http.MethodGet, "/a%2Fb")
		want := "/a/b"
		if escaped {
			want = "/a%2Fb"
		}
		if p := s.Requests()[0].Path; p != want {
			t.Errorf("EscapedPaths %v: path %q, want %q", escaped, p, want)
		}
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	page, size := PageParams(url.Values{"per_page": {"500"}, "page": {"0"}}, 30)
	if page != 1 || size != MaxPerPage {
		t.Errorf("PageParams = %d, %d; want 1, %d", page, size, MaxPerPage)
	}
	if page, size := PageParams(url.Values{"per_page": {"x"}, "page": {"3"}}, 20); page != 3 || size != 20 {
		t.Errorf("PageParams = %d, %d; want 3, 20", page, size)
	}
	all := []int{1, 2, 3, 4, 5}
	cases := []struct {
		page, size int
		items      string
		last       int
	}{
		{1, 2, "[1 2]", 3},
		{3, 2, "[5]", 3},
		{4, 2, "[]", 3},
		{1, 10, "[1 2 3 4 5]", 1},
	}
	for _, tc := range cases {
		items, last := Page(all, tc.page, tc.size)
		if fmt.Sprint(items) != tc.items || last != tc.last {
			t.Errorf("Page(%d, %d) = %v, %d; want %s, %d", tc.page, tc.size, items, last, tc.items, tc.last)
		}
	}
	if _, last := Page([]int(nil), 1, 20); last != 1 {
		t.Errorf("an empty list has %d pages, want 1", last)
	}
	r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/api/v4/projects/a%2Fb/notes?sort=asc&page=1", nil)
	r.Host = "127.0.0.1:1"
	if got, want := PageLink(r, nil, 2, 20, "next"), `<http://127.0.0.1:1/api/v4/projects/a%2Fb/notes?page=2&per_page=20>; rel="next"`; got != want {
		t.Errorf("PageLink without parameters = %s, want %s", got, want)
	}
	if got, want := PageLink(r, r.URL.Query(), 3, 20, "last"), `<http://127.0.0.1:1/api/v4/projects/a%2Fb/notes?page=3&per_page=20&sort=asc>; rel="last"`; got != want {
		t.Errorf("PageLink keeping the parameters = %s, want %s", got, want)
	}
}

func TestDecodeBody(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`{"body":"hi"}`: "hi", `{}`: "<nil>", `{"body":null}`: "<nil>", `nope`: "error"} {
		r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(in))
		b, err := DecodeBody(r, 1<<10)
		got := "<nil>"
		switch {
		case err != nil:
			got = "error"
		case b != nil:
			got = *b
		}
		if got != want {
			t.Errorf("DecodeBody(%s) = %s, want %s", in, got, want)
		}
	}
}
