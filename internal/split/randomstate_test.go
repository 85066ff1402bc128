package split

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// rngGolden mirrors testdata/random_state.json (scripts/goldens/split.py).
type rngGolden struct {
	Numpy   string `json:"numpy"`
	Streams []struct {
		Seed         uint32    `json:"seed"`
		Uint32       []uint32  `json:"uint32"`
		RandomSample []float64 `json:"random_sample"`
	} `json:"streams"`
	Randint []struct {
		Seed   uint32   `json:"seed"`
		N      uint64   `json:"n"`
		Values []uint64 `json:"values"`
	} `json:"randint"`
	Permutations []struct {
		Seed   uint32 `json:"seed"`
		N      int    `json:"n"`
		Values []int  `json:"values"`
	} `json:"permutations"`
	Sequences []struct {
		Seed uint32 `json:"seed"`
		Ops  []struct {
			Op     string            `json:"op"`
			Arg    uint64            `json:"arg"`
			Values []json.RawMessage `json:"values"`
		} `json:"ops"`
	} `json:"sequences"`
}

func loadJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read golden: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode golden %s: %v", name, err)
	}
}

func loadRNGGolden(t *testing.T) *rngGolden {
	t.Helper()
	var g rngGolden
	loadJSON(t, "random_state.json", &g)
	if len(g.Streams) == 0 || len(g.Randint) == 0 || len(g.Sequences) == 0 {
		t.Fatal("random_state.json has no cases")
	}
	return &g
}

func TestReferenceMT19937(t *testing.T) {
	t.Parallel()
	// The MT19937 reference implementation's first output for seed 5489.
	tests := []struct {
		seed uint32
		want uint32
	}{
		{5489, 3499211612},
		{0, 2357136044},
	}
	for _, tc := range tests {
		if got := NewRandomState(tc.seed).Uint32(); got != tc.want {
			t.Errorf("seed %d: first output %d, want %d", tc.seed, got, tc.want)
		}
	}
}

func TestZeroValueIsSeedZero(t *testing.T) {
	t.Parallel()
	var zero RandomState
	ref := NewRandomState(0)
	for i := 0; i < 700; i++ {
		if a, b := zero.Uint32(), ref.Uint32(); a != b {
			t.Fatalf("draw %d: zero value gives %d, seed 0 gives %d", i, a, b)
		}
	}
}

func TestStreamsGolden(t *testing.T) {
	t.Parallel()
	g := loadRNGGolden(t)
	for _, s := range g.Streams {
		t.Run(fmt.Sprintf("seed=%d", s.Seed), func(t *testing.T) {
			t.Parallel()
			rs := NewRandomState(s.Seed)
			for i, want := range s.Uint32 {
				if got := rs.Uint32(); got != want {
					t.Fatalf("Uint32 #%d = %d, want %d", i, got, want)
				}
			}
			rs.Seed(s.Seed) // reseeding must fully reset the state
			for i, want := range s.RandomSample {
				// Exact: random_sample is a fixed sequence of IEEE operations.
				if got := rs.Float64(); got != want {
					t.Fatalf("Float64 #%d = %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestRandIntGolden(t *testing.T) {
	t.Parallel()
	g := loadRNGGolden(t)
	for _, c := range g.Randint {
		t.Run(fmt.Sprintf("seed=%d/n=%d", c.Seed, c.N), func(t *testing.T) {
			t.Parallel()
			rs := NewRandomState(c.Seed)
			iv := NewRandomState(c.Seed)
			for i, want := range c.Values {
				if c.N <= math.MaxInt {
					if got := rs.RandInt(int(c.N)); uint64(got) != want {
						t.Fatalf("RandInt(%d) #%d = %d, want %d", c.N, i, got, want)
					}
				}
				if got := iv.Interval(c.N - 1); got != want {
					t.Fatalf("Interval(%d) #%d = %d, want %d", c.N-1, i, got, want)
				}
			}
		})
	}
}

func TestPermutationGolden(t *testing.T) {
	t.Parallel()
	g := loadRNGGolden(t)
	for _, c := range g.Permutations {
		t.Run(fmt.Sprintf("seed=%d/n=%d", c.Seed, c.N), func(t *testing.T) {
			t.Parallel()
			got := NewRandomState(c.Seed).Permutation(c.N)
			if !equalInts(got, c.Values) {
				t.Fatalf("Permutation(%d) = %v, want %v", c.N, got, c.Values)
			}
		})
	}
}

// TestSequencesGolden replays interleaved operations on one generator, so a
// single extra or missing 32-bit draw anywhere shows up.
func TestSequencesGolden(t *testing.T) {
	t.Parallel()
	g := loadRNGGolden(t)
	for _, s := range g.Sequences {
		t.Run(fmt.Sprintf("seed=%d", s.Seed), func(t *testing.T) {
			t.Parallel()
			rs := NewRandomState(s.Seed)
			for i, op := range s.Ops {
				var got []any
				switch op.Op {
				case "randint":
					for range op.Values {
						got = append(got, uint64(rs.RandInt(int(op.Arg))))
					}
				case "interval":
					for range op.Values {
						got = append(got, rs.Interval(op.Arg))
					}
				case "uint32":
					for range op.Values {
						got = append(got, uint64(rs.Uint32()))
					}
				case "random_sample":
					for range op.Values {
						got = append(got, rs.Float64())
					}
				case "permutation":
					for _, v := range rs.Permutation(int(op.Arg)) {
						got = append(got, uint64(v))
					}
				default:
					t.Fatalf("op %d: unknown op %q", i, op.Op)
				}
				if len(got) != len(op.Values) {
					t.Fatalf("op %d (%s %d): %d values, want %d", i, op.Op, op.Arg, len(got), len(op.Values))
				}
				for j, raw := range op.Values {
					var want any
					if op.Op == "random_sample" {
						var f float64
						if err := json.Unmarshal(raw, &f); err != nil {
							t.Fatalf("op %d: decode: %v", i, err)
						}
						want = f
					} else {
						var u uint64
						if err := json.Unmarshal(raw, &u); err != nil {
							t.Fatalf("op %d: decode: %v", i, err)
						}
						want = u
					}
					if got[j] != want {
						t.Fatalf("op %d (%s %d) value %d = %v, want %v", i, op.Op, op.Arg, j, got[j], want)
					}
				}
			}
		})
	}
}

func TestSeedFromInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      int64
		want    uint32
		wantErr bool
	}{
		{0, 0, false},
		{42, 42, false},
		{math.MaxUint32, math.MaxUint32, false},
		{math.MaxUint32 + 1, 0, true},
		{-1, 0, true},
	}
	for _, tc := range tests {
		got, err := SeedFromInt(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("SeedFromInt(%d) = %d, %v; want %d, error=%v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestDegenerateArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(*RandomState) int
		want int
	}{
		{"RandInt(0)", func(r *RandomState) int { return r.RandInt(0) }, 0},
		{"RandInt(-5)", func(r *RandomState) int { return r.RandInt(-5) }, 0},
		{"RandInt(1)", func(r *RandomState) int { return r.RandInt(1) }, 0},
		{"Interval(0)", func(r *RandomState) int { return int(r.Interval(0)) }, 0},
		{"len(Permutation(-3))", func(r *RandomState) int { return len(r.Permutation(-3)) }, 0},
		{"len(Permutation(0))", func(r *RandomState) int { return len(r.Permutation(0)) }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := NewRandomState(3)
			if got := tc.run(rs); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
			// None of these consume randomness.
			if got, want := rs.Uint32(), NewRandomState(3).Uint32(); got != want {
				t.Fatalf("generator advanced: next draw %d, want %d", got, want)
			}
		})
	}
}

// TestDrawsDoNotAllocate is not parallel: testing.AllocsPerRun refuses to run
// in a parallel test.
func TestDrawsDoNotAllocate(t *testing.T) {
	rs := NewRandomState(1)
	allocs := testing.AllocsPerRun(1000, func() {
		_ = rs.Uint32()
		_ = rs.Interval(1 << 40)
		_ = rs.RandInt(1000)
		_ = rs.Float64()
	})
	if allocs != 0 {
		t.Fatalf("draws allocate: %v allocations per run", allocs)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkUint32(b *testing.B) {
	rs := NewRandomState(42)
	var s uint32
	for b.Loop() {
		s += rs.Uint32()
	}
	_ = s
}

func BenchmarkPermutation1M(b *testing.B) {
	rs := NewRandomState(42)
	b.SetBytes(1_000_000 * 8)
	for b.Loop() {
		_ = rs.Permutation(1_000_000)
	}
}

// BenchmarkShuffle1M is Permutation1M without the 8 MB allocation.
func BenchmarkShuffle1M(b *testing.B) {
	rs := NewRandomState(42)
	a := make([]int, 1_000_000)
	b.SetBytes(int64(len(a)) * 8)
	for b.Loop() {
		for i := range a {
			a[i] = i
		}
		rs.Shuffle(a)
	}
}
