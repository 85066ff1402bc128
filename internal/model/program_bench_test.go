package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchTrees is a 100-tree ensemble of balanced 31-leaf trees (depth 5
// with one extra split) over 20 columns, the serving target's shape.
func benchTrees() *Program {
	e, width := benchEnsemble()
	return &Program{k: 1, link: LinkIdentity, width: width, trees: compileTrees(e, 1, width)}
}

func benchEnsemble() (*TreeEnsemble, int) {
	r := rand.New(rand.NewPCG(1, 2))
	const width = 20
	e := &TreeEnsemble{Aggregation: AggregateSum, Comparison: CompareLessEqual, Precision: Float64, BaseScore: []float64{0}}
	for range 100 {
		var tr Tree
		// Breadth-first: nodes 0..29 split, 30..60 are leaves (31 leaves).
		const splits, nodes = 30, 61
		for i := range nodes {
			if i < splits {
				tr.Feature = append(tr.Feature, r.IntN(width))
				tr.Threshold = append(tr.Threshold, r.NormFloat64())
				tr.Left = append(tr.Left, 2*i+1)
				tr.Right = append(tr.Right, 2*i+2)
			} else {
				tr.Feature = append(tr.Feature, -1)
				tr.Threshold = append(tr.Threshold, 0)
				tr.Left = append(tr.Left, -1)
				tr.Right = append(tr.Right, -1)
			}
			tr.MissingLeft = append(tr.MissingLeft, r.IntN(2) == 0)
			tr.Value = append(tr.Value, r.NormFloat64())
		}
		e.Trees = append(e.Trees, tr)
	}
	if err := e.validate(width, 1); err != nil {
		panic(err)
	}
	return e, width
}

func BenchmarkTreeRaw(b *testing.B) {
	p := benchTrees()
	benchRaw(b, p.Width(), p.Raw)
}

func BenchmarkTreeRawLegacy(b *testing.B) {
	e, width := benchEnsemble()
	benchRaw(b, width, compileLegacy(e, 1).raw)
}

func benchRaw(b *testing.B, width int, raw func(x, out []float64)) {
	r := rand.New(rand.NewPCG(3, 4))
	rows := make([][]float64, 1024)
	for i := range rows {
		rows[i] = make([]float64, width)
		for j := range rows[i] {
			rows[i][j] = r.NormFloat64()
		}
	}
	var out [1]float64
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		raw(rows[i%len(rows)], out[:])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkTreeRawRows(b *testing.B) {
	p := benchTrees()
	benchRawRows(b, p.Width(), p.RawRows)
}

func BenchmarkTreeRawRowsLegacy(b *testing.B) {
	e, width := benchEnsemble()
	c := compileLegacy(e, 1)
	benchRawRows(b, width, func(x []float64, n int, out []float64) { c.rawRows(x, width, n, out) })
}

func benchRawRows(b *testing.B, width int, rawRows func(x []float64, n int, out []float64)) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 10000
	x := make([]float64, n*width)
	for j := range x {
		x[j] = r.NormFloat64()
	}
	out := make([]float64, n)
	b.ReportAllocs()
	for b.Loop() {
		rawRows(x, n, out)
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
}

// TestRawRowsMatchesRaw: the batch path scores every row exactly as Raw.
func TestRawRowsMatchesRaw(t *testing.T) {
	t.Parallel()
	p := benchTrees()
	r := rand.New(rand.NewPCG(5, 6))
	const n = 37 // not a multiple of the batch
	x := make([]float64, n*p.Width())
	for j := range x {
		x[j] = r.NormFloat64()
		if r.IntN(10) == 0 {
			x[j] = math.NaN()
		}
	}
	out := make([]float64, n)
	p.RawRows(x, n, out)
	for i := range n {
		var want [1]float64
		p.Raw(x[i*p.Width():(i+1)*p.Width()], want[:])
		if out[i] != want[0] {
			t.Fatalf("row %d: RawRows %v, Raw %v", i, out[i], want[0])
		}
	}
}

// legacy* is the tree walker before the canonical-node rewrite, kept to
// compare the two in one benchmark run.

// legacyTrees is a tree ensemble laid out for scoring: the nodes of all
// trees in one slice, each tree by the index of its root.
type legacyTrees struct {
	nodes   []legacyNode
	roots   []int32
	outputs []int32
	values  []float64
	cats    [][]int
	base    []float64
	// scale divides each output's sum (1 for sum aggregation).
	scale     []float64
	k         int
	lessEqual bool
	float32   bool
	// depth is the depth of each tree: the most splits from its root to a
	// leaf.
	depth []int
	// plain: no categorical splits, "<=" and float64 (legacyPlainLeaf).
	plain bool
}

// legacyNode is one node: a split, or a leaf, which is its own left and
// right child.
type legacyNode struct {
	threshold   float64
	feature     int32
	left, right int32
	// value is the index of the node's first value in legacyTrees.values.
	value int32
	// cat is 1 + the index of its categorical split, 0 for a numeric split.
	cat         int32
	missingLeft bool
}

func compileLegacy(t *TreeEnsemble, k int) *legacyTrees {
	c := &legacyTrees{
		base:      t.BaseScore,
		k:         k,
		lessEqual: t.Comparison == CompareLessEqual,
		float32:   t.Precision == Float32,
		scale:     make([]float64, k),
	}
	counts := make([]int, k)
	for _, tr := range t.Trees {
		base := int32(len(c.nodes))
		c.roots = append(c.roots, base)
		c.outputs = append(c.outputs, int32(tr.Output))
		stride := 1
		if tr.Output == -1 {
			stride = k
			for o := range counts {
				counts[o]++
			}
		} else {
			counts[tr.Output]++
		}
		c.depth = append(c.depth, treeDepth(&tr))
		catOf := make(map[int]int32, len(tr.Categorical))
		for _, cs := range tr.Categorical {
			c.cats = append(c.cats, cs.Right)
			catOf[cs.Node] = int32(len(c.cats))
		}
		// Lay the nodes out breadth first with each right child right
		// after its left child, so the walk picks a child by adding 0 or 1.
		order := legacyChildrenAdjacent(&tr)
		newIndex := make([]int32, len(order))
		for at, i := range order {
			newIndex[i] = int32(at)
		}
		for _, i := range order {
			n := legacyNode{
				feature:     int32(tr.Feature[i]),
				threshold:   tr.Threshold[i],
				missingLeft: tr.MissingLeft[i],
				value:       int32(len(c.values)),
				cat:         catOf[i],
			}
			if c.float32 {
				n.threshold = float64(float32(n.threshold))
			}
			if n.feature >= 0 {
				n.left, n.right = base+newIndex[tr.Left[i]], base+newIndex[tr.Right[i]]
			} else {
				// A leaf loops to itself: column 0 is never above +Inf,
				// and a NaN goes left, so a walk of fixed depth stays here.
				self := base + newIndex[i]
				n.feature, n.threshold, n.missingLeft, n.left, n.right = 0, math.Inf(1), true, self, self
			}
			c.nodes = append(c.nodes, n)
			c.values = append(c.values, tr.Value[i*stride:(i+1)*stride]...)
		}
	}
	c.plain = c.lessEqual && !c.float32 && len(c.cats) == 0
	for o := range c.scale {
		c.scale[o] = 1
		if t.Aggregation == AggregateAverage && counts[o] > 0 {
			c.scale[o] = float64(counts[o])
		}
	}
	return c
}

// legacyChildrenAdjacent returns the nodes of a validated tree in breadth-first
// order, each node's right child directly after its left child.
func legacyChildrenAdjacent(tr *Tree) []int {
	order := make([]int, 1, len(tr.Feature))
	for at := 0; at < len(order); at++ {
		if i := order[at]; tr.Feature[i] >= 0 {
			order = append(order, tr.Left[i], tr.Right[i])
		}
	}
	return order
}

// leaf returns the node index of the leaf that x reaches from root.
func (c *legacyTrees) leaf(root int32, x []float64) int32 {
	if c.plain {
		return c.legacyPlainLeaf(root, x)
	}
	i := root
	for {
		n := &c.nodes[i]
		if n.left == i {
			return i
		}
		v := x[n.feature]
		var left bool
		switch {
		case math.IsNaN(v):
			left = n.missingLeft
		case n.cat != 0:
			left = !hasCode(c.cats[n.cat-1], v)
		default:
			if c.float32 {
				v = float64(float32(v))
			}
			if c.lessEqual {
				left = v <= n.threshold
			} else {
				left = v < n.threshold
			}
		}
		if left {
			i = n.left
		} else {
			i = n.right
		}
	}
}

// legacyPlainLeaf is leaf for the common ensemble: numeric splits only, "<=",
// float64. A NaN fails the comparison, so only the right-hand branch checks
// for it.
func (c *legacyTrees) legacyPlainLeaf(root int32, x []float64) int32 {
	nodes := c.nodes
	i := root
	for {
		n := &nodes[i]
		if n.left == i {
			return i
		}
		i = n.left + legacyGoRight(n, x[n.feature])
	}
}

// legacyGoRight is 1 when value v goes right at numeric "<=" split n, else 0: a
// NaN goes right unless n sends missing values left. Written as selects, so
// the compiler emits no branch the data could mispredict.
func legacyGoRight(n *legacyNode, v float64) int32 {
	var above, notBelow int32
	if v > n.threshold {
		above = 1 // false for NaN
	}
	if !(v <= n.threshold) {
		notBelow = 1 // true for NaN
	}
	if n.missingLeft {
		return above
	}
	return notBelow
}

// legacyBatchRows is how many rows rawRows walks through a tree together: enough
// independent node loads to hide their latency.
const legacyBatchRows = 8

// rawRows is raw for n rows of width w at once (plain ensembles only).
func (c *legacyTrees) rawRows(x []float64, w, n int, out []float64) {
	k := c.k
	clear(out[:n*k])
	nodes := c.nodes
	var idx [legacyBatchRows]int32
	for r0 := 0; r0 < n; r0 += legacyBatchRows {
		m := min(legacyBatchRows, n-r0)
		rows := x[r0*w : (r0+m)*w]
		for t, root := range c.roots {
			for r := range m {
				idx[r] = root
			}
			for range c.depth[t] {
				for r := range m {
					nd := &nodes[idx[r]]
					idx[r] = nd.left + legacyGoRight(nd, rows[r*w+int(nd.feature)])
				}
			}
			o := c.outputs[t]
			for r := range m {
				vi := int(nodes[idx[r]].value)
				dst := out[(r0+r)*k : (r0+r+1)*k]
				if o >= 0 {
					dst[o] += c.values[vi]
				} else {
					for j := range k {
						dst[j] += c.values[vi+j]
					}
				}
			}
		}
		for r := range m {
			dst := out[(r0+r)*k : (r0+r+1)*k]
			for o := range k {
				dst[o] = c.base[o] + dst[o]/c.scale[o]
			}
		}
	}
}

func (c *legacyTrees) raw(x, out []float64) {
	clear(out[:c.k])
	for t, root := range c.roots {
		n := &c.nodes[c.leaf(root, x)]
		if o := c.outputs[t]; o >= 0 {
			out[o] += c.values[n.value]
		} else {
			for o := range c.k {
				out[o] += c.values[int(n.value)+o]
			}
		}
	}
	for o := range c.k {
		out[o] = c.base[o] + out[o]/c.scale[o]
	}
}
