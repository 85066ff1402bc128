package train

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/synthetic"
)

// benchCSV returns a generated rows×features regression CSV, cached in the
// system temporary directory between runs (generating 1M rows takes a few
// seconds).
func benchCSV(b *testing.B, rows, features int) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("modelci-bench-%dx%d.csv", rows, features))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	if err := synthetic.RegressionCSV(f, rows, features, 1); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkTrain1Mx20 is the whole `modelci train` job on a 1,000,000 × 20
// numeric CSV (about 200 MB): load, split, preprocessing, QR fit, test
// metrics, profile and the encoded model directory. bench/train.sh runs the
// same job next to pandas + scikit-learn.
func BenchmarkTrain1Mx20(b *testing.B) {
	for _, solver := range []string{"qr", "normal"} {
		b.Run(solver, func(b *testing.B) {
			path := benchCSV(b, 1_000_000, 20)
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			cfg, err := config.Parse([]byte(fmt.Sprintf("data:\n  path: %s\n  target: y\nmodel:\n  solver: %s\nmetrics: [mse]\n", path, solver)), "bench.yaml", filepath.Dir(path))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			for b.Loop() {
				res, err := Train(context.Background(), cfg, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if res.Metrics.Metrics["mse"] > 0.3 {
					b.Fatalf("mse %g: the fit is wrong (noise variance is 0.25)", res.Metrics.Metrics["mse"])
				}
			}
		})
	}
}
