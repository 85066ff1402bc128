package serve

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The fuzz targets send arbitrary bodies through the whole handler. Run
// them with, for example:
//
//	go test ./internal/serve -run '^$' -fuzz '^FuzzV2Infer$' -fuzztime 30s
//	go test ./internal/serve -run '^$' -fuzz '^FuzzInvocations$' -fuzztime 30s
//
// The seed corpora are in testdata/fuzz/; plain `go test` runs them.

// fuzzServers are the two reference models behind the fuzz targets, with
// small limits so that the limits are exercised too.
func fuzzServers(f *testing.F) []*Server {
	return []*Server{
		newServer(f, "regression", Options{MaxRows: 64, MaxBodyBytes: 1 << 16, DriftWindow: 50}),
		newServer(f, "classifier", Options{MaxRows: 64, MaxBodyBytes: 1 << 16, DriftWindow: 50}),
	}
}

// checkAnswer asserts the properties every answer has: a 200, 400 or 413
// (never a 500, which is what a recovered panic gives), a JSON body, and
// for a 200 a body that was valid JSON except for the NaN and Infinity
// tokens the decoder accepts on purpose.
func checkAnswer(t *testing.T, req, resp []byte, code int) {
	switch code {
	case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
	default:
		t.Fatalf("status %d for %q: %s", code, req, resp)
	}
	if !json.Valid(resp) {
		t.Fatalf("answer is not JSON: %q", resp)
	}
	if code == http.StatusOK && !json.Valid(req) && !bytes.Contains(req, []byte("NaN")) && !bytes.Contains(req, []byte("Infinity")) {
		t.Fatalf("accepted invalid JSON %q", req)
	}
}

func FuzzV2Infer(f *testing.F) {
	servers := fuzzServers(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, s := range servers {
			req := httptest.NewRequest("POST", "/v2/models/"+s.m.Name+"/infer", bytes.NewReader(body))
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			checkAnswer(t, body, rec.Body.Bytes(), rec.Code)
			if rec.Code == http.StatusOK {
				var resp v2Response
				if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Outputs) == 0 {
					t.Fatalf("bad V2 answer %s (%v)", rec.Body.Bytes(), err)
				}
				for _, o := range resp.Outputs {
					n, per := o.Shape[0], 1
					if o.Name == outProba {
						per = 2
					}
					if n < 1 || n > 64 || len(o.Data) != n*per {
						t.Fatalf("output %s for %d rows has %d values", o.Name, n, len(o.Data))
					}
				}
				checkTyped(t, body)
			}
		}
	})
}

// typedRange is the range of the V2 datatypes whose range float64 holds
// exactly, as the protocol defines them.
var typedRange = map[string][2]float64{
	"INT8": {-128, 127}, "INT16": {-32768, 32767}, "INT32": {-2147483648, 2147483647},
	"UINT8": {0, 255}, "UINT16": {0, 65535}, "UINT32": {0, 4294967295},
	"FP16": {-65504, 65504}, "FP32": {-math.MaxFloat32, math.MaxFloat32},
}

// checkTyped asserts that an accepted V2 request's typed tensors held
// values of their datatype: integers in range, BOOL only true, false or
// null, and no numeric datatype for the categorical feature city.
func checkTyped(t *testing.T, body []byte) {
	var req struct {
		Inputs []struct {
			Name     string `json:"name"`
			Datatype string `json:"datatype"`
			Data     any    `json:"data"`
		} `json:"inputs"`
	}
	if json.Unmarshal(body, &req) != nil {
		return // NaN tokens, duplicate keys: not worth a second decoder
	}
	for _, in := range req.Inputs {
		if in.Name == "city" || in.Name == "plan" {
			if in.Datatype != "BYTES" {
				t.Fatalf("accepted %s data for the categorical %s: %s", in.Datatype, in.Name, body)
			}
		}
		r, ranged := typedRange[in.Datatype]
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case []any:
				for _, e := range x {
					walk(e)
				}
			case float64:
				integer := !strings.HasPrefix(in.Datatype, "FP")
				if in.Datatype == "BOOL" || ranged && (x < r[0] || x > r[1] || integer && x != math.Trunc(x)) {
					t.Fatalf("accepted %v in a %s tensor: %s", x, in.Datatype, body)
				}
			case bool:
				if in.Datatype != "BOOL" && in.Datatype != "BYTES" {
					t.Fatalf("accepted a boolean in a %s tensor: %s", in.Datatype, body)
				}
			}
		}
		walk(in.Data)
	}
}

func FuzzInvocations(f *testing.F) {
	servers := fuzzServers(f)
	f.Fuzz(func(t *testing.T, body []byte, csv bool) {
		ct := "application/json"
		if csv {
			ct = "text/csv"
		}
		for _, s := range servers {
			req := httptest.NewRequest("POST", "/invocations", bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if csv {
				switch rec.Code {
				case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
				default:
					t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
				}
				if !json.Valid(rec.Body.Bytes()) {
					t.Fatalf("answer is not JSON: %q", rec.Body.Bytes())
				}
			} else {
				checkAnswer(t, body, rec.Body.Bytes(), rec.Code)
			}
			if rec.Code == http.StatusOK {
				var resp struct {
					Predictions []json.RawMessage `json:"predictions"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Predictions) == 0 || len(resp.Predictions) > 64 {
					t.Fatalf("bad MLflow answer %s (%v)", rec.Body.Bytes(), err)
				}
			}
		}
	})
}
