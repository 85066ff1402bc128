package metrics

// numpy reduces a float64 array with add.reduce like this (numpy 1.24,
// loops_utils.h.src pairwise_sum and the ufunc reduction iterator):
//
//   - the array is processed in chunks of npBufSize elements (the ufunc
//     buffer size), and the chunk sums are accumulated left to right;
//   - within a chunk, blocks of fewer than 8 elements are summed left to
//     right, blocks of 8..128 with eight interleaved accumulators combined as
//     ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) plus a left-to-right tail, and
//     larger blocks are split in two at n/2 rounded down to a multiple of 8.
//
// Reproducing the exact order makes sums bit-identical to numpy's, which
// matters when a result depends on exact zeros (r2 with constant targets).
// float64Eps is np.finfo(np.float64).eps, 2^-52.
const float64Eps = 0x1p-52

const (
	npBufSize = 8192
	pwBlock   = 128
	// maxSeries is how many sums npSums computes in one pass.
	maxSeries = 4
)

// leafSum is numpy's pairwise_sum for n <= pwBlock.
func leafSum(a []float64) float64 {
	n := len(a)
	if n < 8 {
		res := 0.0
		for _, v := range a {
			res += v
		}
		return res
	}
	r0, r1, r2, r3, r4, r5, r6, r7 := a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
	i := 8
	for ; i+8 <= n; i += 8 {
		b := a[i : i+8 : i+8]
		r0 += b[0]
		r1 += b[1]
		r2 += b[2]
		r3 += b[3]
		r4 += b[4]
		r5 += b[5]
		r6 += b[6]
		r7 += b[7]
	}
	res := ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
	for ; i < n; i++ {
		res += a[i]
	}
	return res
}

// termBuf holds up to maxSeries blocks of terms.
type termBuf [maxSeries][pwBlock]float64

// fillFunc writes the terms for elements [lo, lo+m) of each series into
// buf[s][:m]; m <= pwBlock.
type fillFunc func(lo, m int, buf *termBuf)

// npSums returns numpy's add.reduce of k <= maxSeries series of n terms each,
// the terms produced block by block by fill, so the series are never
// materialized.
func npSums(n, k int, fill fillFunc) [maxSeries]float64 {
	var out [maxSeries]float64
	var buf termBuf
	for lo := 0; lo < n; lo += npBufSize {
		part := pairwise(lo, min(npBufSize, n-lo), k, fill, &buf)
		for s := 0; s < k; s++ {
			out[s] += part[s]
		}
	}
	return out
}

func pairwise(lo, n, k int, fill fillFunc, buf *termBuf) [maxSeries]float64 {
	var out [maxSeries]float64
	if n <= pwBlock {
		fill(lo, n, buf)
		for s := 0; s < k; s++ {
			out[s] = leafSum(buf[s][:n])
		}
		return out
	}
	n2 := n / 2
	n2 -= n2 % 8
	a := pairwise(lo, n2, k, fill, buf)
	b := pairwise(lo+n2, n-n2, k, fill, buf)
	for s := 0; s < k; s++ {
		out[s] = a[s] + b[s]
	}
	return out
}
