package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/model"
)

// encoding turns reference rows into one request format.
type encoding struct {
	name     string
	protocol protocol
	ct       string
	body     func(t *testing.T, m *model.Model, rows []map[string]any) string
}

func csvCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	panic(fmt.Sprintf("unexpected %T", v))
}

var encodings = []encoding{
	{"v2 [N,F] BYTES nested", protoV2, "application/json", func(t *testing.T, m *model.Model, rows []map[string]any) string {
		data := make([][]any, len(rows))
		for r, row := range rows {
			for _, f := range m.Features {
				data[r] = append(data[r], row[f.Name])
			}
		}
		return mustJSON(t, map[string]any{"id": "req-1", "inputs": []any{map[string]any{
			"name": "input-0", "shape": []int{len(rows), len(m.Features)}, "datatype": "BYTES", "data": data}}})
	}},
	{"v2 [N,F] BYTES flat, data first", protoV2, "application/json; charset=utf-8", func(t *testing.T, m *model.Model, rows []map[string]any) string {
		var data []any
		for _, row := range rows {
			for _, f := range m.Features {
				data = append(data, row[f.Name])
			}
		}
		return `{"inputs":[{"data":` + strings.TrimSpace(mustJSON(t, data)) + `,"datatype":"BYTES","shape":[` +
			strconv.Itoa(len(rows)) + `,` + strconv.Itoa(len(m.Features)) + `],"name":"x"}],"parameters":{"a":1}}`
	}},
	{"v2 named [N]", protoV2, "", func(t *testing.T, m *model.Model, rows []map[string]any) string {
		var inputs []any
		for _, f := range slices.Backward(m.Features) {
			dt := "FP64"
			if f.Type == model.Categorical {
				dt = "BYTES"
			}
			var data []any
			for _, row := range rows {
				data = append(data, row[f.Name])
			}
			inputs = append(inputs, map[string]any{"name": f.Name, "shape": []int{len(rows)}, "datatype": dt, "data": data})
		}
		return mustJSON(t, map[string]any{"inputs": inputs})
	}},
	{"v2 named [N,1] FP32", protoV2, "application/json", func(t *testing.T, m *model.Model, rows []map[string]any) string {
		var inputs []any
		for _, f := range m.Features {
			dt := "FP32"
			if f.Type == model.Categorical {
				dt = "BYTES"
			}
			var data [][]any
			for _, row := range rows {
				data = append(data, []any{row[f.Name]})
			}
			inputs = append(inputs, map[string]any{"name": f.Name, "shape": []int{len(rows), 1}, "datatype": dt, "data": data})
		}
		return mustJSON(t, map[string]any{"inputs": inputs})
	}},
	{"mlflow dataframe_split, columns reversed", protoMLflow, "application/json", func(t *testing.T, m *model.Model, rows []map[string]any) string {
		var cols []string
		for _, f := range slices.Backward(m.Features) {
			cols = append(cols, f.Name)
		}
		data := make([][]any, len(rows))
		for r, row := range rows {
			for _, c := range cols {
				data[r] = append(data[r], row[c])
			}
		}
		return mustJSON(t, map[string]any{"dataframe_split": map[string]any{"columns": cols, "data": data}})
	}},
	{"mlflow dataframe_split, data before columns", protoMLflow, "application/json", func(t *testing.T, m *model.Model, rows []map[string]any) string {
		cols := m.FeatureNames()
		data := make([][]any, len(rows))
		idx := make([]int, len(rows))
		for r, row := range rows {
			idx[r] = r
			for _, c := range cols {
				data[r] = append(data[r], row[c])
			}
		}
		return `{"params":{"x":1},"dataframe_split":{"index":` + strings.TrimSpace(mustJSON(t, idx)) + `,"data":` +
			strings.TrimSpace(mustJSON(t, data)) + `,"columns":` + strings.TrimSpace(mustJSON(t, cols)) + `}}`
	}},
	{"mlflow dataframe_records", protoMLflow, "application/json", func(t *testing.T, m *model.Model, rows []map[string]any) string {
		return mustJSON(t, map[string]any{"dataframe_records": rows})
	}},
	{"mlflow instances as lists", protoMLflow, "application/json", func(t *testing.T, m *model.Model, rows []map[string]any) string {
		data := make([][]any, len(rows))
		for r, row := range rows {
			for _, f := range m.Features {
				data[r] = append(data[r], row[f.Name])
			}
		}
		return mustJSON(t, map[string]any{"instances": data})
	}},
	{"mlflow inputs as columns", protoMLflow, "application/json", func(t *testing.T, m *model.Model, rows []map[string]any) string {
		cols := map[string][]any{}
		for _, row := range rows {
			for _, f := range m.Features {
				cols[f.Name] = append(cols[f.Name], row[f.Name])
			}
		}
		return mustJSON(t, map[string]any{"inputs": cols})
	}},
	{"mlflow text/csv", protoMLflow, "text/csv", func(t *testing.T, m *model.Model, rows []map[string]any) string {
		var b strings.Builder
		b.WriteString(strings.Join(m.FeatureNames(), ",") + "\r\n")
		for _, row := range rows {
			var cells []string
			for _, f := range m.Features {
				cells = append(cells, csvCell(row[f.Name]))
			}
			b.WriteString(strings.Join(cells, ",") + "\n")
		}
		return b.String()
	}},
}

// v2Response is the decoded V2 answer.
type v2Response struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string `json:"id"`
	Outputs      []struct {
		Name     string            `json:"name"`
		Datatype string            `json:"datatype"`
		Shape    []int             `json:"shape"`
		Data     []json.RawMessage `json:"data"`
	} `json:"outputs"`
}

// TestPredictionsMatchReference sends every reference case in every
// request format and compares the answers with the Python reference.
func TestPredictionsMatchReference(t *testing.T) {
	t.Parallel()
	r := ref(t)
	servers := map[string]*Server{}
	for name := range r.Models {
		servers[name] = newServer(t, name, Options{DriftWindow: 0})
	}
	for _, c := range r.Cases {
		for _, enc := range encodings {
			t.Run(c.Name+"/"+enc.name, func(t *testing.T) {
				t.Parallel()
				s := servers[c.Model]
				body := enc.body(t, s.m, c.Rows)
				path := "/invocations"
				if enc.protocol == protoV2 {
					path = "/v2/models/" + s.m.Name + "/infer"
				}
				code, out := call(s, http.MethodPost, path, enc.ct, body)
				if code != http.StatusOK {
					t.Fatalf("status %d: %s\nrequest: %s", code, out, body)
				}
				if enc.protocol == protoV2 {
					checkV2(t, s, c, out)
				} else {
					checkMLflow(t, s, c, out)
				}
			})
		}
	}
}

func checkV2(t *testing.T, s *Server, c refCase, out string) {
	t.Helper()
	var resp v2Response
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, out)
	}
	if resp.ModelName != s.m.Name || resp.ModelVersion != Version(s.m) {
		t.Errorf("model_name %q, model_version %q; want %q, %q", resp.ModelName, resp.ModelVersion, s.m.Name, Version(s.m))
	}
	n := len(c.Rows)
	wantOutputs := []string{"predict"}
	if s.classifier {
		wantOutputs = append(wantOutputs, "predict_proba")
	}
	if len(resp.Outputs) != len(wantOutputs) {
		t.Fatalf("outputs %s, want %v", out, wantOutputs)
	}
	for k, o := range resp.Outputs {
		if o.Name != wantOutputs[k] {
			t.Fatalf("output %d is %q, want %q", k, o.Name, wantOutputs[k])
		}
		switch o.Name {
		case "predict":
			if !slices.Equal(o.Shape, []int{n}) || len(o.Data) != n {
				t.Fatalf("predict has shape %v and %d values, want [%d]", o.Shape, len(o.Data), n)
			}
			for r, raw := range o.Data {
				if s.classifier {
					var label string
					if o.Datatype != "BYTES" || json.Unmarshal(raw, &label) != nil || label != c.Labels[r] {
						t.Errorf("row %d: predict %s (%s), want %q", r, raw, o.Datatype, c.Labels[r])
					}
					continue
				}
				var v float64
				if o.Datatype != "FP64" || json.Unmarshal(raw, &v) != nil || !near(v, c.Predictions[r]) {
					t.Errorf("row %d: predict %s (%s), want %v", r, raw, o.Datatype, c.Predictions[r])
				}
			}
		case "predict_proba":
			if !slices.Equal(o.Shape, []int{n, 2}) || len(o.Data) != 2*n || o.Datatype != "FP64" {
				t.Fatalf("predict_proba has shape %v, %d values, %s; want [%d, 2] FP64", o.Shape, len(o.Data), o.Datatype, n)
			}
			for r := range n {
				var p0, p1 float64
				json.Unmarshal(o.Data[2*r], &p0)
				json.Unmarshal(o.Data[2*r+1], &p1)
				if !near(p1, c.Probabilities[r]) || !near(p0, 1-c.Probabilities[r]) {
					t.Errorf("row %d: predict_proba [%v, %v], want P(%s) = %v", r, p0, p1, s.m.Classes[1], c.Probabilities[r])
				}
			}
		}
	}
}

func checkMLflow(t *testing.T, s *Server, c refCase, out string) {
	t.Helper()
	var resp struct {
		Predictions []json.RawMessage `json:"predictions"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, out)
	}
	if len(resp.Predictions) != len(c.Rows) {
		t.Fatalf("%d predictions for %d rows: %s", len(resp.Predictions), len(c.Rows), out)
	}
	for r, raw := range resp.Predictions {
		if s.classifier {
			var label string
			if json.Unmarshal(raw, &label) != nil || label != c.Labels[r] {
				t.Errorf("row %d: %s, want %q", r, raw, c.Labels[r])
			}
			continue
		}
		var v float64
		if json.Unmarshal(raw, &v) != nil || !near(v, c.Predictions[r]) {
			t.Errorf("row %d: %s, want %v", r, raw, c.Predictions[r])
		}
	}
}

// TestClassifierProbabilities covers the MLflow predict_method parameter
// and the V2 outputs selection on the classifier.
func TestClassifierProbabilities(t *testing.T) {
	t.Parallel()
	r := ref(t)
	var c refCase
	for _, x := range r.Cases {
		if x.Model == "classifier" {
			c = x
		}
	}
	s := newServer(t, "classifier", Options{})
	body := mustJSON(t, map[string]any{"dataframe_records": c.Rows, "params": map[string]any{"predict_method": "predict_proba"}})
	code, out := call(s, http.MethodPost, "/invocations", "application/json", body)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	var resp struct {
		Predictions [][2]float64 `json:"predictions"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil || len(resp.Predictions) != len(c.Rows) {
		t.Fatalf("bad answer %s (%v)", out, err)
	}
	for i, p := range resp.Predictions {
		if !near(p[1], c.Probabilities[i]) || !near(p[0], 1-c.Probabilities[i]) {
			t.Errorf("row %d: %v, want P(yes) = %v", i, p, c.Probabilities[i])
		}
	}

	// Only the requested V2 output, in a one-row request.
	one := `{"id":"a\"b","inputs":[{"name":"x","shape":[1,3],"datatype":"BYTES","data":[2,"basic",80]}],"outputs":[{"name":"predict_proba","parameters":{"binary_data":false}}]}`
	code, out = call(s, http.MethodPost, "/v2/models/churn/infer", "application/json", one)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	var v2 v2Response
	if err := json.Unmarshal([]byte(out), &v2); err != nil {
		t.Fatal(err)
	}
	if v2.ID != `a"b` || len(v2.Outputs) != 1 || v2.Outputs[0].Name != "predict_proba" {
		t.Fatalf("want only predict_proba and id a\"b, got %s", out)
	}
	var p1 float64
	json.Unmarshal(v2.Outputs[0].Data[1], &p1)
	if !near(p1, c.Probabilities[0]) {
		t.Errorf("P(yes) = %v, want %v", p1, c.Probabilities[0])
	}
}

// TestBadRequests: every kind of bad input gets the right status and a
// message that says what is wrong, in the protocol's error format.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	s := newServer(t, "regression", Options{MaxBodyBytes: 4096, MaxRows: 5})
	clf := newServer(t, "classifier", Options{})
	infer := "/v2/models/houses/infer"
	row := `[1500, 3, 20, "paris"]`
	matrix := func(shape, data string) string {
		return `{"inputs":[{"name":"input-0","shape":` + shape + `,"datatype":"BYTES","data":` + data + `}]}`
	}
	named := func(inputs ...string) string { return `{"inputs":[` + strings.Join(inputs, ",") + `]}` }
	in := func(name, dt, data string) string {
		return `{"name":"` + name + `","shape":[1],"datatype":"` + dt + `","data":` + data + `}`
	}
	allNamed := []string{in("sqft", "FP64", "[1500]"), in("bedrooms", "INT64", "[3]"), in("age", "FP64", "[20]"), in("city", "BYTES", `["paris"]`)}
	big := `{"instances":[` + strings.Repeat(row+",", 200) + row + `]}`
	cases := []struct {
		name   string
		srv    *Server
		method string
		path   string
		ct     string
		body   string
		code   int
		substr string
	}{
		{"malformed JSON", s, "POST", infer, "", `{"inputs":[`, 400, "invalid JSON"},
		{"trailing data", s, "POST", infer, "", matrix("[1,4]", "["+row+"]") + "x", 400, "after the JSON value"},
		{"not an object", s, "POST", infer, "", `[1]`, 400, `expected '{'`},
		{"no inputs", s, "POST", infer, "", `{"id":"1"}`, 400, `no "inputs"`},
		{"id not a string", s, "POST", infer, "", `{"id":1,"inputs":[]}`, 400, `"id" must be a string`},
		{"input without data", s, "POST", infer, "", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64"}]}`, 400, `has no "data"`},
		{"wrong feature count", s, "POST", infer, "", matrix("[1,3]", "[1500,3,20]"), 400, "want [N, 4]"},
		{"too few elements", s, "POST", infer, "", matrix("[2,4]", "["+row+"]"), 400, "has 4 elements but its shape [2, 4] needs 8"},
		{"too many elements", s, "POST", infer, "", matrix("[1,4]", "["+row+","+row+"]"), 400, "more elements than the shape"},
		{"negative shape", s, "POST", infer, "", matrix("[-1,4]", "["+row+"]"), 400, "non-negative integers"},
		{"unknown input name", s, "POST", infer, "", named(append(allNamed[:3:3], in("town", "BYTES", `["x"]`))...), 400, `unknown input "town"`},
		{"missing feature", s, "POST", infer, "", named(allNamed[:3]...), 400, `missing input for feature "city"`},
		{"feature twice", s, "POST", infer, "", named(append(allNamed[:3:3], allNamed[0])...), 400, `"sqft" appears twice`},
		{"rows disagree", s, "POST", infer, "", named(append(allNamed[:3:3], `{"name":"city","shape":[2],"datatype":"BYTES","data":["a","b"]}`)...), 400, "has 2 rows"},
		{"missing not allowed", s, "POST", infer, "", matrix("[1,4]", `[1500,3,null,"paris"]`), 400, `row 0: feature "age": missing value`},
		{"NaN not allowed", s, "POST", infer, "", named(allNamed[0], allNamed[1], in("age", "FP64", "[NaN]"), allNamed[3]), 400, `feature "age": missing value`},
		{"infinity", s, "POST", infer, "", matrix("[1,4]", `[1500,3,-Infinity,"paris"]`), 400, "infinite"},
		{"number out of range", s, "POST", infer, "", matrix("[1,4]", `[1e400,3,1,"paris"]`), 400, "out of range"},
		{"string in a numeric tensor", s, "POST", infer, "", named(in("sqft", "FP64", `["1500"]`), allNamed[1], allNamed[2], allNamed[3]), 400, "datatype is numeric"},
		{"string that is not a number", s, "POST", infer, "", matrix("[1,4]", `["big",3,1,"paris"]`), 400, `"big" is not a finite number`},
		{"boolean", s, "POST", infer, "", matrix("[1,4]", `[true,3,1,"paris"]`), 400, "a boolean"},
		{"BOOL matrix with a categorical feature", s, "POST", infer, "", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"BOOL","data":[true,true,true,true]}]}`, 400, `input "x": datatype BOOL cannot carry the categorical feature "city"`},
		{"BF16 datatype", s, "POST", infer, "", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"BF16","data":[1,2,3,4]}]}`, 400, "BF16 is not supported"},
		{"unknown datatype", s, "POST", infer, "", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FLOAT","data":[1,2,3,4]}]}`, 400, `unknown datatype "FLOAT"`},
		{"unknown output", s, "POST", infer, "", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"BYTES","data":` + row + `}],"outputs":[{"name":"predict_proba"}]}`, 400, `unknown output "predict_proba"`},
		{"object in data", s, "POST", infer, "", matrix("[1,4]", `[{},3,1,"paris"]`), 400, "an object"},
		{"too many rows", s, "POST", infer, "", matrix("[6,4]", "[]"), 413, "limit of 5"},
		{"body too large", s, "POST", infer, "", `{"inputs":[` + strings.Repeat(" ", 5000) + `]}`, 413, "limit of 4096 bytes"},
		{"wrong content type", s, "POST", infer, "text/plain", matrix("[1,4]", "["+row+"]"), 415, "text/plain"},
		{"unknown model", s, "POST", "/v2/models/cars/infer", "", matrix("[1,4]", "["+row+"]"), 404, `model "cars" not found`},
		{"unknown version", s, "POST", "/v2/models/houses/versions/abc/infer", "", matrix("[1,4]", "["+row+"]"), 404, `no version "abc"`},
		{"GET infer", s, "GET", infer, "", "", 405, "use POST"},
		{"unknown path", s, "GET", "/v3/x", "", "", 404, "no such endpoint"},
		{"unknown model path", s, "GET", "/v2/models/houses/explain", "", "", 404, "no such endpoint"},

		{"mlflow: no content type", s, "POST", "/invocations", "", `{"instances":[` + row + `]}`, 415, "missing Content-Type"},
		{"mlflow: unsupported content type", s, "POST", "/invocations", "application/x-www-form-urlencoded", `{"instances":[` + row + `]}`, 415, "accepts application/json and text/csv"},
		{"mlflow: unknown field", s, "POST", "/invocations", "application/json", `{"data":[` + row + `]}`, 400, `unknown field "data"`},
		{"mlflow: nothing to score", s, "POST", "/invocations", "application/json", `{"params":{}}`, 400, "must hold one of"},
		{"mlflow: two inputs", s, "POST", "/invocations", "application/json", `{"instances":[` + row + `],"inputs":[` + row + `]}`, 400, "exactly one of"},
		{"mlflow: unknown feature", s, "POST", "/invocations", "application/json", `{"dataframe_records":[{"sqft":1,"bedrooms":1,"age":1,"city":"a","pool":1}]}`, 400, `unknown feature "pool"`},
		{"mlflow: missing feature", s, "POST", "/invocations", "application/json", `{"dataframe_records":[{"sqft":1,"bedrooms":1,"age":1}]}`, 400, `missing feature "city"`},
		{"mlflow: split missing column", s, "POST", "/invocations", "application/json", `{"dataframe_split":{"columns":["sqft","age","city"],"data":[[1,2,"a"]]}}`, 400, `missing feature "bedrooms"`},
		{"mlflow: row too short", s, "POST", "/invocations", "application/json", `{"instances":[[1500,3,20]]}`, 400, "row 0 has 3 values"},
		{"mlflow: row too long", s, "POST", "/invocations", "application/json", `{"instances":[[1500,3,20,"paris",1]]}`, 400, "more than 4 values"},
		{"mlflow: scalar instances", s, "POST", "/invocations", "application/json", `{"instances":[1,2]}`, 400, "each instance must be"},
		{"mlflow: columns disagree", s, "POST", "/invocations", "application/json", `{"inputs":{"sqft":[1,2],"bedrooms":[1],"age":[1,2],"city":["a","b"]}}`, 400, "has 1 values but others have 2"},
		{"mlflow: missing not allowed", s, "POST", "/invocations", "application/json", `{"dataframe_records":[{"sqft":1,"bedrooms":1,"age":null,"city":"a"}]}`, 400, `feature "age": missing value`},
		{"mlflow: predict_proba on regression", s, "POST", "/invocations", "application/json", `{"instances":[` + row + `],"params":{"predict_method":"predict_proba"}}`, 400, "predict_method"},
		{"mlflow: drop policy rejects a missing plan", clf, "POST", "/invocations", "application/json", `{"instances":[[1,null,2]]}`, 400, `feature "plan": missing value (policy "drop")`},
		{"mlflow: too many rows", s, "POST", "/invocations", "application/json", `{"instances":[` + strings.Repeat(row+",", 5) + row + `]}`, 413, "limit of 5"},
		{"mlflow: body too large", s, "POST", "/invocations", "application/json", big, 413, "limit of 4096 bytes"},
		{"mlflow: csv unknown column", s, "POST", "/invocations", "text/csv", "sqft,bedrooms,age,city,pool\n1,2,3,a,4\n", 400, `unknown feature "pool"`},
		{"mlflow: csv bad number", s, "POST", "/invocations", "text/csv", "sqft,bedrooms,age,city\nbig,2,3,a\n", 400, `CSV row 0, feature "sqft": "big" is not a finite number`},
		{"mlflow: csv ragged", s, "POST", "/invocations", "text/csv", "sqft,bedrooms,age,city\n1,2,3\n", 400, "wrong number of fields"},
		{"mlflow: csv empty", s, "POST", "/invocations", "text/csv", "", 400, "empty"},
		{"mlflow: csv header only", s, "POST", "/invocations", "text/csv", "sqft,bedrooms,age,city\n", 400, "no rows"},
		{"mlflow: GET", s, "GET", "/invocations", "", "", 405, "use POST"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, out := call(c.srv, c.method, c.path, c.ct, c.body)
			if code != c.code {
				t.Fatalf("status %d, want %d: %s", code, c.code, out)
			}
			var v2 struct {
				Error string `json:"error"`
			}
			var ml struct {
				Code    string `json:"error_code"`
				Message string `json:"message"`
			}
			msg := ""
			if c.path == "/invocations" {
				if err := json.Unmarshal([]byte(out), &ml); err != nil || ml.Code == "" {
					t.Fatalf("want MLflow's {\"error_code\", \"message\"}, got %s", out)
				}
				msg = ml.Message
			} else {
				if err := json.Unmarshal([]byte(out), &v2); err != nil || v2.Error == "" {
					t.Fatalf(`want {"error": ...}, got %s`, out)
				}
				msg = v2.Error
			}
			if !strings.Contains(msg, c.substr) {
				t.Errorf("error %q does not mention %q", msg, c.substr)
			}
		})
	}
}

// TestMetadataAndHealth covers the GET endpoints and readiness.
func TestMetadataAndHealth(t *testing.T) {
	t.Parallel()
	s := newServer(t, "classifier", Options{})
	v := Version(s.m)
	if len(v) != 12 || !strings.HasPrefix(s.m.Checksum, "sha256:"+v) {
		t.Fatalf("version %q is not the checksum's first 12 hex digits (%s)", v, s.m.Checksum)
	}
	var meta struct {
		Name     string   `json:"name"`
		Versions []string `json:"versions"`
		Platform string   `json:"platform"`
		Inputs   []struct {
			Name     string `json:"name"`
			Datatype string `json:"datatype"`
			Shape    []int  `json:"shape"`
		} `json:"inputs"`
		Outputs []struct {
			Name     string `json:"name"`
			Datatype string `json:"datatype"`
			Shape    []int  `json:"shape"`
		} `json:"outputs"`
	}
	for _, path := range []string{"/v2/models/churn", "/v2/models/churn/versions/" + v} {
		code, out := call(s, "GET", path, "", "")
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, out)
		}
		if err := json.Unmarshal([]byte(out), &meta); err != nil {
			t.Fatal(err)
		}
		var ins []string
		for _, in := range meta.Inputs {
			ins = append(ins, in.Name+":"+in.Datatype+":"+fmt.Sprint(in.Shape))
		}
		var outs []string
		for _, o := range meta.Outputs {
			outs = append(outs, o.Name+":"+o.Datatype+":"+fmt.Sprint(o.Shape))
		}
		if meta.Name != "churn" || !slices.Equal(meta.Versions, []string{v}) || meta.Platform != "modelci_logistic" ||
			!slices.Equal(ins, []string{"tenure:FP64:[-1]", "plan:BYTES:[-1]", "monthly:FP64:[-1]"}) ||
			!slices.Equal(outs, []string{"predict:BYTES:[-1]", "predict_proba:FP64:[-1 2]"}) {
			t.Errorf("%s: metadata %s", path, out)
		}
	}
	type probe struct {
		path, body string
		code       int
	}
	ready := []probe{
		{"/v2", `"extensions":[]`, 200},
		{"/v2/", `"name":"modelci"`, 200},
		{"/v2/health/live", `{"live":true}`, 200},
		{"/v2/health/ready", `{"ready":true}`, 200},
		{"/v2/models/churn/ready", `{"name":"churn","ready":true}`, 200},
		{"/v2/models/churn/versions/" + v + "/ready", `"ready":true`, 200},
		{"/ping", "\n", 200},
		{"/health", "\n", 200},
		{"/version", "\n", 200},
		{"/metrics", "modelci_model_info", 200},
	}
	notReady := []probe{
		{"/v2/health/live", `{"live":true}`, 200},
		{"/v2/health/ready", `{"ready":false}`, 503},
		{"/v2/models/churn/ready", `{"name":"churn","ready":false}`, 503},
		{"/ping", "\n", 503},
		{"/health", "\n", 503},
	}
	check := func(probes []probe) {
		for _, p := range probes {
			code, out := call(s, "GET", p.path, "", "")
			if code != p.code || !strings.Contains(out, p.body) {
				t.Errorf("GET %s (ready=%v): %d %q, want %d containing %q", p.path, s.Ready(), code, out, p.code, p.body)
			}
		}
	}
	check(ready)
	s.SetReady(false)
	check(notReady)
	// Inference still works while not ready: draining requests finish.
	code, out := call(s, "POST", "/v2/models/churn/infer", "", `{"inputs":[{"name":"x","shape":[1,3],"datatype":"BYTES","data":[2,"basic",80]}]}`)
	if code != 200 {
		t.Errorf("inference while not ready: %d %s", code, out)
	}
}

// TestBodyLimitWithoutLength: a body without Content-Length (chunked) is
// cut off at the limit too.
func TestBodyLimitWithoutLength(t *testing.T) {
	t.Parallel()
	s := newServer(t, "regression", Options{MaxBodyBytes: 1000})
	for _, c := range []struct {
		size int
		code int
	}{{999, 400}, {1000, 400}, {1001, 413}, {100000, 413}} {
		body := `{"inputs":[` + strings.Repeat(" ", c.size-len(`{"inputs":[`)) // valid prefix, then padding
		req := httptest.NewRequest("POST", "/v2/models/houses/infer", io.MultiReader(strings.NewReader(body)))
		req.ContentLength = -1
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("%d-byte body: status %d, want %d: %s", c.size, rec.Code, c.code, rec.Body.String())
		}
	}
}

// TestNumericMatrix: a numeric-only model takes one FP64 (or INT64) [N, F]
// tensor; its answers equal the model package's scores of the same rows.
func TestNumericMatrix(t *testing.T) {
	t.Parallel()
	var m model.Model
	if err := json.Unmarshal(ref(t).Models["regression"], &m); err != nil {
		t.Fatal(err)
	}
	m.Features = m.Features[:3] // sqft, bedrooms, age
	m.Columns = m.Columns[:3]
	m.Coefficients = m.Coefficients[:3]
	if _, err := m.Seal(nil); err != nil {
		t.Fatal(err)
	}
	s, err := New(&m, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pred, err := model.NewPredictor(&m)
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]float64{{2351, 4, 1.8}, {1932, 4, 35.8}, {600, 1, 80}}
	for _, dt := range []string{"FP64", "FP32", "INT64"} {
		var data []any
		for _, r := range rows {
			for _, v := range r {
				if dt == "INT64" {
					v = float64(int(v))
				}
				data = append(data, v)
			}
		}
		body := mustJSON(t, map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": []int{len(rows), 3}, "datatype": dt, "data": data}}})
		code, out := call(s, "POST", "/v2/models/houses/infer", "application/json", body)
		if code != 200 {
			t.Fatalf("%s: %d %s", dt, code, out)
		}
		var resp v2Response
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatal(err)
		}
		for r, raw := range resp.Outputs[0].Data {
			num := slices.Clone(rows[r])
			if dt == "INT64" {
				for i := range num {
					num[i] = float64(int(num[i]))
				}
			}
			want, _, err := pred.Score(num, make([]string, 3))
			if err != nil {
				t.Fatal(err)
			}
			var got float64
			if json.Unmarshal(raw, &got) != nil || !near(got, want) {
				t.Errorf("%s row %d: %s, want %v", dt, r, raw, want)
			}
		}
	}
}
