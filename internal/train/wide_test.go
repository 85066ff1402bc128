package train

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/synthetic"
)

// randomEncoder is a blockEncoder over a fixed random centered n×p design.
func randomEncoder(n, p int, seed uint64) ([]int, blockEncoder) {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := make([]float64, n*(p+1))
	for i := range d {
		d[i] = rng.NormFloat64()
	}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	return rows, func(pos []int, dst []float64) error {
		for k, q := range pos {
			copy(dst[k*(p+1):(k+1)*(p+1)], d[q*(p+1):(q+1)*(p+1)])
		}
		return nil
	}
}

// TestWideMatchesPrimal: the dual SVD solver gives the same coefficients
// and loss as the R-factor (QR) and Gram (normal equations) solvers, on
// wide designs (minimum norm) and on tall ones, for least squares and ridge.
func TestWideMatchesPrimal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n, p  int
		alpha float64
	}{{12, 30, 0}, {12, 30, 0.7}, {40, 9, 0}, {40, 9, 2}} {
		t.Run(fmt.Sprintf("%dx%d/alpha=%g", tc.n, tc.p, tc.alpha), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rows, enc := randomEncoder(tc.n, tc.p, uint64(tc.n*tc.p))
			d, err := denseDesign(ctx, rows, tc.p, enc)
			if err != nil {
				t.Fatal(err)
			}
			m := ModelSettings{Solver: config.SolverQR}
			dual, err := solveWide(ctx, newWideProblem(d, tc.n, tc.p), tc.alpha, m)
			if err != nil {
				t.Fatal(err)
			}
			r, err := tsqr(ctx, rows, tc.p, enc, 1)
			if err != nil {
				t.Fatal(err)
			}
			qr, err := solveQR(r, tc.p, tc.alpha, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			g, b, yy, err := gram(ctx, rows, tc.p, enc, 1)
			if err != nil {
				t.Fatal(err)
			}
			normal, err := solveNormal(g, b, yy, tc.p, tc.alpha, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]*linearFit{"qr": qr, "normal": normal} {
				for j := range want.coef {
					if !relClose(dual.coef[j], want.coef[j], 1e-8) {
						t.Errorf("coef %d: dual %.15g, %s %.15g", j, dual.coef[j], name, want.coef[j])
					}
				}
				if !relClose(dual.loss, want.loss, 1e-8) {
					t.Errorf("loss: dual %.15g, %s %.15g", dual.loss, name, want.loss)
				}
			}
			lr, it, tol := 0.05, 2_000_000, 1e-12
			gd, err := solveWide(ctx, newWideProblem(d, tc.n, tc.p), tc.alpha, ModelSettings{Solver: config.SolverGD, LearningRate: lr, MaxIter: it, Tol: tol})
			if err != nil {
				t.Fatal(err)
			}
			if !gd.converged {
				t.Fatalf("wide gradient descent did not converge in %d iterations", gd.iterations)
			}
			for j := range qr.coef {
				if !relClose(gd.coef[j], qr.coef[j], 1e-6) {
					t.Errorf("coef %d: wide gd %.12g, qr %.12g", j, gd.coef[j], qr.coef[j])
				}
			}
		})
	}
}

// cancelAfter is a context whose Err starts returning Canceled at its
// n-th call: a deterministic stand-in for a signal arriving mid-fit.
type cancelAfter struct {
	context.Context
	n     int64
	calls atomic.Int64
	done  chan struct{}
	once  atomic.Bool
}

func newCancelAfter(n int64) *cancelAfter {
	return &cancelAfter{Context: context.Background(), n: n, done: make(chan struct{})}
}

func (c *cancelAfter) Err() error {
	if c.calls.Add(1) >= c.n {
		if c.once.CompareAndSwap(false, true) {
			close(c.done)
		}
		return context.Canceled
	}
	return nil
}

func (c *cancelAfter) Done() <-chan struct{} { return c.done }

// fitFrame writes a synthetic rows×features CSV and loads it with cfg's
// model section.
func fitFrame(t *testing.T, rows, features int, modelYAML string) (*config.Config, *dataset.Frame) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "data.csv")
	var b strings.Builder
	if err := synthetic.RegressionCSV(&b, rows, features, 3); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte("data:\n  path: data.csv\n  target: y\nmodel:\n"+modelYAML), "modelci.yaml", dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := LoadData(context.Background(), cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, f
}

// TestFitStopsWhenCanceled: a context canceled after Fit has started (at
// its second check) stops every solver at the next block or iteration
// boundary with context.Canceled, and no model is produced.
func TestFitStopsWhenCanceled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, model string }{
		{"qr", "  solver: qr\n"},
		{"normal", "  solver: normal\n"},
		{"gd", "  solver: gd\n  max_iter: 100000\n  tol: 1e-300\n"},
		{"ridge wide", "  type: ridge\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rows, features := 2000, 8
			if strings.Contains(tc.name, "wide") {
				rows, features = 40, 200
			}
			cfg, f := fitFrame(t, rows, features, tc.model)
			ctx := newCancelAfter(2)
			res, err := Fit(ctx, cfg, f, Options{Workers: 1})
			if !errors.Is(err, context.Canceled) || res != nil {
				t.Fatalf("Fit = %v, %v; want context.Canceled and no result", res != nil, err)
			}
			if n := ctx.calls.Load(); n > 8 {
				t.Errorf("ctx checked %d times after cancellation; want a stop at the next boundary", n)
			}
		})
	}
}

// TestLogisticStopsWhenCanceled: L-BFGS and gradient descent stop between
// evaluations once ctx is done.
func TestLogisticStopsWhenCanceled(t *testing.T) {
	t.Parallel()
	for _, solver := range []string{config.SolverLBFGS, config.SolverGD} {
		t.Run(solver, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(5, 5))
			n, p := 300, 4
			lp := &logisticProblem{x: make([]float64, n*p), y: make([]float64, n), n: n, p: p, alpha: 1, intercept: true}
			for i := range lp.x {
				lp.x[i] = rng.NormFloat64()
			}
			for i := range lp.y {
				lp.y[i] = float64(rng.IntN(2))
			}
			lr, it, tol := 0.1, 1_000_000, 1e-300
			ctx := newCancelAfter(3)
			_, err := fitLogistic(ctx, lp, ModelSettings{Solver: solver, LearningRate: lr, MaxIter: it, Tol: tol})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		})
	}
}

// TestFitCancelPrompt: a real cancellation during a long gradient descent
// returns within a generous bound instead of running to max_iter.
func TestFitCancelPrompt(t *testing.T) {
	t.Parallel()
	cfg, f := fitFrame(t, 200, 30, "  solver: gd\n  max_iter: 2000000000\n  tol: 1e-300\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Fit(ctx, cfg, f, Options{Workers: 1})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Fit kept running after its context was canceled")
	}
}

// TestMemoryBudget: a fit estimated to exceed the budget is refused before
// allocating, with an error that gives the problem's size; a wide problem
// that the p×p solvers could not afford fits in the dual within it.
func TestMemoryBudget(t *testing.T) {
	t.Parallel()
	cfg, f := fitFrame(t, 2000, 60, "  solver: normal\n")
	_, err := Fit(context.Background(), cfg, f, Options{Workers: 1, MemoryBudget: 64 << 10})
	if !errors.Is(err, ErrMemoryBudget) {
		t.Fatalf("err = %v, want ErrMemoryBudget", err)
	}
	for _, s := range []string{"1600 training rows × 60 columns", "KiB", "MODELCI_MEMORY_BUDGET"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if _, err := Fit(context.Background(), cfg, f, Options{Workers: 1, MemoryBudget: -1}); err != nil {
		t.Fatalf("no budget: %v", err)
	}
	m := ModelSettings{Type: config.TypeLinear, Solver: config.SolverQR}
	if got := fitBytes(m, 40, 100_000, 1, 2); got > 200<<20 {
		t.Errorf("40×100000 dual fit estimated at %.0f bytes; the dual needs O(np)", got)
	}
	if got := fitBytes(m, 200_000, 100_000, 1, 2); got < 8*1e10 {
		t.Errorf("200000×100000 primal fit estimated at %.0f bytes, below p² doubles", got)
	}
}

// TestAbandonOnCancel: a factorization that cannot check ctx does not hold
// up cancellation: abandonOnCancel returns ctx's error while the solve is
// still running, and the solve's own result otherwise.
func TestAbandonOnCancel(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	go func() { <-started; cancel() }()
	_, err := abandonOnCancel(ctx, func() (*linearFit, error) {
		close(started)
		<-release // a LAPACK call that never looks at ctx
		return &linearFit{}, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	want := &linearFit{iterations: 7}
	got, err := abandonOnCancel(context.Background(), func() (*linearFit, error) { return want, nil })
	if err != nil || got != want {
		t.Fatalf("got %v, %v", got, err)
	}
}
