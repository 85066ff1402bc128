package serve

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestInflightBytesLimit holds one large request's body open so that its
// bytes stay taken from the budget, then checks that a second large
// request (with a length, and chunked) gets 503 with Retry-After while a
// small one still fits, and that the budget is whole again once the first
// request is answered.
func TestInflightBytesLimit(t *testing.T) {
	t.Parallel()
	row := `[1500,3,20,"paris"],`
	large := `{"instances":[` + strings.Repeat(row, 3000) + `[1,2,3,"lyon"]]}` // about 60 KB
	small := `{"instances":[[1500,3,20,"paris"]]}`
	s := newServer(t, "regression", Options{MaxBodyBytes: 100 << 10, MaxInflightBytes: 100 << 10})
	ts := httptest.NewServer(s)
	defer ts.Close()
	client := ts.Client()

	post := func(body io.Reader, n int64) (int, string, string) {
		t.Helper()
		req, err := http.NewRequest("POST", ts.URL+"/invocations", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = n
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}

	// The first large request: all of its headers, half of its body.
	pr, pw := io.Pipe()
	defer pw.Close() // lets ts.Close finish if the test fails early
	first := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", ts.URL+"/invocations", pr)
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = int64(len(large))
		resp, err := client.Do(req)
		if err != nil {
			first <- -1
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	if _, err := pw.Write([]byte(large[:len(large)/2])); err != nil {
		t.Fatal(err)
	}
	for i := 0; s.budget.used.Load() != int64(len(large))+1; i++ {
		if i > 2000 {
			t.Fatalf("the first request holds %d bytes, want %d", s.budget.used.Load(), len(large)+1)
		}
		time.Sleep(5 * time.Millisecond)
	}

	if code, ra, body := post(strings.NewReader(large), int64(len(large))); code != http.StatusServiceUnavailable || ra != "1" || !strings.Contains(body, "max-inflight-bytes") {
		t.Errorf("second large request: %d, Retry-After %q, %s; want 503 with Retry-After 1", code, ra, body)
	}
	chunked := io.MultiReader(strings.NewReader(large)) // no length: sent chunked
	if code, ra, _ := post(chunked, -1); code != http.StatusServiceUnavailable || ra != "1" {
		t.Errorf("chunked large request: %d, Retry-After %q; want 503 with Retry-After 1", code, ra)
	}
	if code, _, body := post(strings.NewReader(small), int64(len(small))); code != 200 {
		t.Errorf("small request within the budget: %d %s", code, body)
	}

	if _, err := pw.Write([]byte(large[len(large)/2:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-first; code != 200 {
		t.Fatalf("first large request: %d", code)
	}
	// The handler returns its bytes just after the client has the answer.
	for i := 0; s.budget.used.Load() != 0; i++ {
		if i > 2000 {
			t.Fatalf("%d bytes still held after every request was answered", s.budget.used.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code, _, body := post(strings.NewReader(large), int64(len(large))); code != 200 {
		t.Errorf("large request after the first finished: %d %s", code, body)
	}
}
