package train

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/modelci/modelci/internal/config"
)

// BenchmarkFitWide fits data with far more columns than rows (p ≫ n), the
// shape where a p×p factorization costs O(p³) time and O(p²) memory while
// the n×n dual costs O(n²p). The frame is loaded once; only Fit is timed.
func BenchmarkFitWide(b *testing.B) {
	for _, shape := range []struct{ rows, cols int }{{50, 2_000}, {50, 10_000}} {
		for _, model := range []string{"linear", "ridge"} {
			b.Run(fmt.Sprintf("%dx%d/%s", shape.rows, shape.cols, model), func(b *testing.B) {
				path := benchCSV(b, shape.rows, shape.cols)
				cfg, err := config.Parse([]byte(fmt.Sprintf("data:\n  path: %s\n  target: y\nmodel:\n  type: %s\nmetrics: [mse]\n", path, model)), "bench.yaml", filepath.Dir(path))
				if err != nil {
					b.Fatal(err)
				}
				f, err := LoadData(context.Background(), cfg, 0)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Fit(context.Background(), cfg, f, Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
