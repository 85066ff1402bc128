package serve

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestInflightLimiter(t *testing.T) {
	t.Parallel()
	type step struct {
		acquire, release int64
		ok               bool
		used             int64
	}
	cases := []struct {
		name  string
		max   int64
		steps []step
	}{
		{"fills exactly", 10, []step{{acquire: 4, ok: true, used: 4}, {acquire: 6, ok: true, used: 10}, {acquire: 1, used: 10}}},
		{"refusal reserves nothing", 10, []step{{acquire: 7, ok: true, used: 7}, {acquire: 4, used: 7}, {acquire: 3, ok: true, used: 10}}},
		{"release makes room", 10, []step{{acquire: 8, ok: true, used: 8}, {acquire: 8, used: 8}, {release: 8, used: 0}, {acquire: 8, ok: true, used: 8}}},
		{"larger than the budget", 10, []step{{acquire: 11, used: 0}}},
		{"empty bodies always fit", 1, []step{{acquire: 1, ok: true, used: 1}, {acquire: 0, ok: true, used: 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := newInflight(c.max)
			for i, s := range c.steps {
				if s.release > 0 {
					l.release(s.release)
				} else if got := l.tryAcquire(s.acquire); got != s.ok {
					t.Errorf("step %d: tryAcquire(%d) = %v, want %v", i, s.acquire, got, s.ok)
				}
				if got := l.inUse(); got != s.used {
					t.Errorf("step %d: in use %d, want %d", i, got, s.used)
				}
			}
		})
	}
}

func TestBodyWeight(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cl, want int64
	}{{100, 100}, {0, 0}, {-1, 1000}, {1000, 1000}, {1001, 0}}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/invocations", nil)
		r.ContentLength = c.cl
		if got := bodyWeight(r, 1000); got != c.want {
			t.Errorf("Content-Length %d: weight %d, want %d", c.cl, got, c.want)
		}
	}
}

// padBody pads a V2 request body with blanks to n bytes.
func padBody(t *testing.T, body string, n int) string {
	t.Helper()
	if n < len(body) {
		t.Fatalf("cannot pad %d bytes to %d", len(body), n)
	}
	return body[:len(body)-1] + strings.Repeat(" ", n-len(body)) + "}"
}

// TestInflightBudget holds one large request's body open so that its bytes
// stay reserved, and checks what fits beside it.
func TestInflightBudget(t *testing.T) {
	t.Parallel()
	const (
		maxBody = 1 << 20
		large   = 900 << 10
	)
	s := newServer(t, "regression", Options{MaxBodyBytes: maxBody, MaxInflightBytes: maxBody + 512<<10})
	ts := httptest.NewServer(s)
	defer ts.Close()
	url := ts.URL + "/v2/models/houses/infer"
	small := `{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"BYTES","data":[1500,3,20,"paris"]}]}`
	big := padBody(t, small, large)

	post := func(body io.Reader, n int64) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest("POST", url, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = n
		req.Header.Set("Content-Type", "application/json")
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatalf("POST %d bytes: %v", n, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	waitInUse := func(want int64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); s.limit.inUse() != want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("in-flight bytes %d, want %d", s.limit.inUse(), want)
			}
		}
	}

	// The held request: its first bytes now, the rest on release.
	pr, pw := io.Pipe()
	held := make(chan int, 1)
	go func() {
		code, _, _ := post(pr, int64(len(big)))
		held <- code
	}()
	if _, err := pw.Write([]byte(big[:100])); err != nil {
		t.Fatal(err)
	}
	waitInUse(large)

	code, h, body := post(strings.NewReader(big), int64(len(big)))
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") != "1" || !strings.Contains(body, "--max-inflight-bytes") {
		t.Errorf("a second large request: %d, Retry-After %q, %s; want 503, Retry-After 1", code, h.Get("Retry-After"), body)
	}
	// A chunked body reserves the body limit, which does not fit either.
	code, _, _ = post(strings.NewReader(small), -1)
	if code != http.StatusServiceUnavailable {
		t.Errorf("a chunked request beside the held one: %d, want 503", code)
	}
	// MLflow answers in its own error format.
	req, _ := http.NewRequest("POST", ts.URL+"/invocations", strings.NewReader(`{"instances":[[1500,3,20,"paris"]]}`))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1
	if resp, err := ts.Client().Do(req); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(b), `"error_code":"TEMPORARILY_UNAVAILABLE"`) {
			t.Errorf("MLflow past the budget: %d %s", resp.StatusCode, b)
		}
	}
	if code, _, body := post(strings.NewReader(small), int64(len(small))); code != http.StatusOK {
		t.Errorf("a small request within the remaining budget: %d %s", code, body)
	}
	if got := s.limit.inUse(); got != large {
		t.Errorf("refused and finished requests left %d bytes reserved, want %d", got, large)
	}

	if _, err := pw.Write([]byte(big[100:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-held; code != http.StatusOK {
		t.Errorf("the held request: %d", code)
	}
	waitInUse(0)
	if code, _, body := post(strings.NewReader(big), int64(len(big))); code != http.StatusOK {
		t.Errorf("a large request after the held one finished: %d %s", code, body)
	}
}

func TestMemoryReleaser(t *testing.T) {
	t.Parallel()
	var (
		frees   int
		pending []func()
	)
	m := &memoryReleaser{
		interval: time.Second,
		free:     func() { frees++ },
		after: func(d time.Duration, f func()) *time.Timer {
			if d != time.Second {
				t.Errorf("interval %v", d)
			}
			pending = append(pending, f)
			return nil
		},
	}
	m.note()
	m.note()
	if len(pending) != 1 || frees != 0 {
		t.Fatalf("two notes scheduled %d releases and freed %d times; want 1 and 0", len(pending), frees)
	}
	pending[0]()
	if frees != 1 {
		t.Fatalf("freed %d times, want 1", frees)
	}
	m.note()
	if len(pending) != 2 {
		t.Fatalf("a note after the release scheduled %d in all, want 2", len(pending))
	}
}

func TestInflightConfig(t *testing.T) {
	t.Parallel()
	cfg, err := ParseArgs([]string{"--max-body-bytes=1MiB"}, func(k string) string {
		if k == "MODELCI_MAX_INFLIGHT_BYTES" {
			return "512KiB"
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxInflightBytes != 512<<10 {
		t.Fatalf("MaxInflightBytes = %d", cfg.MaxInflightBytes)
	}
	cfg.ModelDir = t.TempDir()
	err = Run(context.Background(), cfg, Env{})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "--max-inflight-bytes (512KiB) is smaller than --max-body-bytes (1MiB)") {
		t.Fatalf("Run with a budget below one body: %v", err)
	}
	if got := inflightBudget(0, 16<<20); got != 64<<20 {
		t.Errorf("default budget %d, want 64MiB", got)
	}
}
