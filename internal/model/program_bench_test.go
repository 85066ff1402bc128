package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchTrees is a 100-tree ensemble of balanced 31-leaf trees (depth 5
// with one extra split) over 20 columns, the serving target's shape.
func benchTrees() *Program {
	e, width := benchEnsemble()
	return &Program{k: 1, link: LinkIdentity, width: width, trees: compileTrees(e, 1, width)}
}

func benchEnsemble() (*TreeEnsemble, int) {
	r := rand.New(rand.NewPCG(1, 2))
	const width = 20
	e := &TreeEnsemble{Aggregation: AggregateSum, Comparison: CompareLessEqual, Precision: Float64, BaseScore: []float64{0}}
	for range 100 {
		var tr Tree
		// Breadth-first: nodes 0..29 split, 30..60 are leaves (31 leaves).
		const splits, nodes = 30, 61
		for i := range nodes {
			if i < splits {
				tr.Feature = append(tr.Feature, r.IntN(width))
				tr.Threshold = append(tr.Threshold, r.NormFloat64())
				tr.Left = append(tr.Left, 2*i+1)
				tr.Right = append(tr.Right, 2*i+2)
			} else {
				tr.Feature = append(tr.Feature, -1)
				tr.Threshold = append(tr.Threshold, 0)
				tr.Left = append(tr.Left, -1)
				tr.Right = append(tr.Right, -1)
			}
			tr.MissingLeft = append(tr.MissingLeft, r.IntN(2) == 0)
			tr.Value = append(tr.Value, r.NormFloat64())
		}
		e.Trees = append(e.Trees, tr)
	}
	if err := e.validate(width, 1); err != nil {
		panic(err)
	}
	return e, width
}

func BenchmarkTreeRaw(b *testing.B) {
	p := benchTrees()
	benchRaw(b, p.Width(), p.Raw)
}

func benchRaw(b *testing.B, width int, raw func(x, out []float64)) {
	r := rand.New(rand.NewPCG(3, 4))
	rows := make([][]float64, 1024)
	for i := range rows {
		rows[i] = make([]float64, width)
		for j := range rows[i] {
			rows[i][j] = r.NormFloat64()
		}
	}
	var out [1]float64
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		raw(rows[i%len(rows)], out[:])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkTreeRawRows(b *testing.B) {
	p := benchTrees()
	benchRawRows(b, p.Width(), p.RawRows)
}

func benchRawRows(b *testing.B, width int, rawRows func(x []float64, n int, out []float64)) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 10000
	x := make([]float64, n*width)
	for j := range x {
		x[j] = r.NormFloat64()
	}
	out := make([]float64, n)
	b.ReportAllocs()
	for b.Loop() {
		rawRows(x, n, out)
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
}

// TestRawRowsMatchesRaw: the batch path scores every row exactly as Raw.
func TestRawRowsMatchesRaw(t *testing.T) {
	t.Parallel()
	p := benchTrees()
	r := rand.New(rand.NewPCG(5, 6))
	const n = 37 // not a multiple of the batch
	x := make([]float64, n*p.Width())
	for j := range x {
		x[j] = r.NormFloat64()
		if r.IntN(10) == 0 {
			x[j] = math.NaN()
		}
	}
	out := make([]float64, n)
	p.RawRows(x, n, out)
	for i := range n {
		var want [1]float64
		p.Raw(x[i*p.Width():(i+1)*p.Width()], want[:])
		if out[i] != want[0] {
			t.Fatalf("row %d: RawRows %v, Raw %v", i, out[i], want[0])
		}
	}
}
