package xgboost

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/model"
)

// editJSON reads testdata/<name>.json, lets edit change the decoded
// document, and returns it encoded again (NaN thresholds become null,
// which the reader takes as NaN).
func editJSON(t testing.TB, name string, edit func(doc map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("NaN"), []byte("null"))
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func obj(v any, keys ...string) map[string]any {
	m := v.(map[string]any)
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

func tree(doc map[string]any, i int) map[string]any {
	return obj(doc, "learner", "gradient_booster", "model")["trees"].([]any)[i].(map[string]any)
}

// TestReadErrors checks that a bad or unsupported model gives an error
// that names what is wrong and where.
func TestReadErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(doc map[string]any)
		is   error
		msg  string
	}{
		{"unsupported objective", func(doc map[string]any) {
			obj(doc, "learner", "objective")["name"] = "reg:pseudohubererror"
		}, ErrUnsupported, `objective "reg:pseudohubererror"`},
		{"unsupported booster", func(doc map[string]any) {
			obj(doc, "learner", "gradient_booster")["name"] = "gbforest"
		}, ErrUnsupported, `booster "gbforest"`},
		{"child out of range", func(doc map[string]any) {
			tree(doc, 3)["left_children"].([]any)[2] = 99.0
		}, ErrFormat, "learner.gradient_booster.model.trees[3].left_children[2]"},
		{"shared child", func(doc map[string]any) {
			tree(doc, 3)["right_children"].([]any)[0] = 1.0
		}, ErrFormat, "learner.gradient_booster.model.trees[3].right_children[0]: child 1 is not a node of its own"},
		{"feature out of range", func(doc map[string]any) {
			tree(doc, 1)["split_indices"].([]any)[0] = 5.0
		}, ErrFormat, "trees[1].split_indices[0]: feature 5 of 5"},
		{"short array", func(doc map[string]any) {
			tr := tree(doc, 0)
			tr["split_conditions"] = tr["split_conditions"].([]any)[1:]
		}, ErrFormat, "trees[0].split_conditions: 14 entries for 15 nodes"},
		{"default_left not a boolean", func(doc map[string]any) {
			tree(doc, 0)["default_left"].([]any)[0] = 2.0
		}, ErrFormat, "trees[0].default_left[0]: 2 is not a boolean"},
		{"tree_info out of range", func(doc map[string]any) {
			obj(doc, "learner", "gradient_booster", "model")["tree_info"].([]any)[4] = 1.0
		}, ErrFormat, "tree_info[4]: 1 is not an integer in [0, 0]"},
		{"missing base_score", func(doc map[string]any) {
			delete(obj(doc, "learner", "learner_model_param"), "base_score")
		}, ErrFormat, "learner.learner_model_param.base_score: missing"},
		{"base_score outside (0, 1) for logistic", func(doc map[string]any) {
			obj(doc, "learner", "learner_model_param")["base_score"] = "2E0"
		}, ErrFormat, "base_score 2 must be in [0, 1]"},
		{"base_score list of the wrong length", func(doc map[string]any) {
			obj(doc, "learner", "learner_model_param")["base_score"] = "[1E-1,2E-1]"
		}, ErrFormat, "2 values for 1 outputs"},
		{"multi-output trees", func(doc map[string]any) {
			obj(doc, "learner", "gradient_booster", "model", "gbtree_model_param")["size_leaf_vector"] = "3"
		}, ErrUnsupported, "multi-output trees"},
		{"multi-target", func(doc map[string]any) {
			obj(doc, "learner", "learner_model_param")["num_target"] = "2"
		}, ErrUnsupported, "2 targets"},
		{"NaN leaf", func(doc map[string]any) {
			c := tree(doc, 2)["split_conditions"].([]any)
			c[len(c)-1] = nil // the last node is a leaf
		}, ErrFormat, "leaf value NaN is not finite"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := editJSON(t, "logistic", tc.edit)
			_, err := Read(bytes.NewReader(b), FormatJSON)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want %v containing %q", err, tc.is, tc.msg)
			}
		})
	}
}

// tinyModel is categorical.json cut down to one categorical split on c
// (feature 3): codes 1 and 4 go right to leaf 2 (value 20), other codes
// left to leaf 1 (value 10), a missing value left; base_score 0.
func tinyModel(tb testing.TB) []byte {
	tb.Helper()
	return editJSON(tb, "categorical", func(doc map[string]any) {
		m := obj(doc, "learner", "gradient_booster", "model")
		m["trees"] = m["trees"].([]any)[:1]
		m["tree_info"] = []any{0.0}
		obj(m, "gbtree_model_param")["num_trees"] = "1"
		// One split on c (feature 3): codes 1 and 4 go right to leaf 2
		// (value 20), others left to leaf 1 (value 10); missing left.
		tr := tree(doc, 0)
		tr["tree_param"].(map[string]any)["num_nodes"] = "3"
		tr["left_children"] = []any{1.0, -1.0, -1.0}
		tr["right_children"] = []any{2.0, -1.0, -1.0}
		tr["parents"] = []any{2147483647.0, 0.0, 0.0}
		tr["split_indices"] = []any{3.0, 0.0, 0.0}
		tr["split_conditions"] = []any{nil, 10.0, 20.0}
		tr["split_type"] = []any{1.0, 0.0, 0.0}
		tr["default_left"] = []any{1.0, 0.0, 0.0}
		tr["categories"] = []any{4.0, 1.0}
		tr["categories_nodes"] = []any{0.0}
		tr["categories_segments"] = []any{0.0}
		tr["categories_sizes"] = []any{2.0}
		for _, k := range []string{"base_weights", "loss_changes", "sum_hessian"} {
			tr[k] = []any{0.0, 0.0, 0.0}
		}
		obj(doc, "learner", "learner_model_param")["base_score"] = "0E0"
	})
}

// ubjEncode encodes a decoded document as UBJSON: numeric arrays as
// typed float64 arrays with a count, objects and other arrays with end
// markers, as XGBoost lays them out.
func ubjEncode(buf *bytes.Buffer, v any) {
	length := func(n int) {
		buf.WriteByte('l')
		_ = binary.Write(buf, binary.BigEndian, int32(n))
	}
	switch v := v.(type) {
	case nil:
		buf.WriteByte('Z')
	case bool:
		if v {
			buf.WriteByte('T')
		} else {
			buf.WriteByte('F')
		}
	case float64:
		buf.WriteByte('D')
		_ = binary.Write(buf, binary.BigEndian, v)
	case string:
		buf.WriteByte('S')
		length(len(v))
		buf.WriteString(v)
	case []float64:
		buf.WriteString("[$D#")
		length(len(v))
		for _, f := range v {
			_ = binary.Write(buf, binary.BigEndian, f)
		}
	case []any:
		buf.WriteByte('[')
		for _, e := range v {
			ubjEncode(buf, e)
		}
		buf.WriteByte(']')
	case map[string]any:
		buf.WriteByte('{')
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			length(len(k))
			buf.WriteString(k)
			ubjEncode(buf, v[k])
		}
		buf.WriteByte('}')
	}
}

// tinyUBJ is tinyModel as UBJSON.
func tinyUBJ(tb testing.TB) []byte {
	tb.Helper()
	doc, err := decodeJSON(tinyModel(tb))
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	ubjEncode(&buf, doc)
	return buf.Bytes()
}

// TestCategoricalDirection checks XGBoost's rule on a categorical split:
// the listed categories go right, every other category left, a missing
// value to the default child.
func TestCategoricalDirection(t *testing.T) {
	t.Parallel()
	b := tinyModel(t)
	for _, b := range [][]byte{b, tinyUBJ(t)} {
		xm, err := Read(bytes.NewReader(b), FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		mm, err := xm.Compile(nil)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := model.NewProgram(mm)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ code, want float64 }{
			{0, 10}, {1, 20}, {2, 10}, {4, 20}, {6, 10}, {math.NaN(), 10}, {-1, 10},
		} {
			var raw [1]float64
			prog.Raw([]float64{0, 0, 0, tc.code}, raw[:])
			if raw[0] != tc.want {
				t.Errorf("code %g: %g, want %g", tc.code, raw[0], tc.want)
			}
		}
	}
}

// TestSniffAndAPI checks format sniffing, the model's fields and Compile's
// feature names.
func TestSniffAndAPI(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"softprob.json", "softprob.ubj"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		xm, err := Read(bytes.NewReader(b), FormatAuto)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if xm.Classes != 3 || xm.NumFeature != 5 || len(xm.FeatureNames) != 5 || xm.FeatureNames[0] != "x0" ||
			xm.Task != model.TaskClassification || len(xm.BaseScore) != 3 || xm.BaseScore[0] != 0.5 ||
			xm.Iterations != 20 || len(xm.Version) != 3 || xm.Version[0] != 1 {
			t.Errorf("%s: read %+v", name, xm)
		}
		if _, err := xm.Compile([]string{"a", "b"}); err == nil || !strings.Contains(err.Error(), "2 feature names") {
			t.Errorf("%s: compile with 2 names: %v", name, err)
		}
		mm, err := xm.Compile(nil)
		if err != nil {
			t.Fatal(err)
		}
		if mm.Features[4].Name != "x4" || len(mm.Classes) != 3 || mm.Classes[2] != "2" {
			t.Errorf("%s: compiled features %v classes %v", name, mm.FeatureNames(), mm.Classes)
		}
	}
	// Without feature names: f0, f1, ...
	xm, err := ReadFile(filepath.Join("testdata", "logitraw.ubj"))
	if err != nil {
		t.Fatal(err)
	}
	mm, err := xm.Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(mm.FeatureNames(), ","); got != "f0,f1,f2,f3,f4" {
		t.Errorf("features %s", got)
	}
	// The early-stopping model keeps the trees of iterations 0..14 of 20.
	xm, err = ReadFile(filepath.Join("testdata", "early_stopping.ubj"))
	if err != nil {
		t.Fatal(err)
	}
	if xm.BestIteration != 14 || xm.Iterations != 20 || len(xm.Block.Trees.Trees) != 15 {
		t.Errorf("best_iteration %d, %d iterations, %d trees kept", xm.BestIteration, xm.Iterations, len(xm.Block.Trees.Trees))
	}
}

// TestCraftedFiles checks that crafted files give errors: huge counts,
// deep nesting, truncation.
func TestCraftedFiles(t *testing.T) {
	t.Parallel()
	deep := func(open string, n int) []byte { return []byte(strings.Repeat(open, n)) }
	cases := []struct {
		name   string
		b      []byte
		format Format
		msg    string
	}{
		{"typed array of 2^62 floats", []byte{'[', '$', 'd', '#', 'L', 0x40, 0, 0, 0, 0, 0, 0, 0}, FormatUBJSON, "length 4.6"},
		{"string longer than the file", []byte{'S', 'l', 0x7f, 0xff, 0xff, 0xff, 'a'}, FormatUBJSON, "length"},
		{"negative count", []byte{'[', '#', 'i', 0xff}, FormatUBJSON, "length -1"},
		{"deep UBJSON", deep("[", 10000), FormatUBJSON, "nested deeper"},
		{"deep JSON", deep("[", 10000), FormatJSON, "nested deeper"},
		{"typed array longer than the file", []byte{'[', '$', 'd', '#', 'i', 2, 0, 0, 0, 0}, FormatUBJSON, "2 elements with 4 bytes left"},
		{"unknown marker", []byte{'{', 'i', 1, 'a', '?'}, FormatUBJSON, "unknown marker"},
		{"truncated UBJSON", []byte{'{', 'i', 7, 'l', 'e', 'a', 'r'}, FormatUBJSON, "length 7 with 4 bytes left"},
		{"truncated JSON", []byte(`{"learner": {`), FormatJSON, "want a member name"},
		{"not an object", []byte(`[1, 2]`), FormatJSON, "want an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Read(bytes.NewReader(tc.b), tc.format)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want ErrFormat containing %q", err, tc.msg)
			}
		})
	}
}

// FuzzRead reads arbitrary bytes as JSON and as UBJSON: errors only, never
// a panic; a model that reads compiles or errors, and scores.
func FuzzRead(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input, which takes long
	// for the 20 kB models of the goldens.
	for _, name := range []string{"gblinear.json", "gblinear.ubj", "gblinear_softprob.ubj"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(name, ".ubj"))
	}
	f.Add(tinyModel(f), false)
	f.Add(tinyUBJ(f), true)
	f.Fuzz(func(t *testing.T, b []byte, ubj bool) {
		format := FormatJSON
		if ubj {
			format = FormatUBJSON
		}
		xm, err := Read(bytes.NewReader(b), format)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v is neither ErrFormat nor ErrUnsupported", err)
			}
			return
		}
		if xm.NumFeature > 1000 {
			return
		}
		mm, err := xm.Compile(nil)
		if err != nil {
			return
		}
		prog, err := model.NewProgram(mm)
		if err != nil {
			t.Fatalf("compiled model does not load: %v", err)
		}
		x := make([]float64, prog.Width())
		raw := make([]float64, prog.Outputs())
		prog.Raw(x, raw)
		for j := range x {
			x[j] = math.NaN()
		}
		prog.Raw(x, raw)
	})
}
