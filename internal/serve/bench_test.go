package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// Benchmarks behind the decoder choice (see the package documentation):
//
//	go test ./internal/serve -run '^$' -bench 'Decode|Handler|MonitorAdd' -benchmem
//
// "scanner" is the runtime's decoder; "encoding-json" decodes the same
// request with encoding/json into generic values ([]any) and converts them
// into the same reused table, which is what a straightforward
// implementation does.

func benchRows(n int) [][]any {
	rows := make([][]any, n)
	cities := []string{"berlin", "lisbon", "oslo", "paris"}
	for i := range rows {
		rows[i] = []any{1000 + float64(i%2000)*0.5, float64(1 + i%5), float64(i%800) / 10, cities[i%4]}
	}
	return rows
}

func v2Body(n int) []byte {
	var flat []any
	for _, r := range benchRows(n) {
		flat = append(flat, r...)
	}
	b, _ := json.Marshal(map[string]any{"id": "bench", "inputs": []any{map[string]any{
		"name": "input-0", "shape": []int{n, 4}, "datatype": "BYTES", "data": flat}}})
	return b
}

func splitBody(n int) []byte {
	b, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{
		"columns": []string{"sqft", "bedrooms", "age", "city"}, "data": benchRows(n)}})
	return b
}

// jsonV2 is the encoding/json form of a V2 request.
type jsonV2 struct {
	ID     string `json:"id"`
	Inputs []struct {
		Name     string `json:"name"`
		Shape    []int  `json:"shape"`
		Datatype string `json:"datatype"`
		Data     []any  `json:"data"`
	} `json:"inputs"`
	Outputs []struct {
		Name string `json:"name"`
	} `json:"outputs"`
}

type jsonSplit struct {
	Split *struct {
		Columns []string `json:"columns"`
		Data    [][]any  `json:"data"`
	} `json:"dataframe_split"`
}

// setAny stores a generic JSON value like schema.set does.
func setAny(s *schema, t *table, r, i int, v any) error {
	j := r*t.nf + i
	switch x := v.(type) {
	case nil:
		t.num[j] = math.NaN()
	case float64:
		if s.isCat[i] {
			t.str[j] = strconv.FormatFloat(x, 'g', -1, 64)
		} else {
			t.num[j] = x
		}
	case string:
		if s.isCat[i] {
			t.str[j] = x
		} else {
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return err
			}
			t.num[j] = f
		}
	default:
		return fmt.Errorf("bad value %v", v)
	}
	return nil
}

func decodeV2EncodingJSON(s *Server, body []byte, st *reqState) error {
	var req jsonV2
	if err := json.Unmarshal(body, &req); err != nil {
		return err
	}
	st.t.reset(s.schema.nf())
	in := req.Inputs[0]
	st.t.addRows(in.Shape[0])
	nf := s.schema.nf()
	for k, v := range in.Data {
		if err := setAny(s.schema, &st.t, k/nf, k%nf, v); err != nil {
			return err
		}
	}
	return nil
}

func decodeSplitEncodingJSON(s *Server, body []byte, st *reqState) error {
	var req jsonSplit
	if err := json.Unmarshal(body, &req); err != nil {
		return err
	}
	st.t.reset(s.schema.nf())
	cols := make([]int, len(req.Split.Columns))
	for k, c := range req.Split.Columns {
		cols[k] = s.schema.index[c]
	}
	for r, row := range req.Split.Data {
		st.t.addRows(1)
		for k, v := range row {
			if err := setAny(s.schema, &st.t, r, cols[k], v); err != nil {
				return err
			}
		}
	}
	return nil
}

func BenchmarkDecode(b *testing.B) {
	s := newServer(b, "regression", Options{MaxRows: 100000})
	for _, n := range []int{1, 10000} {
		v2 := v2Body(n)
		split := splitBody(n)
		run := func(name string, body []byte, decode func(st *reqState) error) {
			b.Run(fmt.Sprintf("%s/rows=%d", name, n), func(b *testing.B) {
				st := s.pool.Get().(*reqState)
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if err := decode(st); err != nil {
						b.Fatal(err)
					}
				}
				if st.t.rows != n {
					b.Fatalf("%d rows", st.t.rows)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
		run("v2/scanner", v2, func(st *reqState) error {
			if herr := s.decodeV2(v2, st); herr != nil {
				return herr
			}
			return nil
		})
		run("v2/encoding-json", v2, func(st *reqState) error { return decodeV2EncodingJSON(s, v2, st) })
		run("mlflow-split/scanner", split, func(st *reqState) error {
			st.t.reset(s.schema.nf())
			if herr := s.decodeMLflow(split, st); herr != nil {
				return herr
			}
			return nil
		})
		run("mlflow-split/encoding-json", split, func(st *reqState) error { return decodeSplitEncodingJSON(s, split, st) })
	}
}

// discardWriter is a minimal http.ResponseWriter.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkHandler measures a whole request in the handler (decode,
// score, metrics, drift, encode), without the network.
func BenchmarkHandler(b *testing.B) {
	s := newServer(b, "regression", Options{MaxRows: 100000, MaxBodyBytes: 64 << 20})
	for _, c := range []struct {
		name, path, ct string
		body           []byte
		rows           int
	}{
		{"v2/rows=1", "/v2/models/houses/infer", "application/json", v2Body(1), 1},
		{"mlflow/rows=1", "/invocations", "application/json", splitBody(1), 1},
		{"mlflow-csv/rows=1", "/invocations", "text/csv", []byte("sqft,bedrooms,age,city\n1500,3,20,paris\n"), 1},
		{"v2/rows=10000", "/v2/models/houses/infer", "application/json", v2Body(10000), 10000},
		{"mlflow/rows=10000", "/invocations", "application/json", splitBody(10000), 10000},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("POST", c.path, nil)
			req.Header.Set("Content-Type", c.ct)
			rd := bytes.NewReader(c.body)
			w := &discardWriter{h: http.Header{}}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(c.body)
				req.Body = noClose{rd}
				req.ContentLength = int64(len(c.body))
				w.code = 200
				s.ServeHTTP(w, req)
				if w.code != 200 {
					b.Fatalf("status %d", w.code)
				}
			}
			b.ReportMetric(float64(c.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

type noClose struct{ *bytes.Reader }

func (noClose) Close() error { return nil }

// BenchmarkMonitorAdd measures the drift window under parallel single-row
// requests, sharded as in the runtime and with one shard (one mutex).
func BenchmarkMonitorAdd(b *testing.B) {
	for _, shards := range []int{0, 1} {
		name := "sharded"
		if shards == 1 {
			name = "one-mutex"
		}
		b.Run(name, func(b *testing.B) {
			s := newServer(b, "regression", Options{DriftWindow: 10000})
			mon := s.mon
			if shards > 0 {
				mon.shards = mon.shards[:shards]
			}
			num := []float64{1500, 3, 20, math.NaN()}
			str := []string{"", "", "", "paris"}
			b.RunParallel(func(pb *testing.PB) {
				tl := mon.newTally()
				for pb.Next() {
					tl.reset()
					mon.row(&tl, num, str, 350000)
					mon.add(&tl)
				}
			})
		})
	}
}

// BenchmarkMonitorAddRows measures adding one request of many rows to the
// drift window: writing its rows over the ring's oldest is linear in the
// rows (at most the window's size).
func BenchmarkMonitorAddRows(b *testing.B) {
	for _, rows := range []int{100, 10000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			s := newServer(b, "regression", Options{DriftWindow: 10000})
			mon := s.mon
			num := []float64{1500, 3, 20, math.NaN()}
			str := []string{"", "", "", "paris"}
			tl := mon.newTally()
			for range rows {
				mon.row(&tl, num, str, 350000)
			}
			for b.Loop() {
				mon.add(&tl)
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
