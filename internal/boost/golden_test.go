package boost

import (
	"context"
	"math"
	"testing"

	"github.com/modelci/modelci/internal/model"
)

// TestGoldenQuality fits the training rows of each case of
// scripts/goldens/boost.py with scikit-learn's parameters and compares the
// test metrics with scikit-learn's: regression RMSE at most 1.03×,
// binary accuracy at least scikit-learn's − 0.01 and log loss at most
// 1.05×, multiclass accuracy at least scikit-learn's − 0.01.
func TestGoldenQuality(t *testing.T) {
	t.Parallel()
	for _, gc := range readGolden(t).Cases {
		t.Run(gc.Name, func(t *testing.T) {
			t.Parallel()
			cols, y := readCSV(t, gc.Name+"_train.csv")
			tcols, ty := readCSV(t, gc.Name+"_test.csv")
			if len(y) != gc.RowsTrain {
				t.Fatalf("%d training rows, golden %d", len(y), gc.RowsTrain)
			}
			loss := LogLoss
			if gc.Task == "regression" {
				loss = SquaredError
			}
			res, err := Fit(context.Background(), Data{Columns: cols, Y: y, Classes: gc.Classes}, DefaultParams(loss))
			if err != nil {
				t.Fatal(err)
			}
			k := res.Outputs
			raw := rawPredict(res.Ensemble, k, tcols)
			n := float64(len(ty))
			if gc.Task == "regression" {
				var se float64
				for i, v := range ty {
					se += (raw[i] - v) * (raw[i] - v)
				}
				rmse := math.Sqrt(se / n)
				ratio := rmse / gc.RMSE
				t.Logf("%s: RMSE %.6g, scikit-learn %.6g, ratio %.6f", gc.Name, rmse, gc.RMSE, ratio)
				if ratio > 1.03 {
					t.Errorf("RMSE ratio %.4f > 1.03", ratio)
				}
				return
			}
			var correct, ll float64
			probs := make([]float64, max(k, 2))
			for i, v := range ty {
				c := int(v)
				r := raw[i*k : (i+1)*k]
				if k == 1 {
					q := model.Sigmoid(r[0])
					probs[0], probs[1] = 1-q, q
				} else {
					model.Softmax(r, probs)
				}
				best := 0
				for j := range probs {
					if probs[j] > probs[best] {
						best = j
					}
				}
				if k == 1 {
					best = model.ClassIndex(r[0])
				}
				if best == c {
					correct++
				}
				// scikit-learn's log_loss clips at 1e-15.
				ll -= math.Log(min(max(probs[c], 1e-15), 1-1e-15))
			}
			acc, ll := correct/n, ll/n
			t.Logf("%s: accuracy %.4f (scikit-learn %.4f, diff %+.4f), log loss %.5g (scikit-learn %.5g, ratio %.6f)",
				gc.Name, acc, gc.Accuracy, acc-gc.Accuracy, ll, gc.LogLoss, ll/gc.LogLoss)
			if acc < gc.Accuracy-0.01 {
				t.Errorf("accuracy %.4f < scikit-learn's %.4f - 0.01", acc, gc.Accuracy)
			}
			if k == 1 && ll > 1.05*gc.LogLoss {
				t.Errorf("log loss ratio %.4f > 1.05", ll/gc.LogLoss)
			}
		})
	}
}
