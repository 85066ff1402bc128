// Package synthetic provides deterministic synthetic data sets for
// benchmarks and tests: the same arguments always give byte-identical CSV.
package synthetic

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
)

// beta is the true coefficient of feature j (0-based) in RegressionCSV.
func beta(j int) float64 { return float64((7*(j+1))%11-5) / 2 }

// RegressionCSV writes a regression data set with the header x1,…,xN,y.
// Every feature is drawn from N(0,1) and written with 6–9 significant
// digits; the target is
//
//	y = 3 + Σ beta(j)·x_j + ε,  ε ~ N(0, 0.5²)
//
// computed from the drawn features before they are rounded for output (the
// difference is below 1e-6 relative, far under the noise).
func RegressionCSV(w io.Writer, rows, features int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	buf := make([]byte, 0, 64*(features+1))
	for j := 1; j <= features; j++ {
		buf = append(buf, 'x')
		buf = strconv.AppendInt(buf, int64(j), 10)
		buf = append(buf, ',')
	}
	buf = append(buf, "y\n"...)
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for range rows {
		buf = buf[:0]
		y := 3.0
		for j := range features {
			x := rng.NormFloat64()
			digits := 6 + rng.IntN(4)
			buf = strconv.AppendFloat(buf, x, 'g', digits, 64)
			buf = append(buf, ',')
			y += beta(j) * x
		}
		y += 0.5 * rng.NormFloat64()
		buf = strconv.AppendFloat(buf, y, 'g', 9, 64)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
