package diff

import (
	"context"
	"math"
	"testing"

	"github.com/modelci/modelci/internal/metrics"
	"github.com/modelci/modelci/internal/split"
)

// benchData makes n rows of targets and two models' scores.
func benchData(task metrics.Task, n int) ([]float64, Scores, Scores) {
	rs := split.NewRandomState(1)
	y := make([]float64, n)
	var s [2]Scores
	for m := range s {
		s[m].Pred = make([]float64, n)
		if task == metrics.TaskClassification {
			s[m].Proba = make([]float64, n)
		}
	}
	for i := range y {
		u := rs.Float64()
		if task == metrics.TaskRegression {
			y[i] = 100 * u
			for m := range s {
				s[m].Pred[i] = y[i] + 10*(rs.Float64()-0.5)*float64(m+1)
			}
			continue
		}
		if u < 0.4 {
			y[i] = 1
		}
		for m := range s {
			z := (2*y[i] - 1) + 3*(rs.Float64()-0.5)*float64(m+1)
			p := 1 / (1 + math.Exp(-z))
			s[m].Proba[i] = p
			if p > 0.5 {
				s[m].Pred[i] = 1
			}
		}
	}
	return y, s[0], s[1]
}

// BenchmarkPairedBootstrap: 1,000 resamples × 6 metrics × 10,000 rows, the
// default configuration on a typical test split.
func BenchmarkPairedBootstrap(b *testing.B) {
	for _, task := range []metrics.Task{metrics.TaskRegression, metrics.TaskClassification} {
		for _, workers := range []int{1, 2} {
			y, a, c := benchData(task, 10000)
			names := metrics.Defaults(task)
			b.Run(string(task)+"/workers="+string(rune('0'+workers)), func(b *testing.B) {
				for b.Loop() {
					if _, err := PairedBootstrap(context.Background(), task, y, a, c, names, BootstrapOptions{Resamples: 1000, Confidence: 0.95, Seed: 42, Workers: workers}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
