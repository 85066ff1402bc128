package profile

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
)

func TestSelectRanks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		gen  func(r *rand.Rand, n int) []float64
		n    int
	}{
		{"normal small", func(r *rand.Rand, n int) []float64 { return normals(r, n) }, 1000},
		{"normal large (sample brackets)", func(r *rand.Rand, n int) []float64 { return normals(r, n) }, 200_000},
		{"few distinct values", func(r *rand.Rand, n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(r.IntN(3))
			}
			return xs
		}, 100_000},
		{"sorted", func(_ *rand.Rand, n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(i)
			}
			return xs
		}, 70_000},
		{"sawtooth", func(_ *rand.Rand, n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(i % 97)
			}
			return xs
		}, 50_000},
		{"heavy tail", func(r *rand.Rand, n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = math.Exp(10 * r.NormFloat64())
			}
			return xs
		}, 100_000},
		{"one value", func(_ *rand.Rand, n int) []float64 { return []float64{42} }, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(7, 7))
			xs := tc.gen(r, tc.n)
			sorted := slices.Clone(xs)
			slices.Sort(sorted)
			ranks := []int{0, tc.n / 10, tc.n/10 + 1, tc.n / 2, tc.n - 1, tc.n * 9 / 10}
			got := SelectRanks(xs, ranks)
			for _, k := range ranks {
				if k >= tc.n {
					if _, ok := got[k]; ok {
						t.Errorf("rank %d of %d values returned", k, tc.n)
					}
					continue
				}
				if got[k] != sorted[k] {
					t.Errorf("rank %d = %g, want %g", k, got[k], sorted[k])
				}
			}
		})
	}
}

func normals(r *rand.Rand, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = r.NormFloat64()
	}
	return xs
}

// TestNumericFeatureValuesMatchesSorted: selection and sorting give the same
// bins.
func TestNumericFeatureValuesMatchesSorted(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 9, 10, 11, 1000, 50_000, 123_457} {
		xs := normals(r, n)
		for i := range xs {
			if i%7 == 0 {
				xs[i] = math.Round(xs[i]) // ties
			}
		}
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		a := sortedReference("x", sorted, 3, DefaultBins)
		b := NumericFeatureValues("x", slices.Clone(xs), 3, DefaultBins)
		if !slices.Equal(a.Edges, b.Edges) || !slices.Equal(a.Fractions, b.Fractions) || a.Min != b.Min || a.Max != b.Max || a.Count != b.Count {
			t.Errorf("n=%d: sorted %+v\nselect %+v", n, a, b)
		}
		if math.Abs(a.Mean-b.Mean) > 1e-12 || math.Abs(a.Std-b.Std) > 1e-12 {
			t.Errorf("n=%d: mean/std %g/%g vs %g/%g", n, a.Mean, a.Std, b.Mean, b.Std)
		}
	}
}

// TestQuantileMatchesNumpy: the quantile edges and PSI of a golden case
// computed with numpy (scripts/goldens/serve.py keeps the reference for the
// serving runtime; these are the same definitions).
func TestQuantileAndPSI(t *testing.T) {
	t.Parallel()
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	// numpy.quantile(xs, [0.1, 0.5, 0.9]) = 1.9, 5.5, 9.1
	for _, c := range []struct{ q, want float64 }{{0.1, 1.9}, {0.5, 5.5}, {0.9, 9.1}, {0, 1}, {1, 10}} {
		if got := Quantile(xs, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("quantile %g = %g, want %g", c.q, got, c.want)
		}
	}
	f := NumericFeature("x", xs, 10)
	// Same distribution: PSI 0.
	if psi, err := f.NumericPSI(xs); err != nil || psi != 0 {
		t.Errorf("PSI of the training data = %g, %v", psi, err)
	}
	// All new values above the top edge: one bucket holds everything.
	shifted := []float64{20, 21, 22, 23}
	psi, err := f.NumericPSI(shifted)
	if err != nil {
		t.Fatal(err)
	}
	// Σ (a−r)·ln(a/r): the top bin goes from 0.1 to 1, nine bins from 0.1 to
	// the 1e-4 floor; the missing bucket is 0 on both sides (floored).
	want := (1-0.1)*math.Log(1/0.1) + 9*(Epsilon-0.1)*math.Log(Epsilon/0.1)
	if math.Abs(psi-want) > 1e-12 {
		t.Errorf("PSI = %.15g, want %.15g", psi, want)
	}
	if Level(psi) != "significant" || Level(0.05) != "stable" || Level(0.1) != "moderate" {
		t.Errorf("levels")
	}
	if _, err := f.PSI(make([]int64, f.Buckets())); err == nil {
		t.Error("PSI of no values did not fail")
	}
	c := CategoricalFeature("c", []int32{0, 1, 1, -1}, []string{"b", "a"})
	if !slices.Equal(c.Categories, []string{"a", "b"}) || c.Missing != 1 || c.Fractions[0] != 2.0/3 {
		t.Errorf("categorical profile %+v", c)
	}
	if c.CategoryBucket("zzz", false) != 2 || c.CategoryBucket("", true) != 3 || c.CategoryBucket("b", false) != 1 {
		t.Error("category buckets")
	}
}

func TestLoadValidates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := Profile{SchemaVersion: SchemaVersion, Rows: 10, Features: []Feature{NumericFeature("x", []float64{1, 2, 3}, 10)}}
	b, _ := json.Marshal(good)
	if err := os.WriteFile(filepath.Join(dir, "ok.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(dir, "ok.json")); err != nil {
		t.Errorf("valid profile: %v", err)
	}
	bad := good
	bad.Features = []Feature{{Name: "x", Type: Numeric, Edges: []float64{2, 1}, Fractions: []float64{0, 0, 1}}}
	b, _ = json.Marshal(bad)
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(dir, "bad.json")); err == nil {
		t.Error("edges out of order accepted")
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}

// sortedReference is the straightforward profile that NumericFeatureValues
// must equal: quantiles read off the sorted values, bins counted by binary
// search.
func sortedReference(name string, xs []float64, missing, bins int) Feature {
	if bins < 2 {
		bins = DefaultBins
	}
	f := Feature{Name: name, Type: Numeric, Count: len(xs), Missing: missing}
	if f.Count == 0 {
		f.Fractions = []float64{0}
		return f
	}
	f.Min, f.Max = xs[0], xs[len(xs)-1]
	f.Mean, f.Std = meanStd(xs)
	for k := 1; k < bins; k++ {
		q := Quantile(xs, float64(k)/float64(bins))
		if len(f.Edges) == 0 || q > f.Edges[len(f.Edges)-1] {
			f.Edges = append(f.Edges, q)
		}
	}
	// A constant column has one edge at its value; keep it so that any
	// other value registers as a shift.
	// Values in bin i are those in (edges[i-1], edges[i]]: count them with a
	// binary search in the sorted values instead of binning each value.
	counts := make([]int64, len(f.Edges)+1)
	prev := 0
	for i, e := range f.Edges {
		upto := sort.Search(len(xs), func(k int) bool { return xs[k] > e })
		counts[i] = int64(upto - prev)
		prev = upto
	}
	counts[len(f.Edges)] = int64(len(xs) - prev)
	f.Fractions = fractions(counts, f.Count)
	return f
}

func meanStd(xs []float64) (mean, std float64) {
	var s float64
	for _, v := range xs {
		s += v
	}
	mean = s / float64(len(xs))
	var ss float64
	for _, v := range xs {
		d := v - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(len(xs)))
}
