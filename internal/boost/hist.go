package boost

// histBin is histogram.pyx's hist_struct: the sums of the float32
// gradients and hessians of the rows in a bin, in float64, and their
// count. Squared error leaves h at 0 (its hessian is the constant 1, and
// the count stands for the hessian sum).
type histBin struct {
	g, h float64
	n    uint32
}

type hist256 = [binStride]histBin

// gradPair is a row's float32 gradient and hessian, side by side, so a
// row's pair is one load.
type gradPair struct{ g, h float32 }

// getHist returns a zeroed histogram of every feature (binStride bins
// each), from the pool when one is free.
func (f *fitter) getHist() []histBin {
	if k := len(f.pool); k > 0 {
		h := f.pool[k-1]
		f.pool = f.pool[:k-1]
		clear(h)
		return h
	}
	return make([]histBin, len(f.bins)*binStride)
}

func (f *fitter) putHist(h []histBin) {
	if h != nil {
		f.pool = append(f.pool, h)
	}
}

// subtractHist sets parent to parent − child, bin by bin: the histogram
// of child's sibling.
func subtractHist(parent, child []histBin) {
	child = child[:len(parent)]
	for i := range parent {
		p, c := &parent[i], &child[i]
		p.g -= c.g
		p.h -= c.h
		p.n -= c.n
	}
}

// histWork is the rows × features below which a histogram is built on one
// goroutine.
const histWork = 1 << 16

// rootSums is the sum of the gradients and of the hessians (the row
// count when the hessian is constant), in row order.
func (f *fitter) rootSums(g []float32, gh []gradPair) (sumG, sumH float64) {
	if f.constHess {
		for _, v := range g {
			sumG += float64(v)
		}
		return sumG, float64(len(g)) // hessians[0] * n_samples
	}
	for _, v := range gh {
		sumG += float64(v.g)
		sumH += float64(v.h)
	}
	return sumG, sumH
}

// buildHist fills n.hist from the node's rows. The root reads the
// gradients in row order; any other node first gathers its rows'
// gradients (scikit-learn's ordered_gradients). Workers take contiguous
// ranges of features, and each feature's bins sum its rows in partition
// order, so the sums do not depend on the number of workers. Four
// features go through one pass over the rows, so their updates are
// independent chains the CPU overlaps. For the root it returns
// rootSums(g, h), summed in the pass over the first four features.
func (f *fitter) buildHist(n *node, g []float32, gh []gradPair, root bool) (sumG, sumH float64) {
	rows := f.part[n.start:n.stop]
	hess := !f.constHess
	if !root {
		if hess {
			ogh := f.ogh[:len(rows)]
			f.parallel(len(rows), f.rowWorkers(len(rows)), func(_, lo, hi int) {
				for i, r := range rows[lo:hi] {
					ogh[lo+i] = gh[r]
				}
			})
			gh = ogh
		} else {
			og := f.og[:len(rows)]
			f.parallel(len(rows), f.rowWorkers(len(rows)), func(_, lo, hi int) {
				for i, r := range rows[lo:hi] {
					og[lo+i] = g[r]
				}
			})
			g = og
		}
	}
	p := len(f.bins)
	w := f.workers
	if len(rows)*p < histWork {
		w = 1
	}
	hist := n.hist
	at := func(j int) *hist256 { return (*hist256)(hist[j*binStride : (j+1)*binStride]) }
	summed := false
	f.parallel(p, w, func(_, lo, hi int) {
		j := lo
		if root && lo == 0 && hi >= 4 {
			h0, h1, h2, h3 := at(0), at(1), at(2), at(3)
			c0, c1, c2, c3 := f.bins[0], f.bins[1], f.bins[2], f.bins[3]
			if hess {
				sumG, sumH = rootHessSum4(h0, h1, h2, h3, c0, c1, c2, c3, gh)
			} else {
				sumG = rootSum4(h0, h1, h2, h3, c0, c1, c2, c3, g)
				sumH = float64(len(g)) // hessians[0] * n_samples
			}
			summed = true
			j = 4
		}
		for ; j+4 <= hi; j += 4 {
			h0, h1, h2, h3 := at(j), at(j+1), at(j+2), at(j+3)
			c0, c1, c2, c3 := f.bins[j], f.bins[j+1], f.bins[j+2], f.bins[j+3]
			switch {
			case root && hess:
				rootHess4(h0, h1, h2, h3, c0, c1, c2, c3, gh)
			case root:
				root4(h0, h1, h2, h3, c0, c1, c2, c3, g)
			case hess:
				nodeHess4(h0, h1, h2, h3, c0, c1, c2, c3, rows, gh)
			default:
				node4(h0, h1, h2, h3, c0, c1, c2, c3, rows, g)
			}
		}
		if j+2 <= hi {
			h0, h1, c0, c1 := at(j), at(j+1), f.bins[j], f.bins[j+1]
			switch {
			case root && hess:
				rootHess2(h0, h1, c0, c1, gh)
			case root:
				root2(h0, h1, c0, c1, g)
			case hess:
				nodeHess2(h0, h1, c0, c1, rows, gh)
			default:
				node2(h0, h1, c0, c1, rows, g)
			}
			j += 2
		}
		if j < hi {
			h0, c0 := at(j), f.bins[j]
			switch {
			case root && hess:
				rootHess1(h0, c0, gh)
			case root:
				root1(h0, c0, g)
			case hess:
				nodeHess1(h0, c0, rows, gh)
			default:
				node1(h0, c0, rows, g)
			}
		}
	})
	if root && !summed {
		sumG, sumH = f.rootSums(g, gh)
	}
	return sumG, sumH
}

// rootSum4 is root4 that also returns the sum of g, in row order.
func rootSum4(h0, h1, h2, h3 *hist256, c0, c1, c2, c3 []uint8, g []float32) float64 {
	n := len(g)
	c0, c1, c2, c3 = c0[:n], c1[:n], c2[:n], c3[:n]
	var s float64
	for i, v := range g {
		gi := float64(v)
		s += gi
		b0, b1, b2, b3 := &h0[c0[i]], &h1[c1[i]], &h2[c2[i]], &h3[c3[i]]
		b0.g += gi
		b0.n++
		b1.g += gi
		b1.n++
		b2.g += gi
		b2.n++
		b3.g += gi
		b3.n++
	}
	return s
}

// rootHessSum4 is rootHess4 that also returns the sums of g and h, in row
// order.
func rootHessSum4(h0, h1, h2, h3 *hist256, c0, c1, c2, c3 []uint8, gh []gradPair) (sg, sh float64) {
	n := len(gh)
	c0, c1, c2, c3 = c0[:n], c1[:n], c2[:n], c3[:n]
	for i, v := range gh {
		gi, hi := float64(v.g), float64(v.h)
		sg += gi
		sh += hi
		b0, b1, b2, b3 := &h0[c0[i]], &h1[c1[i]], &h2[c2[i]], &h3[c3[i]]
		b0.g += gi
		b0.h += hi
		b0.n++
		b1.g += gi
		b1.h += hi
		b1.n++
		b2.g += gi
		b2.h += hi
		b2.n++
		b3.g += gi
		b3.h += hi
		b3.n++
	}
	return sg, sh
}

func root4(h0, h1, h2, h3 *hist256, c0, c1, c2, c3 []uint8, g []float32) {
	n := len(g)
	c0, c1, c2, c3 = c0[:n], c1[:n], c2[:n], c3[:n]
	for i, v := range g {
		gi := float64(v)
		b0, b1, b2, b3 := &h0[c0[i]], &h1[c1[i]], &h2[c2[i]], &h3[c3[i]]
		b0.g += gi
		b0.n++
		b1.g += gi
		b1.n++
		b2.g += gi
		b2.n++
		b3.g += gi
		b3.n++
	}
}

func rootHess4(h0, h1, h2, h3 *hist256, c0, c1, c2, c3 []uint8, gh []gradPair) {
	n := len(gh)
	c0, c1, c2, c3 = c0[:n], c1[:n], c2[:n], c3[:n]
	for i, v := range gh {
		gi, hi := float64(v.g), float64(v.h)
		b0, b1, b2, b3 := &h0[c0[i]], &h1[c1[i]], &h2[c2[i]], &h3[c3[i]]
		b0.g += gi
		b0.h += hi
		b0.n++
		b1.g += gi
		b1.h += hi
		b1.n++
		b2.g += gi
		b2.h += hi
		b2.n++
		b3.g += gi
		b3.h += hi
		b3.n++
	}
}

func root1(h0 *hist256, c0 []uint8, g []float32) {
	c0 = c0[:len(g)]
	for i, v := range g {
		b := &h0[c0[i]]
		b.g += float64(v)
		b.n++
	}
}

func rootHess1(h0 *hist256, c0 []uint8, gh []gradPair) {
	c0 = c0[:len(gh)]
	for i, v := range gh {
		b := &h0[c0[i]]
		b.g += float64(v.g)
		b.h += float64(v.h)
		b.n++
	}
}

func node4(h0, h1, h2, h3 *hist256, c0, c1, c2, c3 []uint8, rows []uint32, g []float32) {
	g = g[:len(rows)]
	for i, r := range rows {
		gi := float64(g[i])
		b0, b1, b2, b3 := &h0[c0[r]], &h1[c1[r]], &h2[c2[r]], &h3[c3[r]]
		b0.g += gi
		b0.n++
		b1.g += gi
		b1.n++
		b2.g += gi
		b2.n++
		b3.g += gi
		b3.n++
	}
}

func nodeHess4(h0, h1, h2, h3 *hist256, c0, c1, c2, c3 []uint8, rows []uint32, gh []gradPair) {
	gh = gh[:len(rows)]
	for i, r := range rows {
		gi, hi := float64(gh[i].g), float64(gh[i].h)
		b0, b1, b2, b3 := &h0[c0[r]], &h1[c1[r]], &h2[c2[r]], &h3[c3[r]]
		b0.g += gi
		b0.h += hi
		b0.n++
		b1.g += gi
		b1.h += hi
		b1.n++
		b2.g += gi
		b2.h += hi
		b2.n++
		b3.g += gi
		b3.h += hi
		b3.n++
	}
}

func node1(h0 *hist256, c0 []uint8, rows []uint32, g []float32) {
	g = g[:len(rows)]
	for i, r := range rows {
		b := &h0[c0[r]]
		b.g += float64(g[i])
		b.n++
	}
}

func nodeHess1(h0 *hist256, c0 []uint8, rows []uint32, gh []gradPair) {
	gh = gh[:len(rows)]
	for i, r := range rows {
		b := &h0[c0[r]]
		b.g += float64(gh[i].g)
		b.h += float64(gh[i].h)
		b.n++
	}
}

func root2(h0, h1 *hist256, c0, c1 []uint8, g []float32) {
	n := len(g)
	c0, c1 = c0[:n], c1[:n]
	for i, v := range g {
		gi := float64(v)
		b0, b1 := &h0[c0[i]], &h1[c1[i]]
		b0.g += gi
		b0.n++
		b1.g += gi
		b1.n++
	}
}

func rootHess2(h0, h1 *hist256, c0, c1 []uint8, gh []gradPair) {
	n := len(gh)
	c0, c1 = c0[:n], c1[:n]
	for i, v := range gh {
		gi, hi := float64(v.g), float64(v.h)
		b0, b1 := &h0[c0[i]], &h1[c1[i]]
		b0.g += gi
		b0.h += hi
		b0.n++
		b1.g += gi
		b1.h += hi
		b1.n++
	}
}

func node2(h0, h1 *hist256, c0, c1 []uint8, rows []uint32, g []float32) {
	g = g[:len(rows)]
	for i, r := range rows {
		gi := float64(g[i])
		b0, b1 := &h0[c0[r]], &h1[c1[r]]
		b0.g += gi
		b0.n++
		b1.g += gi
		b1.n++
	}
}

func nodeHess2(h0, h1 *hist256, c0, c1 []uint8, rows []uint32, gh []gradPair) {
	gh = gh[:len(rows)]
	for i, r := range rows {
		gi, hi := float64(gh[i].g), float64(gh[i].h)
		b0, b1 := &h0[c0[r]], &h1[c1[r]]
		b0.g += gi
		b0.h += hi
		b0.n++
		b1.g += gi
		b1.h += hi
		b1.n++
	}
}
