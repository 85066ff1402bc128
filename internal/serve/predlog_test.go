package serve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type logLine struct {
	Time        string         `json:"time"`
	Model       string         `json:"model"`
	Version     string         `json:"version"`
	Protocol    string         `json:"protocol"`
	ID          string         `json:"id"`
	Row         int            `json:"row"`
	Features    map[string]any `json:"features"`
	Prediction  any            `json:"prediction"`
	Probability *float64       `json:"probability"`
}

func parseLog(t *testing.T, b []byte) []logLine {
	t.Helper()
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l logLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("log line is not the documented JSON: %v\n%s", err, sc.Text())
		}
		out = append(out, l)
	}
	return out
}

// TestPredictionLog: every row of a request is logged with its inputs and
// prediction; sampling keeps the rows the random source picks.
func TestPredictionLog(t *testing.T) {
	t.Parallel()
	var c refCase
	for _, x := range ref(t).Cases {
		if x.Model == "classifier" {
			c = x
		}
	}
	now := time.Date(2026, 3, 1, 12, 30, 0, 5, time.UTC)
	for _, tc := range []struct {
		name   string
		sample float64
		draws  []float64
		rows   []int
	}{
		{"all rows", 1, nil, []int{0, 1, 2, 3}},
		{"sampled", 0.5, []float64{0.7, 0.2, 0.5, 0.49}, []int{1, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			k := 0
			s := newServer(t, "classifier", Options{
				PredictionLog: "-", PredictionLogSample: tc.sample, Stdout: &out,
				Now:  func() time.Time { return now },
				Rand: func() float64 { k++; return tc.draws[k-1] },
			})
			body := mustJSON(t, map[string]any{"id": "r-7", "inputs": []any{
				map[string]any{"name": "input-0", "shape": []int{len(c.Rows), 3}, "datatype": "BYTES", "data": rowsOf(c.Rows, "tenure", "plan", "monthly")}}})
			if code, resp := call(s, "POST", "/v2/models/churn/infer", "", body); code != 200 {
				t.Fatal(resp)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			lines := parseLog(t, out.Bytes())
			if len(lines) != len(tc.rows) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tc.rows), out.String())
			}
			for i, l := range lines {
				r := tc.rows[i]
				if l.Time != "2026-03-01T12:30:00.000000005Z" || l.Model != "churn" || l.Version != Version(s.m) || l.Protocol != "v2" || l.ID != "r-7" || l.Row != r {
					t.Errorf("line %d: %+v", i, l)
				}
				for name, want := range c.Rows[r] {
					if got := l.Features[name]; got != want {
						t.Errorf("row %d: feature %s logged as %v, want %v", r, name, got, want)
					}
				}
				if l.Prediction != c.Labels[r] || l.Probability == nil || !near(*l.Probability, c.Probabilities[r]) {
					t.Errorf("row %d: prediction %v probability %v, want %s %v", r, l.Prediction, l.Probability, c.Labels[r], c.Probabilities[r])
				}
			}
		})
	}
}

func rowsOf(rows []map[string]any, names ...string) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		for _, n := range names {
			out[i] = append(out[i], r[n])
		}
	}
	return out
}

// TestPredictionLogRotation: the log file is rotated to <file>.1 at its
// size limit, so the log never takes more than twice the limit.
func TestPredictionLogRotation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "predictions.jsonl")
	const limit = 2000
	s := newServer(t, "regression", Options{PredictionLog: path, PredictionLogMaxBytes: limit})
	const requests = 60
	for i := range requests {
		body := `{"instances":[[1500,3,20,"paris"],[1600,2,30,"oslo"]]}`
		if code, out := call(s, "POST", "/invocations", "application/json", body); code != 200 {
			t.Fatalf("request %d: %s", i, out)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path + ".1")
	if err != nil {
		t.Fatalf("no rotated file: %v", err)
	}
	if len(cur) > limit || len(old) > limit {
		t.Errorf("files of %d and %d bytes exceed the limit %d", len(cur), len(old), limit)
	}
	lines := append(parseLog(t, old), parseLog(t, cur)...)
	if len(lines) == 0 || len(lines) >= 2*requests {
		t.Fatalf("%d lines kept of %d written; rotation should have dropped the oldest", len(lines), 2*requests)
	}
	last := lines[len(lines)-1]
	if last.Row != 1 || last.Features["city"] != "oslo" || last.Protocol != "mlflow" {
		t.Errorf("last line %+v", last)
	}
}

// blockingWriter blocks every write until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// TestPredictionLogBounded: when the writer cannot keep up, requests are
// not slowed down: rows beyond the bounded queue are dropped and counted.
func TestPredictionLogBounded(t *testing.T) {
	t.Parallel()
	w := &blockingWriter{release: make(chan struct{})}
	s := newServer(t, "regression", Options{PredictionLog: "-", Stdout: w})
	const requests = logQueueChunks + 200
	for i := range requests {
		if code, out := call(s, "POST", "/invocations", "application/json", `{"instances":[[1500,3,20,"paris"]]}`); code != 200 {
			t.Fatalf("request %d: %s", i, out)
		}
	}
	fams := scrape(t, s)
	dropped := value(t, fams, "modelci_prediction_log_dropped_rows_total", nil)
	if dropped < 199 || dropped > 200 {
		t.Errorf("dropped %v rows, want 199 or 200 (queue of %d, one in the blocked writer)", dropped, logQueueChunks)
	}
	close(w.release)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	lines := parseLog(t, w.buf.Bytes())
	if float64(len(lines))+dropped != requests {
		t.Errorf("%d lines written + %v dropped != %d rows", len(lines), dropped, requests)
	}
	if !strings.Contains(w.buf.String(), `"city":"paris"`) {
		t.Error("log lacks the inputs")
	}
}
