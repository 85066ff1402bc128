package boost

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// binStride is the histogram length of every feature: MaxBins (at most
// 255) bins of non-missing values and the missing-value bin MaxBins, so a
// uint8 bin always indexes it.
const binStride = 256

// binMapper is scikit-learn's _BinMapper for numeric features.
type binMapper struct {
	// thresholds[j] are feature j's bin thresholds, ascending: a value v
	// falls in bin b = the number of thresholds below v, so v <= t[b].
	thresholds [][]float64
	// nonMissing[j] is the number of bins of non-missing values
	// (len(thresholds[j]) + 1).
	nonMissing []int
	// missingBin is the bin of a missing value: MaxBins.
	missingBin uint8
}

// subsampleRows returns the rows whose values fit the bin thresholds:
// rows itself when there are at most subsampleBins, else subsampleBins of
// them drawn without replacement with a PCG generator seeded from seed,
// ascending.
func subsampleRows(rows []int, seed uint32) []int {
	if len(rows) <= subsampleBins {
		return rows
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	pick := slices.Clone(rows)
	for i := range subsampleBins {
		j := i + rng.IntN(len(pick)-i)
		pick[i], pick[j] = pick[j], pick[i]
	}
	pick = pick[:subsampleBins]
	slices.Sort(pick)
	return pick
}

// findThresholds is _find_binning_thresholds: the midpoints of the
// distinct non-missing values of col at rows when there are at most
// maxBins of them, else numpy's "midpoint" percentiles
// linspace(0, 100, maxBins+1)[1:-1] of those values; clipped to almostInf.
func findThresholds(col []float64, rows []int, maxBins int, buf []float64) []float64 {
	vals := buf[:0]
	for _, r := range rows {
		if v := col[r]; !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return nil
	}
	sort.Float64s(vals)
	distinct := 1
	for i := 1; i < len(vals); i++ {
		if vals[i] != vals[i-1] {
			distinct++
		}
	}
	var mid []float64
	if distinct <= maxBins {
		mid = make([]float64, 0, distinct-1)
		prev := vals[0]
		for _, v := range vals[1:] {
			if v != prev {
				mid = append(mid, (prev+v)*0.5)
				prev = v
			}
		}
	} else {
		mid = make([]float64, maxBins-1)
		n := float64(len(vals))
		step := 100 / float64(maxBins)
		for i := range mid {
			q := float64(i+1) * step / 100
			mid[i] = percentileMidpoint(vals, n, q)
		}
	}
	for i, t := range mid {
		mid[i] = math.Min(t, almostInf)
	}
	return mid
}

// percentileMidpoint is numpy's percentile(a, 100·q, method="midpoint") of
// sorted a (n = len(a)), with numpy's arithmetic.
func percentileMidpoint(a []float64, n, q float64) float64 {
	x := (n - 1) * q
	lo := math.Floor(x)
	vi := 0.5 * (lo + math.Ceil(x))
	i := int(math.Floor(vi))
	if vi == math.Floor(vi) {
		return a[i]
	}
	j := min(i+1, len(a)-1)
	lower, upper := a[i], a[j]
	diff := upper - lower
	return upper - diff*0.5
}

// binColumn writes the bins of col at rows into dst (len(rows)). Four
// values go through the branch-free lower bound together, so their
// searches' loads overlap.
func binColumn(col []float64, rows []int, thresholds []float64, missing uint8, dst []uint8) {
	dst = dst[:len(rows)]
	nt := len(thresholds)
	if nt == 0 {
		for i, r := range rows {
			dst[i] = 0
			if math.IsNaN(col[r]) {
				dst[i] = missing
			}
		}
		return
	}
	i := 0
	for ; i+4 <= len(rows); i += 4 {
		v0, v1, v2, v3 := col[rows[i]], col[rows[i+1]], col[rows[i+2]], col[rows[i+3]]
		l0, l1, l2, l3 := 0, 0, 0, 0
		// The number of thresholds below each value.
		for n := nt; n > 1; {
			half := n / 2
			if thresholds[l0+half] < v0 {
				l0 += half
			}
			if thresholds[l1+half] < v1 {
				l1 += half
			}
			if thresholds[l2+half] < v2 {
				l2 += half
			}
			if thresholds[l3+half] < v3 {
				l3 += half
			}
			n -= half
		}
		dst[i] = finishBin(thresholds, l0, v0, missing)
		dst[i+1] = finishBin(thresholds, l1, v1, missing)
		dst[i+2] = finishBin(thresholds, l2, v2, missing)
		dst[i+3] = finishBin(thresholds, l3, v3, missing)
	}
	for ; i < len(rows); i++ {
		v := col[rows[i]]
		lo := 0
		for n := nt; n > 1; {
			half := n / 2
			if thresholds[lo+half] < v {
				lo += half
			}
			n -= half
		}
		dst[i] = finishBin(thresholds, lo, v, missing)
	}
}

// finishBin ends the lower bound of v at lo, or returns missing for NaN.
func finishBin(thresholds []float64, lo int, v float64, missing uint8) uint8 {
	if thresholds[lo] < v {
		lo++
	}
	if math.IsNaN(v) {
		return missing
	}
	return uint8(lo)
}
