package boost

import (
	"math"

	"github.com/modelci/modelci/internal/model"
)

// splitInfo is splitting.pyx's split_info_struct.
type splitInfo struct {
	gain         float64
	feature      int
	bin          int
	missingLeft  bool
	sumGL, sumHL float64
	sumGR, sumHR float64
	nL, nR       int
	valueL       float64
	valueR       float64
}

// node is grower.py's TreeNode: the rows part[start:stop] of the
// partition.
type node struct {
	start, stop int
	sumG, sumH  float64
	value       float64
	depth       int
	hist        []histBin
	split       splitInfo
	hasSplit    bool
	leaf        bool
	left, right *node
}

func (n *node) rows() int { return n.stop - n.start }

// grower grows one tree of output k.
type grower struct {
	f         *fitter
	k         int
	g         []float32  // squared_error's gradients
	gh        []gradPair // log_loss's gradients and hessians
	heap      []*node
	leaves    []*node
	maxLeaves int
}

// grow fits one tree to output k's gradients, adds its leaf values to
// acc[k] and returns the tree and its binned form.
func (f *fitter) grow(k int) (*model.Tree, *binTree, error) {
	gr := &grower{f: f, k: k, g: f.g[k], gh: f.gh[k], maxLeaves: f.p.MaxLeafNodes}
	n := len(f.part)
	part := f.part
	f.parallel(n, f.rowWorkers(n), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			part[i] = uint32(i)
		}
	})
	root := &node{start: 0, stop: n}
	if n < 2*f.p.MinSamplesLeaf {
		root.sumG, root.sumH = f.rootSums(gr.g, gr.gh)
		gr.finalize(root)
	} else {
		// buildHist sums the root's gradients and hessians while it reads
		// them, in row order.
		root.hist = f.getHist()
		root.sumG, root.sumH = f.buildHist(root, gr.g, gr.gh, true)
		if root.sumH < minHessianToSplit {
			gr.finalize(root)
		} else {
			gr.splitAndPush(root)
		}
	}
	for len(gr.heap) > 0 {
		if err := f.ctx.Err(); err != nil {
			return nil, nil, err
		}
		gr.splitNext()
	}
	lr := f.p.LearningRate
	acc := f.acc[k]
	for _, l := range gr.leaves {
		l.value *= lr
	}
	// Every row is in one leaf, so the row segments add independently.
	leaves := gr.leaves
	f.parallel(n, f.rowWorkers(n), func(_, lo, hi int) {
		for _, l := range leaves {
			a, b := max(l.start, lo), min(l.stop, hi)
			for _, r := range part[a:max(a, b)] {
				acc[r] += l.value
			}
		}
	})
	t, bt := f.emit(root)
	return t, bt, nil
}

func (gr *grower) finalize(n *node) {
	n.leaf = true
	gr.leaves = append(gr.leaves, n)
	if n.hist != nil {
		gr.f.putHist(n.hist)
		n.hist = nil
	}
}

// splitAndPush is _compute_best_split_and_push.
func (gr *grower) splitAndPush(n *node) {
	n.split = gr.f.findSplit(n)
	n.hasSplit = true
	if n.split.gain <= 0 {
		gr.finalize(n)
		return
	}
	gr.push(n)
}

// splitNext is grower.py's split_next.
func (gr *grower) splitNext() {
	f := gr.f
	nd := gr.pop()
	s := &nd.split
	rightPos := f.partition(nd, s)
	depth := nd.depth + 1
	nLeaves := len(gr.leaves) + len(gr.heap) + 2
	left := &node{start: nd.start, stop: nd.start + rightPos, sumG: s.sumGL, sumH: s.sumHL, value: s.valueL, depth: depth}
	right := &node{start: nd.start + rightPos, stop: nd.stop, sumG: s.sumGR, sumH: s.sumHR, value: s.valueR, depth: depth}
	nd.left, nd.right = left, right
	if !f.hasMissing[s.feature] {
		s.missingLeft = left.rows() > right.rows()
	}
	if nLeaves == gr.maxLeaves {
		gr.finalize(left)
		gr.finalize(right)
		for len(gr.heap) > 0 {
			last := gr.heap[len(gr.heap)-1]
			gr.heap = gr.heap[:len(gr.heap)-1]
			gr.finalize(last)
		}
		f.putHist(nd.hist)
		nd.hist = nil
		return
	}
	if f.p.MaxDepth > 0 && depth == f.p.MaxDepth {
		gr.finalize(left)
		gr.finalize(right)
		f.putHist(nd.hist)
		nd.hist = nil
		return
	}
	msl := f.p.MinSamplesLeaf
	if left.rows() < 2*msl {
		gr.finalize(left)
	}
	if right.rows() < 2*msl {
		gr.finalize(right)
	}
	if !left.leaf || !right.leaf {
		small, large := right, left
		if left.rows() < right.rows() {
			small, large = left, right
		}
		small.hist = f.getHist()
		f.buildHist(small, gr.g, gr.gh, false)
		// The larger child's histogram is the parent's minus the
		// smaller's, computed in the parent's buffer.
		large.hist = nd.hist
		nd.hist = nil
		subtractHist(large.hist, small.hist)
		if !left.leaf {
			gr.splitAndPush(left)
		}
		if !right.leaf {
			gr.splitAndPush(right)
		}
		for _, c := range []*node{left, right} {
			if c.leaf && c.hist != nil {
				f.putHist(c.hist)
				c.hist = nil
			}
		}
	}
	if nd.hist != nil {
		f.putHist(nd.hist)
		nd.hist = nil
	}
}

// The heap of splittable nodes is Python's heapq with TreeNode.__lt__
// (the larger gain first), so nodes of equal gain split in scikit-learn's
// order.
func heapLess(a, b *node) bool { return a.split.gain > b.split.gain }

func (gr *grower) push(n *node) {
	gr.heap = append(gr.heap, n)
	gr.siftDown(0, len(gr.heap)-1)
}

func (gr *grower) pop() *node {
	h := gr.heap
	last := h[len(h)-1]
	h = h[:len(h)-1]
	gr.heap = h
	if len(h) == 0 {
		return last
	}
	top := h[0]
	h[0] = last
	gr.siftUp(0)
	return top
}

func (gr *grower) siftDown(start, pos int) {
	h := gr.heap
	item := h[pos]
	for pos > start {
		parent := (pos - 1) >> 1
		if heapLess(item, h[parent]) {
			h[pos] = h[parent]
			pos = parent
			continue
		}
		break
	}
	h[pos] = item
}

func (gr *grower) siftUp(pos int) {
	h := gr.heap
	end, start := len(h), pos
	item := h[pos]
	child := 2*pos + 1
	for child < end {
		if r := child + 1; r < end && !heapLess(h[child], h[r]) {
			child = r
		}
		h[pos] = h[child]
		pos = child
		child = 2*pos + 1
	}
	h[pos] = item
	gr.siftDown(start, pos)
}

// computeValue is compute_node_value without bounds.
func computeValue(sumG, sumH, l2 float64) float64 {
	return -sumG / (sumH + l2 + nodeValueEps)
}

// findSplit is Splitter.find_node_split for numeric features: the best
// split of every feature (left to right, then right to left when the
// feature has missing values), the first feature with the largest gain.
func (f *fitter) findSplit(n *node) splitInfo {
	best := splitInfo{gain: -1}
	for j := range f.bins {
		s := splitInfo{gain: -1, feature: j}
		f.scanLeftToRight(n, j, &s)
		if f.hasMissing[j] {
			f.scanRightToLeft(n, j, &s)
		}
		if j == 0 || s.gain > best.gain {
			best = s
		}
	}
	return best
}

func (f *fitter) finishSplit(n *node, s *splitInfo, gain float64, bin int, missingLeft bool, gL, hL float64, nL int) {
	l2 := f.p.L2Regularization
	s.gain, s.bin, s.missingLeft = gain, bin, missingLeft
	s.sumGL, s.sumGR = gL, n.sumG-gL
	s.sumHL, s.sumHR = hL, n.sumH-hL
	s.nL, s.nR = nL, n.rows()-nL
	s.valueL = computeValue(s.sumGL, s.sumHL, l2)
	s.valueR = computeValue(s.sumGR, s.sumHR, l2)
}

// splitGain is _split_gain: the loss of the node minus its children's,
// each loss being sum_gradient · value.
func splitGain(gL, hL, gR, hR, lossNode, l2 float64) float64 {
	vL := computeValue(gL, hL, l2)
	vR := computeValue(gR, hR, l2)
	gain := lossNode
	gain -= gL * vL
	gain -= gR * vR
	return gain
}

func (f *fitter) scanLeftToRight(n *node, j int, s *splitInfo) {
	hist := n.hist[j*binStride : (j+1)*binStride]
	end := f.bm.nonMissing[j] - 1
	if f.hasMissing[j] {
		end++
	}
	rows, msl, l2 := n.rows(), f.p.MinSamplesLeaf, f.p.L2Regularization
	lossNode := n.value * n.sumG
	var gL, hL float64
	nL := 0
	bestGain, bestBin, bestGL, bestHL, bestNL, found := -1.0, 0, 0.0, 0.0, 0, false
	for b := range end {
		hb := &hist[b]
		nL += int(hb.n)
		nR := rows - nL
		if f.constHess {
			hL += float64(hb.n)
		} else {
			hL += hb.h
		}
		hR := n.sumH - hL
		gL += hb.g
		gR := n.sumG - gL
		if nL < msl {
			continue
		}
		if nR < msl {
			break
		}
		if hL < minHessianToSplit {
			continue
		}
		if hR < minHessianToSplit {
			break
		}
		gain := splitGain(gL, hL, gR, hR, lossNode, l2)
		if gain > bestGain && gain > minGainToSplit {
			found = true
			bestGain, bestBin, bestGL, bestHL, bestNL = gain, b, gL, hL, nL
		}
	}
	if found {
		f.finishSplit(n, s, bestGain, bestBin, false, bestGL, bestHL, bestNL)
	}
}

func (f *fitter) scanRightToLeft(n *node, j int, s *splitInfo) {
	hist := n.hist[j*binStride : (j+1)*binStride]
	start := f.bm.nonMissing[j] - 2
	rows, msl, l2 := n.rows(), f.p.MinSamplesLeaf, f.p.L2Regularization
	lossNode := n.value * n.sumG
	var gR, hR float64
	nR := 0
	bestGain, bestBin, bestGL, bestHL, bestNL, found := s.gain, 0, 0.0, 0.0, 0, false
	for b := start; b >= 0; b-- {
		hb := &hist[b+1]
		nR += int(hb.n)
		nL := rows - nR
		if f.constHess {
			hR += float64(hb.n)
		} else {
			hR += hb.h
		}
		hL := n.sumH - hR
		gR += hb.g
		gL := n.sumG - gR
		if nR < msl {
			continue
		}
		if nL < msl {
			break
		}
		if hR < minHessianToSplit {
			continue
		}
		if hL < minHessianToSplit {
			break
		}
		gain := splitGain(gL, hL, gR, hR, lossNode, l2)
		if gain > bestGain && gain > minGainToSplit {
			found = true
			bestGain, bestBin, bestGL, bestHL, bestNL = gain, b, gL, hL, nL
		}
	}
	if found {
		f.finishSplit(n, s, bestGain, bestBin, true, bestGL, bestHL, bestNL)
	}
}

// goesLeft is sample_goes_left for a numeric split.
func goesLeft(b uint8, bin int, missingLeft bool, missingBin uint8) bool {
	if b == missingBin {
		return missingLeft
	}
	return int(b) <= bin
}

// partition splits the node's rows stably into the left rows then the
// right rows and returns the number of left rows. Large nodes split in
// fixed row segments, one per worker, joined in segment order.
func (f *fitter) partition(n *node, s *splitInfo) int {
	rows := f.part[n.start:n.stop]
	buf := f.buf[n.start:n.stop]
	col := f.bins[s.feature]
	// left[b] is 1 when bin b goes left: a table, so the loop below has no
	// branch the data could mispredict.
	var left [binStride]int
	for b := range left {
		if goesLeft(uint8(b), s.bin, s.missingLeft, f.bm.missingBin) {
			left[b] = 1
		}
	}
	w := f.rowWorkers(len(rows))
	nl := make([]int, w)
	nr := make([]int, w)
	f.parallel(len(rows), w, func(seg, lo, hi int) {
		in, out := rows[lo:hi], buf[lo:hi]
		l, r := 0, 0
		for _, row := range in {
			// in[l] with l <= the current index was read already.
			isLeft := left[col[row]]
			in[l] = row
			out[r] = row
			l += isLeft
			r += 1 - isLeft
		}
		nl[seg], nr[seg] = l, r
	})
	nLeft := 0
	for i := range w {
		lo := i * len(rows) / w
		copy(rows[nLeft:], rows[lo:lo+nl[i]])
		nLeft += nl[i]
	}
	at := nLeft
	for i := range w {
		lo := i * len(rows) / w
		copy(rows[at:], buf[lo:lo+nr[i]])
		at += nr[i]
	}
	return nLeft
}

// binTree is a tree over bins, to score the binned validation rows.
type binTree struct {
	feature     []int
	bin         []int
	missingLeft []bool
	left, right []int
	value       []float64
	missingBin  uint8
}

func (t *binTree) predictBinned(bins [][]uint8, acc []float64) {
	for i := range acc {
		j := 0
		for t.feature[j] >= 0 {
			if goesLeft(bins[t.feature[j]][i], t.bin[j], t.missingLeft[j], t.missingBin) {
				j = t.left[j]
			} else {
				j = t.right[j]
			}
		}
		acc[i] += t.value[j]
	}
}

// emit lays the tree out depth first (node, left subtree, right subtree),
// as scikit-learn's _fill_predictor_arrays does.
func (f *fitter) emit(root *node) (*model.Tree, *binTree) {
	t := &model.Tree{}
	bt := &binTree{missingBin: f.bm.missingBin}
	var walk func(n *node) int
	walk = func(n *node) int {
		i := len(t.Feature)
		t.Feature = append(t.Feature, -1)
		t.Threshold = append(t.Threshold, 0)
		t.Left = append(t.Left, -1)
		t.Right = append(t.Right, -1)
		t.MissingLeft = append(t.MissingLeft, false)
		t.Value = append(t.Value, 0)
		t.Gain = append(t.Gain, 0)
		t.Cover = append(t.Cover, float64(n.rows()))
		bt.feature = append(bt.feature, -1)
		bt.bin = append(bt.bin, 0)
		bt.missingLeft = append(bt.missingLeft, false)
		bt.left = append(bt.left, -1)
		bt.right = append(bt.right, -1)
		bt.value = append(bt.value, 0)
		if n.leaf || n.left == nil {
			t.Value[i] = n.value
			bt.value[i] = n.value
			return i
		}
		s := n.split
		thr := math.MaxFloat64
		if s.bin < f.bm.nonMissing[s.feature]-1 {
			thr = f.bm.thresholds[s.feature][s.bin]
		}
		t.Feature[i], t.Threshold[i], t.MissingLeft[i], t.Gain[i] = s.feature, thr, s.missingLeft, s.gain
		bt.feature[i], bt.bin[i], bt.missingLeft[i] = s.feature, s.bin, s.missingLeft
		l := walk(n.left)
		r := walk(n.right)
		t.Left[i], t.Right[i] = l, r
		bt.left[i], bt.right[i] = l, r
		return i
	}
	walk(root)
	return t, bt
}
