package serve

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
			}
		}
	})
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
