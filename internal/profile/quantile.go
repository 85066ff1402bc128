package profile

import (
	"math"
	"slices"
	"sort"
)

// NumericFeatureValues profiles non-missing numeric values in any order,
// plus a count of missing values. It reorders xs in place. Its edges and
// fractions are those of quantiles read off the sorted values (the
// mean and std may differ in the last bits: the sums run in another order),
// but it finds the quantiles by selection in O(n) instead of sorting.
func NumericFeatureValues(name string, xs []float64, missing, bins int) Feature {
	if bins < 2 {
		bins = DefaultBins
	}
	f := Feature{Name: name, Type: Numeric, Count: len(xs), Missing: missing}
	n := len(xs)
	if n == 0 {
		f.Fractions = []float64{0}
		return f
	}
	lo, hi := xs[0], xs[0]
	var sum float64
	for _, v := range xs {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
		sum += v
	}
	f.Min, f.Max = lo, hi
	f.Mean = sum / float64(n)
	var ss float64
	for _, v := range xs {
		d := v - f.Mean
		ss += d * d
	}
	f.Std = math.Sqrt(ss / float64(n))

	// The order statistics that the interpolated quantiles need.
	ranks := make([]int, 0, 2*bins)
	for k := 1; k < bins; k++ {
		pos := float64(k) / float64(bins) * float64(n-1)
		r := int(math.Floor(pos))
		ranks = append(ranks, r)
		if r+1 < n {
			ranks = append(ranks, r+1)
		}
	}
	var sel map[int]float64
	var idx *rankIndex
	if n >= 1<<14 {
		rs := slices.Clone(ranks)
		slices.Sort(rs)
		rs = slices.Compact(rs)
		sel = make(map[int]float64, len(rs))
		idx = radixSelect(xs, rs, sel)
	} else {
		sel = SelectRanks(xs, ranks)
	}
	// below[i] is the number of values ≤ Edges[i] when known without a pass
	// over the data: an edge strictly between two adjacent order statistics
	// x(r) < e < x(r+1) has r+1 values at or below it; an edge equal to an
	// order statistic is counted in its sorted bucket.
	var below []int
	known := idx != nil
	for k := 1; k < bins; k++ {
		q := float64(k) / float64(bins)
		pos := q * float64(n-1)
		r := int(math.Floor(pos))
		var v float64
		if r >= n-1 {
			v = sel[n-1]
		} else {
			v = lerp(sel[r], sel[r+1], pos-float64(r))
		}
		if len(f.Edges) == 0 || v > f.Edges[len(f.Edges)-1] {
			f.Edges = append(f.Edges, v)
			if known {
				c, ok := countAtOrBelow(idx, sel, r, n, v)
				below = append(below, c)
				known = ok
			}
		}
	}
	counts := make([]int64, len(f.Edges)+1)
	if known {
		prev := 0
		for i, c := range below {
			counts[i] = int64(c - prev)
			prev = c
		}
		counts[len(f.Edges)] = int64(n - prev)
	} else {
		edges := f.Edges
		for _, v := range xs {
			b := 0
			for _, e := range edges {
				if e < v {
					b++
				}
			}
			counts[b]++
		}
	}
	f.Fractions = fractions(counts, n)
	return f
}

// countAtOrBelow is the number of values ≤ e, where e is an edge
// interpolated between the order statistics x(r) and x(r+1).
func countAtOrBelow(idx *rankIndex, sel map[int]float64, r, n int, e float64) (int, bool) {
	lo := sel[r]
	if r+1 >= n {
		return idx.countLE(lo)
	}
	hi := sel[r+1]
	switch {
	case e > lo && e < hi:
		return r + 1, true
	case e == lo:
		return idx.countLE(lo)
	case e == hi:
		return idx.countLE(hi)
	}
	return 0, false
}

// lerp is numpy's linear interpolation between a and b at t, computed
// from the nearer end.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// SelectRanks returns the r-th smallest value of xs for every r in ranks,
// exactly, and may reorder xs: a radix select on large inputs, a
// multi-quickselect on small ones.
func SelectRanks(xs []float64, ranks []int) map[int]float64 {
	rs := make([]int, 0, len(ranks))
	for _, r := range ranks {
		if r >= 0 && r < len(xs) {
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	rs = slices.Compact(rs)
	out := make(map[int]float64, len(rs))
	if len(rs) == 0 {
		return out
	}
	if len(xs) >= 1<<14 {
		radixSelect(xs, rs, out)
		return out
	}
	state := uint64(len(xs))*0x9E3779B97F4A7C15 | 1
	multiSelect(xs, 0, len(xs), rs, &state)
	for _, r := range rs {
		out[r] = xs[r]
	}
	return out
}

// sortKey maps a float64 to a uint64 with the same order; -0 and +0 share
// a key, as they compare equal.
func sortKey(v float64) uint64 {
	if v == 0 {
		return 1 << 63
	}
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// radixSelect finds sorted ranks rs of xs by narrowing on the top bits of
// their order-preserving keys: a histogram of the top 11 bits, then of the
// next 11 bits inside the buckets that hold a wanted rank, then the values
// sharing those 22-bit prefixes are collected and sorted. Three passes over
// xs, whatever the number of ranks.
func radixSelect(xs []float64, rs []int, out map[int]float64) *rankIndex {
	const bits = 11
	const width = 1 << bits
	// Pass 1: top 11 bits.
	var h1 [width]int
	for _, v := range xs {
		h1[sortKey(v)>>(64-bits)]++
	}
	type target struct {
		b1, b2 int // bucket at each level
		rank   int // rank within the level-2 bucket
	}
	ts := make([]target, len(rs))
	for k, r := range rs {
		acc := 0
		for b, c := range h1 {
			if r < acc+c {
				ts[k] = target{b1: b, rank: r - acc}
				break
			}
			acc += c
		}
	}
	// Pass 2: next 11 bits inside the level-1 buckets that hold a rank.
	slot1 := make(map[int]int)
	for _, t := range ts {
		if _, ok := slot1[t.b1]; !ok {
			slot1[t.b1] = len(slot1)
		}
	}
	var lut1 [width]int16
	for i := range lut1 {
		lut1[i] = -1
	}
	for b, s := range slot1 {
		lut1[b] = int16(s)
	}
	h2 := make([][width]int, len(slot1))
	for _, v := range xs {
		key := sortKey(v)
		if s := lut1[key>>(64-bits)]; s >= 0 {
			h2[s][(key>>(64-2*bits))&(width-1)]++
		}
	}
	for k := range ts {
		h := &h2[slot1[ts[k].b1]]
		acc := 0
		for b, c := range h {
			if ts[k].rank < acc+c {
				ts[k].b2, ts[k].rank = b, ts[k].rank-acc
				break
			}
			acc += c
		}
	}
	// Pass 3: collect the values with the wanted 22-bit prefixes; lut2 maps
	// a level-2 bucket of a level-1 slot to its collection, or -1.
	lut2 := make([][width]int16, len(slot1))
	for s := range lut2 {
		for i := range lut2[s] {
			lut2[s][i] = -1
		}
	}
	n := 0
	for _, t := range ts {
		s := slot1[t.b1]
		if lut2[s][t.b2] < 0 {
			lut2[s][t.b2] = int16(n)
			n++
		}
	}
	vals := make([][]float64, n)
	for _, v := range xs {
		key := sortKey(v)
		s := lut1[key>>(64-bits)]
		if s < 0 {
			continue
		}
		if c := lut2[s][(key>>(64-2*bits))&(width-1)]; c >= 0 {
			vals[c] = append(vals[c], v)
		}
	}
	for _, vs := range vals {
		slices.Sort(vs)
	}
	idx := &rankIndex{buckets: make(map[uint64]rankBucket, n)}
	for k, r := range rs {
		t := ts[k]
		c := lut2[slot1[t.b1]][t.b2]
		out[r] = vals[c][t.rank]
		idx.buckets[uint64(t.b1)<<bits|uint64(t.b2)] = rankBucket{offset: r - t.rank, vals: vals[c]}
	}
	return idx
}

// rankIndex answers "how many values are ≤ v" for the values v that
// radixSelect collected: every value equal to a selected order statistic
// shares its 22-bit key prefix, so it is in the same sorted bucket.
type rankIndex struct {
	buckets map[uint64]rankBucket
}

type rankBucket struct {
	offset int // values in buckets with a smaller prefix
	vals   []float64
}

// countLE returns the number of values ≤ v, if v's bucket was collected.
func (ix *rankIndex) countLE(v float64) (int, bool) {
	b, ok := ix.buckets[sortKey(v)>>(64-22)]
	if !ok {
		return 0, false
	}
	return b.offset + sort.Search(len(b.vals), func(i int) bool { return b.vals[i] > v }), true
}

// multiSelect partitions xs[lo:hi] until every rank in ranks (sorted, all
// within [lo, hi)) holds its order statistic.
// The pivot is the median of three pseudo-randomly placed values (a fixed
// xorshift sequence, so results are deterministic) to avoid quadratic
// behaviour on patterned data.
func multiSelect(xs []float64, lo, hi int, ranks []int, state *uint64) {
	pick := func() float64 {
		*state ^= *state << 13
		*state ^= *state >> 7
		*state ^= *state << 17
		return xs[lo+int(*state%uint64(hi-lo))]
	}
	for len(ranks) > 0 && hi-lo > 16 {
		// A three-way partition handles ties.
		a, b, c := pick(), pick(), pick()
		p := max(min(a, b), min(max(a, b), c))
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch v := xs[i]; {
			case v < p:
				xs[lt], xs[i] = xs[i], xs[lt]
				lt++
				i++
			case v > p:
				gt--
				xs[gt], xs[i] = xs[i], xs[gt]
			default:
				i++
			}
		}
		// xs[lo:lt] < p, xs[lt:gt] == p, xs[gt:hi] > p.
		left := ranks[:sort.SearchInts(ranks, lt)]
		right := ranks[sort.SearchInts(ranks, gt):]
		if lt-lo < hi-gt {
			multiSelect(xs, lo, lt, left, state)
			lo, ranks = gt, right
		} else {
			multiSelect(xs, gt, hi, right, state)
			hi, ranks = lt, left
		}
	}
	if len(ranks) == 0 {
		return
	}
	// Insertion sort of the small remainder.
	for i := lo + 1; i < hi; i++ {
		v := xs[i]
		j := i
		for j > lo && xs[j-1] > v {
			xs[j] = xs[j-1]
			j--
		}
		xs[j] = v
	}
}
