package model

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// treeModel is a schema version 2 regression model with two numeric
// features and a two-tree ensemble:
//
//	tree 0: x0 <= 1 ? (x1 <= 0 ? 1 : 2) : 3, missing x0 goes right, missing x1 left
//	tree 1: x1 <= 5 ? 10 : 20, missing goes left
func treeModel() *Model {
	return &Model{
		SchemaVersion: MaxSchemaVersion,
		Name:          "trees",
		Task:          TaskRegression,
		Algorithm:     "gradient_boosting",
		Target:        "y",
		Features: []Feature{
			{Name: "x0", Type: Numeric, Missing: MissingKeep, Scale: 1},
			{Name: "x1", Type: Numeric, Missing: MissingKeep, Scale: 1},
		},
		Columns: []string{"x0", "x1"},
		Outputs: 1,
		Link:    LinkIdentity,
		Predictor: &Block{Trees: &TreeEnsemble{
			Aggregation: AggregateSum, Comparison: CompareLessEqual, Precision: Float64,
			BaseScore: []float64{0.5},
			Trees: []Tree{
				{
					Output:      0,
					Feature:     []int{0, 1, -1, -1, -1},
					Threshold:   []float64{1, 0, 0, 0, 0},
					Left:        []int{1, 2, -1, -1, -1},
					Right:       []int{4, 3, -1, -1, -1},
					MissingLeft: []bool{false, true, false, false, false},
					Value:       []float64{0, 0, 1, 2, 3},
					Gain:        []float64{6, 2, 0, 0, 0},
				},
				{
					Output:      0,
					Feature:     []int{1, -1, -1},
					Threshold:   []float64{5, 0, 0},
					Left:        []int{1, -1, -1},
					Right:       []int{2, -1, -1},
					MissingLeft: []bool{true, false, false},
					Value:       []float64{0, 10, 20},
					Gain:        []float64{2, 0, 0},
				},
			},
		}},
	}
}

func TestTreeProgram(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	cases := []struct {
		name   string
		mutate func(*TreeEnsemble)
		x      []float64
		want   float64
	}{
		{"left left", nil, []float64{1, 0}, 0.5 + 1 + 10},
		{"left right", nil, []float64{0, 0.5}, 0.5 + 2 + 10},
		{"right", nil, []float64{2, 6}, 0.5 + 3 + 20},
		{"missing x0 goes right", nil, []float64{nan, 0}, 0.5 + 3 + 10},
		{"missing x1 goes left twice", nil, []float64{0, nan}, 0.5 + 1 + 10},
		{"strict comparison sends the threshold right", func(e *TreeEnsemble) { e.Comparison = CompareLess }, []float64{1, 5}, 0.5 + 3 + 20},
		{"average", func(e *TreeEnsemble) { e.Aggregation = AggregateAverage }, []float64{1, 0}, 0.5 + (1+10)/2.0},
		// 1.00000001 rounds to 1 in float32, so it is not above the threshold.
		{"float32 rounds the value", func(e *TreeEnsemble) { e.Precision = Float32 }, []float64{1.00000001, 0}, 0.5 + 1 + 10},
		{"float64 does not", nil, []float64{1.00000001, 0}, 0.5 + 3 + 10},
		{"categorical: listed codes go right", func(e *TreeEnsemble) {
			e.Trees[1].Categorical = []CategorySplit{{Node: 0, Right: []int{2, 7}}}
		}, []float64{0, 7}, 0.5 + 2 + 20},
		{"categorical: other codes go left", func(e *TreeEnsemble) {
			e.Trees[1].Categorical = []CategorySplit{{Node: 0, Right: []int{2, 7}}}
		}, []float64{0, 3}, 0.5 + 2 + 10},
		{"categorical: a non-integer is no listed code", func(e *TreeEnsemble) {
			e.Trees[1].Categorical = []CategorySplit{{Node: 0, Right: []int{2, 7}}}
		}, []float64{0, 2.5}, 0.5 + 2 + 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := treeModel()
			if tc.mutate != nil {
				tc.mutate(m.Predictor.Trees)
			}
			p, err := NewProgram(m)
			if err != nil {
				t.Fatal(err)
			}
			var out [1]float64
			p.Raw(tc.x, out[:])
			if out[0] != tc.want {
				t.Errorf("Raw(%v) = %v, want %v", tc.x, out[0], tc.want)
			}
		})
	}
}

func TestTreeProgramEncodesMissingAsNaN(t *testing.T) {
	t.Parallel()
	m := treeModel()
	enc, err := NewEncoder(m.Features)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, enc.Width())
	if _, err := enc.EncodeRow([]float64{math.NaN(), 0}, []string{"", ""}, x); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(x[0]) || x[1] != 0 {
		t.Fatalf("encoded %v, want [NaN 0]", x)
	}
}

func TestSoftmaxProgram(t *testing.T) {
	t.Parallel()
	m := treeModel()
	m.Task, m.Classes, m.Outputs, m.Link = TaskClassification, []string{"a", "b", "c"}, 3, LinkSoftmax
	e := m.Predictor.Trees
	e.BaseScore = []float64{0, 0, 0}
	e.Trees[0].Output = 2
	// Tree 1 holds one value per output in each leaf.
	e.Trees[1].Output = -1
	e.Trees[1].Value = []float64{0, 0, 0, 1, 0, 0, 0, 3, 0}
	p, err := NewProgram(m)
	if err != nil {
		t.Fatal(err)
	}
	raw, prob := make([]float64, 3), make([]float64, 3)
	p.Raw([]float64{2, 6}, raw) // tree 0 → 3 on output 2; tree 1 → right leaf (0, 3, 0)
	if want := []float64{0, 3, 3}; !equal(raw, want) {
		t.Fatalf("raw = %v, want %v", raw, want)
	}
	if got := p.Class(raw); got != 1 {
		t.Errorf("Class = %d, want the first largest, 1", got)
	}
	p.Probabilities(raw, prob)
	e3 := math.Exp(3)
	if want := []float64{1 / (1 + 2*e3), e3 / (1 + 2*e3), e3 / (1 + 2*e3)}; !near(prob, want, 1e-15) {
		t.Errorf("probabilities = %v, want %v", prob, want)
	}
	imp := e.Importance(2)
	if !near(imp, []float64{0.6, 0.4}, 1e-15) {
		t.Errorf("importance = %v, want [0.6 0.4]", imp)
	}
	if trees, leaves := e.Leaves(); trees != 2 || leaves != 5 {
		t.Errorf("Leaves = %d trees, %d leaves; want 2, 5", trees, leaves)
	}
}

func TestSigmoidProgramMatchesV1(t *testing.T) {
	t.Parallel()
	v1 := testModel()
	v1.Task, v1.Algorithm, v1.Classes = TaskClassification, "logistic", []string{"no", "yes"}
	v2 := testModel()
	v2.Task, v2.Algorithm, v2.Classes = TaskClassification, "logistic", []string{"no", "yes"}
	v2.SchemaVersion, v2.Outputs, v2.Link = MaxSchemaVersion, 1, LinkSigmoid
	v2.Predictor = &Block{Linear: &LinearBlock{Intercepts: []float64{v1.Intercept}, Coefficients: [][]float64{v1.Coefficients}}}
	v2.Intercept, v2.Coefficients = 0, nil
	p1, err := NewProgram(v1)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := NewProgram(v2)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range [][]float64{{0, 1, 0}, {-3, 0, 1}, {0.5, 0, 0}, {-2.5, 1, 0}} {
		var r1, r2 [1]float64
		var q1, q2 [2]float64
		p1.Raw(x, r1[:])
		p2.Raw(x, r2[:])
		p1.Probabilities(r1[:], q1[:])
		p2.Probabilities(r2[:], q2[:])
		if r1 != r2 || q1 != q2 || p1.Class(r1[:]) != p2.Class(r2[:]) {
			t.Errorf("x=%v: v1 %v %v, v2 %v %v", x, r1, q1, r2, q2)
		}
		if want := Sigmoid(r1[0]); q1[1] != want || q1[0] != 1-want || p1.Class(r1[:]) != ClassIndex(r1[0]) {
			t.Errorf("x=%v: probabilities %v, want %v", x, q1, want)
		}
	}
}

// TestReleaseV1Program: the champion the previous release wrote scores
// through the program exactly as through the version 1 predictor.
func TestReleaseV1Program(t *testing.T) {
	t.Parallel()
	m, err := Load(releaseDir)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := NewProgram(m)
	if err != nil {
		t.Fatal(err)
	}
	if prog.Outputs() != 1 || prog.Link() != LinkIdentity {
		t.Fatalf("program has %d outputs and link %s", prog.Outputs(), prog.Link())
	}
	x := make([]float64, prog.Width())
	for r := range 50 {
		for j := range x {
			x[j] = float64((r*7+j*3)%11) - 5
		}
		var out [1]float64
		prog.Raw(x, out[:])
		if want := LinearScore(m.Intercept, m.Coefficients, x); out[0] != want {
			t.Fatalf("row %d: program %v, the linear score %v", r, out[0], want)
		}
	}
}

func TestProgramSealRoundTrip(t *testing.T) {
	t.Parallel()
	m := treeModel()
	b, err := m.Seal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != MaxSchemaVersion {
		t.Fatalf("sealed as schema_version %d", m.SchemaVersion)
	}
	for _, absent := range []string{`"intercept"`, `"coefficients"`} {
		if strings.Contains(string(b), absent) {
			t.Errorf("a version 2 model.json has %s", absent)
		}
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := got.Seal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(b2) {
		t.Fatalf("re-sealed bytes differ:\n%s\n%s", b, b2)
	}
}

func TestReleaseV1ResealsByteForByte(t *testing.T) {
	t.Parallel()
	orig, err := os.ReadFile(filepath.Join(releaseDir, FileModel))
	if err != nil {
		t.Fatal(err)
	}
	m, files, err := LoadFiles(releaseDir)
	if err != nil {
		t.Fatal(err)
	}
	delete(files, FileModel)
	b, err := m.Seal(files)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(orig) {
		t.Fatal("a version 1 model no longer re-seals to the bytes the previous release wrote")
	}
}

func TestProgramCorrupt(t *testing.T) {
	t.Parallel()
	deep := func(e *TreeEnsemble) {
		// A chain 10,000 levels deep: node i splits into i+1 (left) and a
		// leaf (right).
		const depth = 10000
		tr := Tree{}
		for i := range depth {
			tr.Feature = append(tr.Feature, 0, -1)
			tr.Threshold = append(tr.Threshold, 0, 0)
			tr.MissingLeft = append(tr.MissingLeft, true, false)
			tr.Value = append(tr.Value, 0, 1)
			next := 2*i + 2
			if i == depth-1 {
				next = 2*i + 1 // the last split points at its own leaf twice; never reached
			}
			tr.Left = append(tr.Left, next, -1)
			tr.Right = append(tr.Right, 2*i+1, -1)
		}
		tr.Feature = append(tr.Feature, -1)
		tr.Threshold = append(tr.Threshold, 0)
		tr.MissingLeft = append(tr.MissingLeft, false)
		tr.Value = append(tr.Value, 0)
		tr.Left, tr.Right = append(tr.Left, -1), append(tr.Right, -1)
		e.Trees = []Tree{tr}
	}
	cases := []struct {
		name   string
		mutate func(m *Model)
		msg    string
	}{
		{"child points backwards", func(m *Model) { m.Predictor.Trees.Trees[0].Left[1] = 0 }, "children must follow"},
		{"child out of range", func(m *Model) { m.Predictor.Trees.Trees[0].Right[0] = 99 }, "children must follow"},
		{"shared child", func(m *Model) { m.Predictor.Trees.Trees[0].Right[1] = 2 }, "children must follow"},
		{"orphan node", func(m *Model) { m.Predictor.Trees.Trees[0].Right[0] = 3 }, "child of"},
		{"NaN leaf", func(m *Model) { m.Predictor.Trees.Trees[1].Value[2] = math.NaN() }, "not finite"},
		{"NaN threshold", func(m *Model) { m.Predictor.Trees.Trees[1].Threshold[0] = math.NaN() }, "NaN threshold"},
		{"split on a column the model lacks", func(m *Model) { m.Predictor.Trees.Trees[1].Feature[0] = 2 }, "column 2 of 2"},
		{"leaf with children", func(m *Model) { m.Predictor.Trees.Trees[1].Left[1] = 2 }, "has children"},
		{"short arrays", func(m *Model) { m.Predictor.Trees.Trees[1].MissingLeft = nil }, "missing_left"},
		{"tree 10,000 levels deep", func(m *Model) { deep(m.Predictor.Trees) }, "deeper than"},
		{"K disagrees with the classes", func(m *Model) {
			m.Task, m.Classes, m.Link = TaskClassification, []string{"a", "b", "c"}, LinkSoftmax
		}, "3 classes, 1 outputs"},
		{"sigmoid with three classes", func(m *Model) {
			m.Task, m.Classes, m.Link = TaskClassification, []string{"a", "b", "c"}, LinkSigmoid
		}, "link \"sigmoid\""},
		{"exp link for a classifier", func(m *Model) {
			m.Task, m.Classes, m.Link = TaskClassification, []string{"a", "b"}, LinkExp
		}, "link \"exp\""},
		{"exp link with two outputs", func(m *Model) {
			m.Outputs, m.Link = 2, LinkExp
			m.Predictor.Trees.BaseScore = []float64{0, 0}
		}, "2 outputs"},
		{"unknown link", func(m *Model) { m.Link = "log" }, "link \"log\""},
		{"output out of range", func(m *Model) { m.Predictor.Trees.Trees[0].Output = 1 }, "output 1 of 1"},
		{"base scores for another K", func(m *Model) { m.Predictor.Trees.BaseScore = []float64{0, 0} }, "2 base scores"},
		{"unknown aggregation", func(m *Model) { m.Predictor.Trees.Aggregation = "max" }, "aggregation"},
		{"unknown comparison", func(m *Model) { m.Predictor.Trees.Comparison = ">" }, "comparison"},
		{"no trees", func(m *Model) { m.Predictor.Trees.Trees = nil }, "no trees"},
		{"both blocks", func(m *Model) {
			m.Predictor.Linear = &LinearBlock{Intercepts: []float64{0}, Coefficients: [][]float64{{1, 1}}}
		}, "both"},
		{"no block", func(m *Model) { m.Predictor = &Block{} }, "neither"},
		{"version 1 coefficients in a version 2 model", func(m *Model) { m.Coefficients = []float64{1, 2} }, "predictor block"},
		{"linear block keeps missing values", func(m *Model) {
			m.Predictor = &Block{Linear: &LinearBlock{Intercepts: []float64{0}, Coefficients: [][]float64{{1, 1}}}}
		}, "cannot keep missing"},
		{"unsorted category codes", func(m *Model) {
			m.Predictor.Trees.Trees[1].Categorical = []CategorySplit{{Node: 0, Right: []int{3, 1}}}
		}, "sorted"},
		{"categorical split on a leaf", func(m *Model) {
			m.Predictor.Trees.Trees[1].Categorical = []CategorySplit{{Node: 1, Right: []int{1}}}
		}, "not a split node"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := treeModel()
			tc.mutate(m)
			_, err := NewProgram(m)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("NewProgram = %v, want ErrCorrupt mentioning %q", err, tc.msg)
			}
		})
	}
}

// FuzzProgram: whatever model.json content validates compiles and scores
// any row without a panic or a hang. (FuzzParse covers the checksum; this
// target skips it so the fuzzer reaches the program's validation.)
func FuzzProgram(f *testing.F) {
	for _, m := range []*Model{treeModel(), testModel()} {
		b, err := json.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, 1.0, -1.0)
	}
	f.Fuzz(func(t *testing.T, b []byte, x0, x1 float64) {
		var m Model
		if json.Unmarshal(b, &m) != nil {
			return
		}
		p, err := NewProgram(&m)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrIncompatible) {
				t.Fatalf("NewProgram error %v is neither ErrCorrupt nor ErrIncompatible", err)
			}
			return
		}
		x := make([]float64, p.Width())
		for j := range x {
			x[j] = []float64{x0, x1, math.NaN()}[j%3]
		}
		raw := make([]float64, p.Outputs())
		p.Raw(x, raw)
		if p.trees != nil {
			// The batch path scores each row as Raw does.
			const n = 9
			rows := make([]float64, 0, n*len(x))
			for range n {
				rows = append(rows, x...)
			}
			out := make([]float64, n*p.Outputs())
			p.RawRows(rows, n, out)
			for i, v := range out {
				if math.Float64bits(v) != math.Float64bits(raw[i%p.Outputs()]) {
					t.Fatalf("RawRows output %d = %v, Raw %v", i, v, raw[i%p.Outputs()])
				}
			}
		}
		if len(m.Classes) > 0 {
			p.Probabilities(raw, make([]float64, len(m.Classes)))
			if c := p.Class(raw); c < 0 || c >= len(m.Classes) {
				t.Fatalf("Class = %d of %d", c, len(m.Classes))
			}
		}
	})
}

func equal(a, b []float64) bool { return near(a, b, 0) }

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// TestPredictorScoresPrograms: the predictor of a tree model scores
// through its program (ScoreRow equals the program's Raw of the encoded
// row), and Score, the single-linear shortcut, refuses it.
func TestPredictorScoresPrograms(t *testing.T) {
	t.Parallel()
	pred, err := NewPredictor(treeModel())
	if err != nil {
		t.Fatal(err)
	}
	if pred.SingleLinear() || pred.Outputs() != 1 {
		t.Errorf("tree predictor: single linear %v, outputs %d", pred.SingleLinear(), pred.Outputs())
	}
	if _, _, err := pred.Score([]float64{1, 2}, make([]string, 2)); !errors.Is(err, ErrIncompatible) {
		t.Errorf("Score on a tree model = %v, want ErrIncompatible", err)
	}
	prog := pred.Program()
	x, want := make([]float64, prog.Width()), make([]float64, 1)
	got, scratch := make([]float64, 1), make([]float64, prog.Width())
	for _, row := range [][]float64{{0, 0}, {2, -1}, {math.NaN(), 3}, {1, math.NaN()}} {
		if _, err := prog.Encoder().EncodeRow(row, make([]string, 2), x); err != nil {
			t.Fatal(err)
		}
		prog.Raw(x, want)
		if _, err := pred.ScoreRow(row, make([]string, 2), scratch, got); err != nil || got[0] != want[0] {
			t.Errorf("row %v: ScoreRow %v (%v), program %v", row, got[0], err, want[0])
		}
		if pred.Raw(x, got); got[0] != want[0] {
			t.Errorf("row %v: Predictor.Raw %v, program %v", row, got[0], want[0])
		}
	}
}

func TestProgramEncodesAndScoresRawValues(t *testing.T) {
	t.Parallel()
	m := testModel()
	prog, err := NewProgram(m)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, prog.Width())
	for _, row := range []struct {
		sqft float64
		city string
	}{{110, "a"}, {90, "b"}, {math.NaN(), "zzz"}, {100, ""}} {
		unknown, err := prog.Encoder().EncodeRow([]float64{row.sqft, 0}, []string{"", row.city}, x)
		if err != nil {
			t.Fatal(err)
		}
		var out [1]float64
		prog.Raw(x, out[:])
		want, wantUnknown, err := pred.Score([]float64{row.sqft, 0}, []string{"", row.city})
		if err != nil || out[0] != want || unknown != wantUnknown {
			t.Errorf("%v: program %v (%d unknown), predictor %v (%d unknown, %v)", row, out[0], unknown, want, wantUnknown, err)
		}
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	lin := testModel().Summarize()
	if lin.Kind != SummaryLinear || lin.Outputs != 1 || lin.Intercepts[0] != 5 || !equal(lin.Coefficients[0], []float64{2, 1, -1}) || len(lin.Columns) != 3 {
		t.Errorf("linear summary = %+v", lin)
	}
	m := treeModel()
	// Give the trees a categorical feature of two one-hot columns, so the
	// importance of its columns adds up to the feature's.
	m.Features = append(m.Features, Feature{Name: "city", Type: Categorical, Missing: "most_frequent", Categories: []string{"a", "b"}, ImputeCategory: ptr("a")})
	m.Columns = append(m.Columns, "city=a", "city=b")
	m.Predictor.Trees.Trees[1].Feature[0] = 3 // city=b
	tr := m.Summarize()
	if tr.Kind != SummaryTrees || tr.Trees != 2 || tr.Leaves != 5 || !near(tr.Importance, []float64{0.6, 0.2, 0.2}, 1e-15) {
		t.Errorf("tree summary = %+v, want 2 trees, 5 leaves, importance [0.6 0.2 0.2]", tr)
	}
	if _, err := NewProgram(m); err != nil {
		t.Fatal(err)
	}
}

// randomEnsemble is a random tree ensemble over width columns with k
// outputs: unbalanced trees whose thresholds and categories come from
// small sets (so inputs tie with them), missing values either way, and,
// when cats, categorical splits on columns 0 and 1.
func randomEnsemble(r *rand.Rand, width, k int, cats bool) *TreeEnsemble {
	e := &TreeEnsemble{
		Aggregation: []string{AggregateSum, AggregateAverage}[r.IntN(2)],
		Comparison:  []string{CompareLess, CompareLessEqual}[r.IntN(2)],
		Precision:   []string{Float64, Float32}[r.IntN(2)],
	}
	for range k {
		e.BaseScore = append(e.BaseScore, r.NormFloat64())
	}
	for range 1 + r.IntN(30) {
		tr := Tree{Output: r.IntN(k+1) - 1}
		stride := 1
		if tr.Output == -1 {
			stride = k
		}
		// Nodes are created depth first: a child always follows its parent.
		var grow func(depth int) int
		grow = func(depth int) int {
			i := len(tr.Feature)
			tr.Feature = append(tr.Feature, -1)
			tr.Threshold = append(tr.Threshold, 0)
			tr.Left = append(tr.Left, -1)
			tr.Right = append(tr.Right, -1)
			tr.MissingLeft = append(tr.MissingLeft, r.IntN(2) == 0)
			for range stride {
				tr.Value = append(tr.Value, r.NormFloat64())
			}
			if depth >= 9 || (depth > 0 && r.IntN(3) == 0) {
				return i
			}
			tr.Feature[i] = r.IntN(width)
			tr.Threshold[i] = randomValues[r.IntN(len(randomValues))]
			if math.IsNaN(tr.Threshold[i]) {
				tr.Threshold[i] = 0.5
			}
			if cats && tr.Feature[i] < 2 && r.IntN(2) == 0 {
				var codes []int
				for c := range 6 {
					if r.IntN(2) == 0 {
						codes = append(codes, c)
					}
				}
				tr.Categorical = append(tr.Categorical, CategorySplit{Node: i, Right: codes})
			}
			l := grow(depth + 1)
			rt := grow(depth + 1)
			tr.Left[i], tr.Right[i] = l, rt
			return i
		}
		grow(0)
		e.Trees = append(e.Trees, tr)
	}
	return e
}

// randomValues are thresholds and inputs: ties, neighbours, infinities, a
// value that float32 rounds (0.1) and its rounded self, -0 and NaN.
var randomValues = []float64{
	-2, -1, -0.5, 0, math.Copysign(0, -1), 0.1, float64(float32(0.1)), 0.5, 1, 2, 3, 4, 5,
	math.Nextafter(1, 2), math.Nextafter(1, 0), math.Inf(1), math.Inf(-1), math.NaN(), 1e300,
}

// referenceRaw scores x by walking each tree of e as its fields say, one
// node at a time: the rule of TreeEnsemble, written plainly.
func referenceRaw(e *TreeEnsemble, k int, x []float64) []float64 {
	out := make([]float64, k)
	counts := make([]float64, k)
	for _, tr := range e.Trees {
		codes := map[int][]int{}
		for _, c := range tr.Categorical {
			codes[c.Node] = c.Right
		}
		i := 0
		for tr.Feature[i] >= 0 {
			v, thr := x[tr.Feature[i]], tr.Threshold[i]
			var left bool
			if set, ok := codes[i]; ok && !math.IsNaN(v) {
				left = true
				for _, c := range set {
					if v == float64(c) {
						left = false
					}
				}
			} else if math.IsNaN(v) {
				left = tr.MissingLeft[i]
			} else {
				if e.Precision == Float32 {
					v, thr = float64(float32(v)), float64(float32(thr))
				}
				if e.Comparison == CompareLess {
					left = v < thr
				} else {
					left = v <= thr
				}
			}
			if left {
				i = tr.Left[i]
			} else {
				i = tr.Right[i]
			}
		}
		if tr.Output >= 0 {
			out[tr.Output] += tr.Value[i]
			counts[tr.Output]++
		} else {
			for o := range k {
				out[o] += tr.Value[i*k+o]
				counts[o]++
			}
		}
	}
	for o := range k {
		if e.Aggregation == AggregateAverage && counts[o] > 0 {
			out[o] /= counts[o]
		}
		out[o] += e.BaseScore[o]
	}
	return out
}

// TestTreeWalkMatchesReference: Raw and RawRows score random ensembles
// (missing values, categorical splits, "<" and "<=", float32, K > 1)
// bit for bit as the reference walk does.
func TestTreeWalkMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for trial := range 300 {
		width, k := 1+r.IntN(6), 1+r.IntN(3)
		if trial%3 == 0 {
			k = 1
		}
		if trial%50 == 1 {
			width = 70 // x' is too wide for the stack buffer
		}
		cats := width >= 2 && trial%4 == 0
		e := randomEnsemble(r, width, k, cats)
		if err := e.validate(width, k); err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		p := &Program{k: k, link: LinkIdentity, width: width, trees: compileTrees(e, k, width)}
		n := 1 + r.IntN(40)
		x := make([]float64, n*width)
		for j := range x {
			x[j] = randomValues[r.IntN(len(randomValues))]
			if r.IntN(4) == 0 {
				x[j] = float64(r.IntN(7)) // a category code
			}
		}
		rows := make([]float64, n*k)
		p.RawRows(x, n, rows)
		for i := range n {
			row := x[i*width : (i+1)*width]
			want := referenceRaw(e, k, row)
			got := make([]float64, k)
			p.Raw(row, got)
			for o := range k {
				if math.Float64bits(got[o]) != math.Float64bits(want[o]) || math.Float64bits(rows[i*k+o]) != math.Float64bits(want[o]) {
					t.Fatalf("trial %d (%s %s %s, cats %v), row %d %v, output %d: Raw %v, RawRows %v, reference %v",
						trial, e.Comparison, e.Precision, e.Aggregation, cats, i, row, o, got[o], rows[i*k+o], want[o])
				}
			}
		}
	}
}

// TestRegressionLinks checks that a regression may predict exp(raw) or
// sigmoid(raw), and that Prediction applies the link.
func TestRegressionLinks(t *testing.T) {
	t.Parallel()
	x := []float64{0.5, -1} // tree 0: 1, tree 1: 10; raw = 0.5 + 11
	for _, tc := range []struct {
		link string
		want float64
	}{
		{LinkIdentity, 11.5},
		{LinkExp, math.Exp(11.5)},
		{LinkSigmoid, Sigmoid(11.5)},
	} {
		m := treeModel()
		m.Link = tc.link
		p, err := NewProgram(m)
		if err != nil {
			t.Fatalf("%s: %v", tc.link, err)
		}
		var raw [1]float64
		p.Raw(x, raw[:])
		if raw[0] != 11.5 {
			t.Fatalf("%s: raw %g, want 11.5", tc.link, raw[0])
		}
		if got := p.Prediction(raw[:]); got != tc.want {
			t.Errorf("%s: prediction %g, want %g", tc.link, got, tc.want)
		}
	}
}
