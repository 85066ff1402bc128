package boost

import (
	"context"
	"testing"
)

// BenchmarkFit fits 100 iterations of 31 leaves to 100,000 rows of 20
// features (a tenth of the values missing).
func BenchmarkFit(b *testing.B) {
	for _, bc := range []struct {
		name    string
		loss    Loss
		classes int
	}{
		{"regression", SquaredError, 0},
		{"binary", LogLoss, 2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := synthetic(100000, 20, bc.classes, 5)
			p := DefaultParams(bc.loss)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Fit(context.Background(), d, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
