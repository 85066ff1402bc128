package serve

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
)

// scrape reads /metrics and parses it.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	code, out := call(s, "GET", "/metrics", "", "")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, out)
	}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(out))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, out)
	}
	return fams
}

// metric returns the sample of family name whose labels include want.
func metric(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.Metric {
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	m := metric(fams, name, labels)
	if m == nil {
		t.Fatalf("no metric %s%v", name, labels)
	}
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	t.Fatalf("%s%v is not a gauge or counter", name, labels)
	return 0
}

// sendRecords scores rows as MLflow records, in requests of per rows.
func sendRecords(t *testing.T, s *Server, rows []map[string]any, per int) {
	t.Helper()
	for lo := 0; lo < len(rows); lo += per {
		body := mustJSON(t, map[string]any{"dataframe_records": rows[lo:min(lo+per, len(rows))]})
		if code, out := call(s, "POST", "/invocations", "application/json", body); code != 200 {
			t.Fatalf("status %d: %s", code, out)
		}
	}
}

// TestDriftMatchesReference: the PSI gauges over the window equal the
// Python reference, and the window slides: after a full window of shifted
// rows, the stable rows no longer count.
func TestDriftMatchesReference(t *testing.T) {
	t.Parallel()
	for _, d := range ref(t).Drift {
		t.Run(d.Model, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, d.Model, Options{DriftWindow: 100})
			var allPreds []float64
			for _, w := range []struct {
				name string
				win  refWindow
			}{{"stable", d.Stable}, {"shifted", d.Shifted}} {
				if len(w.win.Rows) != 100 {
					t.Fatalf("reference window has %d rows, want 100", len(w.win.Rows))
				}
				sendRecords(t, s, w.win.Rows, 10)
				allPreds = append(allPreds, w.win.Predictions...)
				fams := scrape(t, s)
				if got := value(t, fams, "modelci_drift_window_rows", nil); got != 100 {
					t.Errorf("%s: window rows %v, want 100", w.name, got)
				}
				for feat, want := range w.win.PSI {
					got := value(t, fams, "modelci_feature_drift_psi", map[string]string{"feature": feat, "model": s.m.Name})
					if math.Abs(got-want) > 1e-9 {
						t.Errorf("%s: PSI of %s = %v, want %v", w.name, feat, got, want)
					}
				}
				if got := value(t, fams, "modelci_prediction_drift_psi", nil); math.Abs(got-w.win.PredictionPSI) > 1e-9 {
					t.Errorf("%s: prediction PSI = %v, want %v", w.name, got, w.win.PredictionPSI)
				}
			}
			// The prediction histogram covers every row since start.
			h := metric(scrape(t, s), "modelci_prediction_value", nil).GetHistogram()
			if h == nil {
				t.Fatal("no modelci_prediction_value histogram")
			}
			var sum float64
			for _, p := range allPreds {
				sum += p
			}
			if h.GetSampleCount() != uint64(len(allPreds)) || math.Abs(h.GetSampleSum()-sum) > 1e-6*math.Abs(sum) {
				t.Errorf("histogram count %d sum %v, want %d and %v", h.GetSampleCount(), h.GetSampleSum(), len(allPreds), sum)
			}
			if len(h.Bucket) < 5 {
				t.Errorf("only %d histogram buckets", len(h.Bucket))
			}
			for _, b := range h.Bucket {
				var want uint64
				for _, p := range allPreds {
					if p <= b.GetUpperBound() {
						want++
					}
				}
				if b.GetCumulativeCount() != want {
					t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
				}
			}
		})
	}
}

// TestDriftConcurrent: concurrent requests land in different shards and
// none is lost; the window keeps sliding under concurrency and holds
// exactly its size.
func TestDriftConcurrent(t *testing.T) {
	t.Parallel()
	d := ref(t).Drift[0]
	for _, c := range []struct {
		window           int
		workers, perWork int
		wantRows         int
	}{
		{window: 1000, workers: 8, perWork: 75, wantRows: 600},
		{window: 100, workers: 8, perWork: 50, wantRows: 100},
	} {
		t.Run(fmt.Sprint(c.window), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, d.Model, Options{DriftWindow: c.window})
			var wg sync.WaitGroup
			errs := make(chan string, c.workers)
			for w := range c.workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range c.perWork {
						row := d.Shifted.Rows[(w*c.perWork+k)%len(d.Shifted.Rows)]
						body := mustJSON(t, map[string]any{"dataframe_records": []any{row}})
						if code, out := call(s, "POST", "/invocations", "application/json", body); code != 200 {
							errs <- out
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Fatal(e)
			}
			fams := scrape(t, s)
			rows := int(value(t, fams, "modelci_drift_window_rows", nil))
			if rows != c.wantRows {
				t.Errorf("window rows %d, want %d", rows, c.wantRows)
			}
			total := c.workers * c.perWork
			if got := metric(fams, "modelci_prediction_value", nil).GetHistogram().GetSampleCount(); got != uint64(total) {
				t.Errorf("histogram count %d, want %d", got, total)
			}
			if got := value(t, fams, "modelci_inference_rows_total", map[string]string{"protocol": "mlflow"}); got != float64(total) {
				t.Errorf("rows_total %v, want %d", got, total)
			}
			if c.wantRows == total {
				// All rows are in the window: the PSI is that of the
				// shifted rows, each sent 6 times.
				for feat, want := range d.Shifted.PSI {
					got := value(t, fams, "modelci_feature_drift_psi", map[string]string{"feature": feat})
					if math.Abs(got-want) > 1e-9 {
						t.Errorf("PSI of %s = %v, want %v", feat, got, want)
					}
				}
			}
		})
	}
}

// recordsBody is an MLflow dataframe_records body of rows repeated times.
func recordsBody(t testing.TB, rows []map[string]any, times int) string {
	all := make([]map[string]any, 0, len(rows)*times)
	for range times {
		all = append(all, rows...)
	}
	return mustJSON(t, map[string]any{"dataframe_records": all})
}

// TestDriftWindowIsLastRows: the window holds the last --drift-window
// rows, however many rows the requests carry: 1,000 requests of 1,000
// rows leave 10,000 in a 10,000-row window, and a request longer than the
// window keeps only its last rows.
func TestDriftWindowIsLastRows(t *testing.T) {
	t.Parallel()
	d := ref(t).Drift[0]
	t.Run("1000 requests of 1000 rows", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, d.Model, Options{DriftWindow: 10000, MaxRows: 1000})
		body := recordsBody(t, d.Shifted.Rows, 1000/len(d.Shifted.Rows))
		for i := range 1000 {
			if code, out := call(s, "POST", "/invocations", "application/json", body); code != 200 {
				t.Fatalf("request %d: %d %s", i, code, out)
			}
			if i == 4 {
				if got := value(t, scrape(t, s), "modelci_drift_window_rows", nil); got != 5000 {
					t.Fatalf("after 5 requests: window rows %v, want 5000", got)
				}
			}
		}
		fams := scrape(t, s)
		if got := value(t, fams, "modelci_drift_window_rows", nil); got != 10000 {
			t.Errorf("window rows %v, want 10000", got)
		}
		for feat, want := range d.Shifted.PSI {
			if got := value(t, fams, "modelci_feature_drift_psi", map[string]string{"feature": feat}); math.Abs(got-want) > 1e-9 {
				t.Errorf("PSI of %s = %v, want %v", feat, got, want)
			}
		}
	})
	// Windows kept in blocks of requests read 200,000 here (and 1,000,000
	// after 10 such requests, the figure).
	t.Run("2 requests of 100000 rows", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, d.Model, Options{DriftWindow: 10000, MaxRows: 100000})
		body := recordsBody(t, d.Shifted.Rows, 100000/len(d.Shifted.Rows))
		for i := range 2 {
			if code, out := call(s, "POST", "/invocations", "application/json", body); code != 200 {
				t.Fatalf("request %d: %d %.200s", i, code, out)
			}
		}
		if got := value(t, scrape(t, s), "modelci_drift_window_rows", nil); got != 10000 {
			t.Errorf("window rows %v, want 10000", got)
		}
	})
	cases := []struct {
		name string
		send func(t *testing.T, s *Server)
	}{
		// One request: 50 stable rows, then the 100 shifted ones.
		{"a request longer than the window", func(t *testing.T, s *Server) {
			rows := append(append([]map[string]any{}, d.Stable.Rows[:50]...), d.Shifted.Rows...)
			sendRecords(t, s, rows, len(rows))
		}},
		// Stable rows, then shifted ones in requests that straddle the
		// ring's end.
		{"requests across the ring's end", func(t *testing.T, s *Server) {
			sendRecords(t, s, d.Stable.Rows[:30], 30)
			sendRecords(t, s, d.Shifted.Rows, 7)
		}},
		{"a full window of stable rows, then shifted", func(t *testing.T, s *Server) {
			sendRecords(t, s, d.Stable.Rows, 100)
			sendRecords(t, s, d.Stable.Rows[:33], 11)
			sendRecords(t, s, d.Shifted.Rows, 100)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, d.Model, Options{DriftWindow: 100})
			c.send(t, s)
			fams := scrape(t, s)
			if got := value(t, fams, "modelci_drift_window_rows", nil); got != 100 {
				t.Errorf("window rows %v, want 100", got)
			}
			for feat, want := range d.Shifted.PSI {
				if got := value(t, fams, "modelci_feature_drift_psi", map[string]string{"feature": feat}); math.Abs(got-want) > 1e-9 {
					t.Errorf("PSI of %s = %v, want %v (the window is not the last 100 rows)", feat, got, want)
				}
			}
			if got := value(t, fams, "modelci_prediction_drift_psi", nil); math.Abs(got-d.Shifted.PredictionPSI) > 1e-9 {
				t.Errorf("prediction PSI = %v, want %v", got, d.Shifted.PredictionPSI)
			}
		})
	}
}

// TestDriftMinRows: the PSI gauges wait for driftMinRows rows (or a full
// window, if smaller); the row count is exported from the first row.
func TestDriftMinRows(t *testing.T) {
	t.Parallel()
	d := ref(t).Drift[0]
	cases := []struct {
		window, rows int
		psi          bool
	}{
		{window: 10000, rows: 9, psi: false},
		{window: 10000, rows: driftMinRows - 1, psi: false},
		{window: 10000, rows: driftMinRows, psi: true},
		{window: 100, rows: 99, psi: false},
		{window: 100, rows: 100, psi: true},
		{window: 100, rows: 700, psi: true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("window %d, %d rows", c.window, c.rows), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, d.Model, Options{DriftWindow: c.window})
			var rows []map[string]any
			for len(rows) < c.rows {
				rows = append(rows, d.Shifted.Rows...)
			}
			sendRecords(t, s, rows[:c.rows], 50)
			fams := scrape(t, s)
			if got, want := value(t, fams, "modelci_drift_window_rows", nil), float64(min(c.rows, c.window)); got != want {
				t.Errorf("window rows %v, want %v", got, want)
			}
			for _, name := range []string{"modelci_feature_drift_psi", "modelci_prediction_drift_psi"} {
				if got := fams[name] != nil; got != c.psi {
					t.Errorf("%s exported: %v, want %v", name, got, c.psi)
				}
			}
		})
	}
}

// TestRequestMetrics counts requests by protocol and code, rows and
// unseen categories.
func TestRequestMetrics(t *testing.T) {
	t.Parallel()
	s := newServer(t, "regression", Options{MaxRows: 3})
	var unseen refCase
	for _, c := range ref(t).Cases {
		if c.Name == "unseen category" {
			unseen = c
		}
	}
	ok := `{"inputs":[{"name":"x","shape":[2,4],"datatype":"BYTES","data":[1,2,3,"oslo",4,5,6,"paris"]}]}`
	for range 3 {
		if code, out := call(s, "POST", "/v2/models/houses/infer", "", ok); code != 200 {
			t.Fatal(out)
		}
	}
	call(s, "POST", "/v2/models/houses/infer", "", `{`)
	call(s, "POST", "/v2/models/houses/infer", "", `{"inputs":[{"name":"x","shape":[4,4],"datatype":"BYTES","data":[]}]}`)
	call(s, "POST", "/invocations", "text/plain", "x")
	sendRecords(t, s, unseen.Rows, 3)
	call(s, "GET", "/v2/models/houses", "", "") // not an inference request

	fams := scrape(t, s)
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"protocol": "v2", "code": "200", "model": "houses"}, 3},
		{map[string]string{"protocol": "v2", "code": "400"}, 1},
		{map[string]string{"protocol": "v2", "code": "413"}, 1},
		{map[string]string{"protocol": "mlflow", "code": "415"}, 1},
		{map[string]string{"protocol": "mlflow", "code": "200"}, 1},
	} {
		if got := value(t, fams, "modelci_inference_requests_total", c.labels); got != c.want {
			t.Errorf("requests_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	if got := value(t, fams, "modelci_inference_rows_total", map[string]string{"protocol": "v2"}); got != 6 {
		t.Errorf("v2 rows %v, want 6", got)
	}
	if got := value(t, fams, "modelci_unknown_categories_total", map[string]string{"feature": "city"}); got != float64(unseen.Unseen["city"]) {
		t.Errorf("unknown categories %v, want %d", got, unseen.Unseen["city"])
	}
	if h := metric(fams, "modelci_inference_request_duration_seconds", map[string]string{"protocol": "v2"}).GetHistogram(); h.GetSampleCount() != 5 {
		t.Errorf("v2 duration count %d, want 5", h.GetSampleCount())
	}
	if got := value(t, fams, "modelci_model_info", map[string]string{"version": Version(s.m), "algorithm": "ridge"}); got != 1 {
		t.Errorf("model_info %v", got)
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Error("runtime and process metrics are missing")
	}
}

// TestNoProfile: without profile.json the server still serves and counts,
// without drift gauges.
func TestNoProfile(t *testing.T) {
	t.Parallel()
	dir := modelDir(t, "regression", true)
	m, p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p != nil {
		t.Fatal("a profile was loaded from a directory without one")
	}
	s, err := New(m, p, Options{DriftWindow: 100})
	if err != nil {
		t.Fatal(err)
	}
	code, out := call(s, "POST", "/invocations", "application/json", `{"instances":[[1,2,3,"oslo"]]}`)
	if code != 200 {
		t.Fatal(out)
	}
	fams := scrape(t, s)
	if fams["modelci_feature_drift_psi"] != nil || fams["modelci_drift_window_rows"] != nil {
		t.Error("drift metrics without a profile")
	}
	if h := metric(fams, "modelci_prediction_value", nil).GetHistogram(); h.GetSampleCount() != 1 {
		t.Errorf("histogram count %d, want 1", h.GetSampleCount())
	}
}
