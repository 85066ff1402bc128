package train

import (
	"errors"
	"fmt"

	"github.com/docker/go-units"

	"github.com/modelci/modelci/internal/config"
)

// DefaultMemoryBudget is the working memory a fit may allocate (beyond the
// loaded data) when Options.MemoryBudget is 0: 4 GiB, half of the smallest
// hosted CI runner.
const DefaultMemoryBudget int64 = 4 << 30

// ErrMemoryBudget marks a fit refused because its estimated working memory
// exceeds the budget.
var ErrMemoryBudget = errors.New("over the memory budget")

// lbfgsStore is how many correction pairs gonum's L-BFGS keeps (its
// default).
const lbfgsStore = 15

// wide reports whether a fit on n training rows and p encoded columns is
// solved in the n×n dual (by the SVD of the n×p design) instead of through
// the p×p Gram matrix or R factor: whenever there are more columns than
// rows, where the dual is both cheaper (O(n²p) against O(np²) time) and
// smaller (O(np) against O(p²) memory).
func wide(n, p int) bool { return p > n }

// fitBytes estimates the memory a fit allocates, in bytes, before any of it
// is allocated; outputs is the number of raw scores per row (the classes
// of a multiclass model, else 1). The estimates count every buffer of the
// solvers at its full size, so they err on the high side.
func fitBytes(m ModelSettings, n, p, outputs, workers int) float64 {
	fn, fp, w := float64(n), float64(p), float64(p+1)
	var floats float64
	switch {
	case m.Type == config.TypeGradientBoosting:
		// The encoded columns (float64) and their bins (one byte each),
		// gradients, hessians and raw scores per row and output, and the
		// histograms (small).
		return fn*fp*9 + fn*8*3*float64(max(outputs, 1))
	case m.Type == config.TypeLogistic:
		// The dense design and targets, and L-BFGS's correction pairs and
		// work vectors of p+1 values.
		floats = fn*fp + fn + (2*lbfgsStore+8)*w
	case wide(n, p):
		// The design with its targets, the SVD's copy of it, U (n×n), the
		// thin Vᵀ and its transposed copy (p×n each), plus work vectors.
		floats = fn*w + 3*fn*fp + 2*fn*fn + 8*(fn+fp)
	default:
		segs := 1.0
		if n >= segments*blockRows {
			segs = segments
		}
		active := min(float64(max(workers, 1)), segs)
		// One (p+1)² result per segment and their combination, and
		// per running segment a block of rows and its reducer.
		floats = (segs+1)*w*w + active*(blockRows*w+(w+blockRows)*w)
		switch m.Solver {
		case config.SolverQR:
			rows := fp
			if m.Alpha > 0 && m.Type == config.TypeRidge {
				rows = 2 * fp
			}
			// The stacked R, its SVD's copy, U and V.
			floats += 3*rows*fp + fp*fp
		default:
			// G, the symmetric copy, its eigenvectors and the solver's
			// copy of them.
			floats += 4 * fp * fp
		}
	}
	return 8 * floats
}

// checkBudget refuses a fit whose estimated working memory exceeds budget
// (0 means DefaultMemoryBudget, a negative budget means no limit).
func checkBudget(m ModelSettings, n, p, outputs, workers int, budget int64) error {
	if budget == 0 {
		budget = DefaultMemoryBudget
	}
	if budget < 0 {
		return nil
	}
	need := fitBytes(m, n, p, outputs, workers)
	if need <= float64(budget) {
		return nil
	}
	return fmt.Errorf("fit %s (%s solver) on %d training rows × %d columns: needs about %s of working memory, %w of %s; raise MODELCI_MEMORY_BUDGET (e.g. MODELCI_MEMORY_BUDGET=%s) if the machine has it, or select fewer columns with data.features", m.Type, m.Solver, n, p, units.BytesSize(need), ErrMemoryBudget, units.BytesSize(float64(budget)), units.BytesSize(need*1.25))
}
