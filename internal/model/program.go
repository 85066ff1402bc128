package model

import (
	"fmt"
	"math"
	"sort"
	"sync"
)

// A schema version 2 model.json describes a scoring program with K
// outputs: the preprocessing of Features (impute, scale, one-hot), then one
// predictor block (Block: a linear block or a tree ensemble) that maps the
// encoded columns to K raw scores, then a link that maps the raw scores to
// the prediction (identity), a probability (sigmoid, K = 1) or class
// probabilities (softmax, K = the number of classes). A regression with
// K = 1 may also predict exp(raw) (exp: a log link, as XGBoost's
// count:poisson, reg:gamma and reg:tweedie) or sigmoid(raw) (XGBoost's
// reg:logistic, a regression on [0, 1]); Prediction applies those links,
// and Probabilities is not meant for them. A schema version 1
// model is the linear block with K = 1 written as Intercept and
// Coefficients; NewProgram reads both.

// Links.
const (
	LinkIdentity = "identity"
	LinkSigmoid  = "sigmoid"
	LinkSoftmax  = "softmax"
	// LinkExp predicts exp(raw) (regression only, K = 1).
	LinkExp = "exp"
)

// Tree ensemble settings.
const (
	AggregateSum     = "sum"
	AggregateAverage = "average"
	// CompareLess sends a value left iff value < threshold (XGBoost);
	// CompareLessEqual iff value <= threshold (scikit-learn, LightGBM).
	CompareLess      = "<"
	CompareLessEqual = "<="
	// Float64 compares values as float64; Float32 first rounds the value
	// and the threshold to float32, as XGBoost and ONNX runtimes do.
	Float64 = "float64"
	Float32 = "float32"
)

// Limits on a tree ensemble read from model.json, so a crafted file cannot
// make scoring slow or deep.
const (
	// MaxTreeDepth bounds the depth of a tree (the root is depth 0).
	MaxTreeDepth = 512
	// MaxOutputs bounds K.
	MaxOutputs = 1000
	// MaxCategory bounds a category code in a categorical split.
	MaxCategory = 1 << 20
)

// Block is the predictor block of a schema version 2 model: exactly one of
// Linear and Trees is set.
type Block struct {
	Linear *LinearBlock  `json:"linear,omitempty"`
	Trees  *TreeEnsemble `json:"trees,omitempty"`
}

// LinearBlock is K linear scores of the encoded columns: raw[k] =
// Intercepts[k] + Σ_j Coefficients[k][j]·x[j].
type LinearBlock struct {
	Intercepts   []float64   `json:"intercepts"`
	Coefficients [][]float64 `json:"coefficients"`
}

// TreeEnsemble is a sum (or average) of regression trees over the encoded
// columns, plus a base score per output: raw[k] = BaseScore[k] + the
// aggregate of the leaf values that the trees of output k reach. The layout
// is the one that scikit-learn's, XGBoost's, LightGBM's and ONNX's tree
// ensembles compile into.
type TreeEnsemble struct {
	// Aggregation is sum or average (random forests); the average divides
	// each output's total by the number of trees that add to it.
	Aggregation string `json:"aggregation"`
	// Comparison is "<" or "<=": a value goes left iff value Comparison
	// threshold.
	Comparison string `json:"comparison"`
	// Precision is float64 or float32.
	Precision string    `json:"precision"`
	BaseScore []float64 `json:"base_score"`
	Trees     []Tree    `json:"trees"`
}

// Tree is one tree as parallel arrays over its nodes. Node 0 is the root;
// every child's index is greater than its parent's, and every node but the
// root is the child of exactly one node.
type Tree struct {
	// Output is the output the tree adds to, or -1 when every leaf holds
	// one value per output (Value then has K entries per node).
	Output int `json:"output"`
	// Feature is the encoded column a node splits on, -1 for a leaf.
	Feature []int `json:"feature"`
	// Threshold is the split value of a numeric split (ignored for leaves
	// and categorical splits).
	Threshold []float64 `json:"threshold"`
	// Left and Right are the children, -1 for a leaf.
	Left  []int `json:"left"`
	Right []int `json:"right"`
	// MissingLeft sends a missing (NaN) value left; otherwise right.
	MissingLeft []bool `json:"missing_left"`
	// Value is the leaf value of each node (0 for internal nodes), or K
	// values per node when Output is -1.
	Value []float64 `json:"value"`
	// Gain is the split gain of each internal node (0 for leaves), for
	// feature importance; optional.
	Gain []float64 `json:"gain,omitempty"`
	// Cover is the number of training rows (or the hessian) that reached
	// each node; optional.
	Cover []float64 `json:"cover,omitempty"`
	// Categorical lists the categorical splits: the node's column holds a
	// category code, and the codes in Right go right; every other code goes
	// left (XGBoost's rule). A missing value follows MissingLeft.
	Categorical []CategorySplit `json:"categorical,omitempty"`
}

// CategorySplit is the categorical split of one node.
type CategorySplit struct {
	Node int `json:"node"`
	// Right holds the category codes that go right, sorted and distinct.
	Right []int `json:"right"`
}

// validate checks the block against the model's encoded width and K.
func (b *Block) validate(width, k int) error {
	switch {
	case b.Linear != nil && b.Trees != nil:
		return fmt.Errorf("%w: the predictor has both a linear block and trees", ErrCorrupt)
	case b.Linear != nil:
		return b.Linear.validate(width, k)
	case b.Trees != nil:
		return b.Trees.validate(width, k)
	}
	return fmt.Errorf("%w: the predictor has neither a linear block nor trees", ErrCorrupt)
}

func (l *LinearBlock) validate(width, k int) error {
	if len(l.Intercepts) != k || len(l.Coefficients) != k {
		return fmt.Errorf("%w: linear block has %d intercepts and %d coefficient rows for %d outputs", ErrCorrupt, len(l.Intercepts), len(l.Coefficients), k)
	}
	for o := range k {
		if !finite(l.Intercepts[o]) {
			return fmt.Errorf("%w: intercept of output %d is not finite", ErrCorrupt, o)
		}
		if len(l.Coefficients[o]) != width {
			return fmt.Errorf("%w: output %d has %d coefficients for %d encoded columns", ErrCorrupt, o, len(l.Coefficients[o]), width)
		}
		for j, c := range l.Coefficients[o] {
			if !finite(c) {
				return fmt.Errorf("%w: coefficient %d of output %d is not finite", ErrCorrupt, j, o)
			}
		}
	}
	return nil
}

func (t *TreeEnsemble) validate(width, k int) error {
	if t.Aggregation != AggregateSum && t.Aggregation != AggregateAverage {
		return fmt.Errorf("%w: tree aggregation %q (want %s or %s)", ErrCorrupt, t.Aggregation, AggregateSum, AggregateAverage)
	}
	if t.Comparison != CompareLess && t.Comparison != CompareLessEqual {
		return fmt.Errorf("%w: tree comparison %q (want %q or %q)", ErrCorrupt, t.Comparison, CompareLess, CompareLessEqual)
	}
	if t.Precision != Float64 && t.Precision != Float32 {
		return fmt.Errorf("%w: tree precision %q (want %s or %s)", ErrCorrupt, t.Precision, Float64, Float32)
	}
	if len(t.BaseScore) != k {
		return fmt.Errorf("%w: %d base scores for %d outputs", ErrCorrupt, len(t.BaseScore), k)
	}
	for o, v := range t.BaseScore {
		if !finite(v) {
			return fmt.Errorf("%w: base score of output %d is not finite", ErrCorrupt, o)
		}
	}
	if len(t.Trees) == 0 {
		return fmt.Errorf("%w: the tree ensemble has no trees", ErrCorrupt)
	}
	for i := range t.Trees {
		if err := t.Trees[i].validate(width, k); err != nil {
			return fmt.Errorf("tree %d: %w", i, err)
		}
	}
	return nil
}

func (t *Tree) validate(width, k int) error {
	n := len(t.Feature)
	if n == 0 {
		return fmt.Errorf("%w: no nodes", ErrCorrupt)
	}
	if t.Output < -1 || t.Output >= k {
		return fmt.Errorf("%w: output %d of %d", ErrCorrupt, t.Output, k)
	}
	stride := 1
	if t.Output == -1 {
		stride = k
	}
	if len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n || len(t.MissingLeft) != n || len(t.Value) != n*stride {
		return fmt.Errorf("%w: %d nodes but %d thresholds, %d left, %d right, %d missing_left and %d values (want %d)", ErrCorrupt, n, len(t.Threshold), len(t.Left), len(t.Right), len(t.MissingLeft), len(t.Value), n*stride)
	}
	if (t.Gain != nil && len(t.Gain) != n) || (t.Cover != nil && len(t.Cover) != n) {
		return fmt.Errorf("%w: %d nodes but %d gains and %d covers", ErrCorrupt, n, len(t.Gain), len(t.Cover))
	}
	parents := make([]int32, n)
	depth := make([]int32, n)
	for i := range n {
		if i > 0 && parents[i] != 1 {
			return fmt.Errorf("%w: node %d is the child of %d nodes, want 1", ErrCorrupt, i, parents[i])
		}
		for _, v := range t.Value[i*stride : (i+1)*stride] {
			if !finite(v) {
				return fmt.Errorf("%w: node %d has a value that is not finite", ErrCorrupt, i)
			}
		}
		if (t.Gain != nil && !finite(t.Gain[i])) || (t.Cover != nil && !finite(t.Cover[i])) {
			return fmt.Errorf("%w: node %d has a gain or cover that is not finite", ErrCorrupt, i)
		}
		f, l, r := t.Feature[i], t.Left[i], t.Right[i]
		if f == -1 {
			if l != -1 || r != -1 {
				return fmt.Errorf("%w: leaf %d has children", ErrCorrupt, i)
			}
			continue
		}
		if f < 0 || f >= width {
			return fmt.Errorf("%w: node %d splits on column %d of %d", ErrCorrupt, i, f, width)
		}
		if math.IsNaN(t.Threshold[i]) {
			return fmt.Errorf("%w: node %d has a NaN threshold", ErrCorrupt, i)
		}
		if l <= i || l >= n || r <= i || r >= n || l == r {
			return fmt.Errorf("%w: node %d has children %d and %d; children must follow their parent within the %d nodes", ErrCorrupt, i, l, r, n)
		}
		parents[l]++
		parents[r]++
		if depth[i]+1 > MaxTreeDepth {
			return fmt.Errorf("%w: the tree is deeper than %d levels", ErrCorrupt, MaxTreeDepth)
		}
		depth[l], depth[r] = depth[i]+1, depth[i]+1
	}
	seen := make(map[int]bool, len(t.Categorical))
	for _, c := range t.Categorical {
		if c.Node < 0 || c.Node >= n || t.Feature[c.Node] < 0 {
			return fmt.Errorf("%w: categorical split on node %d, which is not a split node", ErrCorrupt, c.Node)
		}
		if seen[c.Node] {
			return fmt.Errorf("%w: node %d has two categorical splits", ErrCorrupt, c.Node)
		}
		seen[c.Node] = true
		for j, code := range c.Right {
			if code < 0 || code > MaxCategory || (j > 0 && code <= c.Right[j-1]) {
				return fmt.Errorf("%w: categorical split of node %d: codes must be sorted, distinct and in [0, %d]", ErrCorrupt, c.Node, MaxCategory)
			}
		}
	}
	return nil
}

// Program scores encoded rows: the compiled predictor block and link of a
// model. It is safe for concurrent use and does not allocate while scoring
// (a tree ensemble whose extended rows outgrow the stack reuses pooled
// buffers).
type Program struct {
	k       int
	classes int
	link    string
	width   int
	linear  *LinearBlock
	trees   *compiledTrees
	enc     *Encoder
}

// Encoder returns the model's encoder, which turns raw feature values into
// the encoded row that Raw scores.
func (p *Program) Encoder() *Encoder { return p.enc }

// NewProgram validates m and compiles its scoring program. A schema
// version 1 model compiles to its linear block with one output.
func NewProgram(m *Model) (*Program, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	enc, err := NewEncoder(m.Features)
	if err != nil {
		return nil, err
	}
	p := &Program{classes: len(m.Classes), width: enc.Width(), enc: enc}
	if m.Predictor == nil {
		p.k = 1
		p.link = LinkIdentity
		if m.IsClassifier() {
			p.link = LinkSigmoid
		}
		p.linear = &LinearBlock{Intercepts: []float64{m.Intercept}, Coefficients: [][]float64{m.Coefficients}}
		return p, nil
	}
	p.k, p.link = m.Outputs, m.Link
	if m.Predictor.Linear != nil {
		p.linear = m.Predictor.Linear
		return p, nil
	}
	p.trees = compileTrees(m.Predictor.Trees, p.k, p.width)
	return p, nil
}

// Outputs is K, the number of raw scores per row.
func (p *Program) Outputs() int { return p.k }

// Link is the program's link.
func (p *Program) Link() string { return p.link }

// Width is the number of encoded columns a row must have.
func (p *Program) Width() int { return p.width }

// Raw writes the K raw scores of encoded row x (length Width) into out
// (length Outputs): before the link.
func (p *Program) Raw(x, out []float64) {
	if p.linear != nil {
		for o := range p.k {
			out[o] = LinearScore(p.linear.Intercepts[o], p.linear.Coefficients[o], x)
		}
		return
	}
	p.trees.raw(x, out)
}

// RawRows writes the raw scores of n encoded rows into out: x holds the
// rows one after another (n × Width), out receives n × Outputs scores. It
// scores a batch faster than Raw row by row, because it walks each tree
// for 8 rows at once (64 rows in turn, while the tree is in cache).
func (p *Program) RawRows(x []float64, n int, out []float64) {
	w, k := p.width, p.k
	if p.linear == nil && p.trees.canon && n >= minBatchRows {
		p.trees.rawRows(x, w, n, out)
		return
	}
	for r := range n {
		p.Raw(x[r*w:(r+1)*w], out[r*k:(r+1)*k])
	}
}

// Prediction returns the prediction of a regression model with one output
// from its raw scores: raw[0] through the link (identity, exp or sigmoid).
func (p *Program) Prediction(raw []float64) float64 {
	switch p.link {
	case LinkExp:
		return math.Exp(raw[0])
	case LinkSigmoid:
		return Sigmoid(raw[0])
	}
	return raw[0]
}

// Probabilities writes the class probabilities of raw scores raw into dst,
// in the order of the model's Classes: [1-p, p] for a sigmoid link, the
// softmax for a softmax link. dst has one entry per class.
func (p *Program) Probabilities(raw, dst []float64) {
	switch p.link {
	case LinkSigmoid:
		q := Sigmoid(raw[0])
		dst[0], dst[1] = 1-q, q
	case LinkSoftmax:
		Softmax(raw, dst)
	}
}

// Class returns the index of the predicted class of raw scores raw, as
// scikit-learn's predict decides it: a positive score for a sigmoid link,
// else the first largest raw score.
func (p *Program) Class(raw []float64) int {
	if p.link == LinkSigmoid {
		return ClassIndex(raw[0])
	}
	best := 0
	for o := 1; o < len(raw); o++ {
		if raw[o] > raw[best] {
			best = o
		}
	}
	return best
}

// Confidence is the largest of a row's class probabilities: the predicted
// class's probability, which a multiclass model's prediction drift follows
// (a binary model's follows P(Classes[1])).
func Confidence(probs []float64) float64 {
	best := 0.0
	for _, p := range probs {
		best = max(best, p)
	}
	return best
}

// minBatchRows is the fewest rows RawRows walks together: the batch walk
// takes every tree to its full depth for 8 rows at a time, which pays off
// once a few rows share each walk; a single row walks 8 trees at a time
// and stops once they are at leaves.
const minBatchRows = 6

// Softmax writes the softmax of z into dst, computed without overflow.
func Softmax(z, dst []float64) {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	var s float64
	for i, v := range z {
		e := math.Exp(v - m)
		dst[i] = e
		s += e
	}
	for i := range dst[:len(z)] {
		dst[i] /= s
	}
}

// compiledTrees is a tree ensemble laid out for scoring: the nodes of all
// trees in one slice, each tree by the index of its root.
//
// Without categorical splits (canon) every split is one comparison:
// a row goes to a node's second child (first+1) iff !(x'[col] <= threshold),
// where x' is the encoded row extended to 2w+1 columns: x, then -x, then 0
// (rounded to float32 first for float32 ensembles). A NaN fails every
// comparison, so it goes second; a split that sends missing values left
// keeps its right child first, compares -x, and turns "<" and "<=" into
// the same "<=" with an adjusted threshold (see canonSplit), so the walk
// has no branch and no per-node flag. A leaf compares the 0 column with
// +Inf and is its own first child, so a walk of fixed depth stays there.
// With categorical splits, the walk (leaf) follows the model's own rule
// node by node.
type compiledTrees struct {
	nodes []treeNode
	// value is the index of each node's first value in values (i itself
	// when K = 1).
	value   []int32
	roots   []uint32
	outputs []int32
	values  []float64
	base    []float64
	// scale divides each output's sum (1 for sum aggregation).
	scale []float64
	k     int
	// width is w, the encoded width; x' has 2w+1 columns.
	width   int
	float32 bool
	// depth is the depth of each tree: the most splits from its root to a
	// leaf.
	depth []int32
	// groups are the trees by lanes, for a single row (canon only): the
	// last group is padded with a leaf of value 0, which adds nothing.
	groups []treeGroup
	// canon: no categorical splits; nodes are in the canonical form.
	canon bool
	// cold holds what leaf needs besides nodes when !canon.
	cold      []coldNode
	cats      [][]int
	lessEqual bool
	// scratch holds x' buffers too large for the stack.
	scratch sync.Pool
}

// treeNode is one node, in the canonical form when compiledTrees.canon;
// otherwise threshold and col are the split's own (col noCol for a leaf)
// and first is its left child, the right one right after it.
type treeNode struct {
	threshold float64
	// col is the column of x' times lanes (its offset in extend's layout),
	// or, with categorical splits, the encoded column.
	col   uint32
	first uint32
}

// treeGroup is up to lanes consecutive trees that walk8 walks together.
type treeGroup struct {
	roots [lanes]uint32
	depth int32
	trees int32
}

// coldNode is the rest of a node for the walk with categorical splits.
type coldNode struct {
	// cat is 1 + the index of its categorical split, 0 for a numeric split.
	cat         int32
	missingLeft bool
}

func compileTrees(t *TreeEnsemble, k, width int) *compiledTrees {
	c := &compiledTrees{
		base:      t.BaseScore,
		k:         k,
		width:     width,
		lessEqual: t.Comparison == CompareLessEqual,
		float32:   t.Precision == Float32,
		scale:     make([]float64, k),
		canon:     true,
	}
	for i := range t.Trees {
		if len(t.Trees[i].Categorical) > 0 {
			c.canon = false
		}
	}
	counts := make([]int, k)
	for _, tr := range t.Trees {
		base := uint32(len(c.nodes))
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
		c.depth = append(c.depth, int32(treeDepth(&tr)))
		catOf := make(map[int]int32, len(tr.Categorical))
		for _, cs := range tr.Categorical {
			c.cats = append(c.cats, cs.Right)
			catOf[cs.Node] = int32(len(c.cats))
		}
		// Lay the nodes out breadth first with each node's second child
		// right after its first, so the walk picks a child by adding 0 or 1.
		order := childrenAdjacent(&tr, c.canon)
		newIndex := make([]uint32, len(order))
		for at, i := range order {
			newIndex[i] = uint32(at)
		}
		for _, i := range order {
			f, thr, ml := tr.Feature[i], tr.Threshold[i], tr.MissingLeft[i]
			if c.float32 {
				thr = float64(float32(thr))
			}
			var n treeNode
			switch {
			case f < 0 && c.canon:
				n = treeNode{threshold: math.Inf(1), col: uint32(2 * width * lanes), first: base + newIndex[i]}
			case f < 0:
				n = treeNode{col: noCol, first: base + newIndex[i]}
			case c.canon:
				first := tr.Left[i]
				if ml {
					first = tr.Right[i]
				}
				n = treeNode{first: base + newIndex[first]}
				n.col, n.threshold = canonSplit(f, width, thr, ml, c.lessEqual)
			default:
				n = treeNode{col: uint32(f), threshold: thr, first: base + newIndex[tr.Left[i]]}
				c.cold = append(c.cold, coldNode{cat: catOf[i], missingLeft: ml})
			}
			if f < 0 && !c.canon {
				c.cold = append(c.cold, coldNode{})
			}
			c.nodes = append(c.nodes, n)
			c.value = append(c.value, int32(len(c.values)))
			c.values = append(c.values, tr.Value[i*stride:(i+1)*stride]...)
		}
	}
	if c.canon {
		// The zero leaf that pads the last group.
		zero := uint32(len(c.nodes))
		c.nodes = append(c.nodes, treeNode{threshold: math.Inf(1), col: uint32(2 * width * lanes), first: zero})
		c.value = append(c.value, int32(len(c.values)))
		c.values = append(c.values, make([]float64, k)...)
		for t0 := 0; t0 < len(c.roots); t0 += lanes {
			g := treeGroup{trees: int32(min(lanes, len(c.roots)-t0))}
			for r := range lanes {
				g.roots[r] = zero
				if t := t0 + r; t < len(c.roots) {
					g.roots[r] = c.roots[t]
					g.depth = max(g.depth, c.depth[t])
				}
			}
			c.groups = append(c.groups, g)
		}
	}
	for o := range c.scale {
		c.scale[o] = 1
		if t.Aggregation == AggregateAverage && counts[o] > 0 {
			c.scale[o] = float64(counts[o])
		}
	}
	return c
}

// canonSplit returns the column of x' and the threshold of the canonical
// form of a numeric split on column f with threshold thr (already rounded
// for float32): for every value v, !(x'[col] <= threshold) iff v goes to
// the first child of the layout (left, or right when missing values go
// left) ... that is, iff v goes second.
func canonSplit(f, width int, thr float64, missingLeft, lessEqual bool) (uint32, float64) {
	if !missingLeft {
		// Second is right, col is v: left iff v <= thr, or v < thr.
		if lessEqual {
			return uint32(f * lanes), thr
		}
		return uint32(f * lanes), below(thr)
	}
	// Second is left, col is -v: right iff v > thr (-v < -thr), or
	// v >= thr (-v <= -thr).
	if lessEqual {
		return uint32((width + f) * lanes), below(-thr)
	}
	return uint32((width + f) * lanes), -thr
}

// below returns t such that u <= t iff u < a for every u that is not NaN:
// the float64 before a, or NaN (which no u is <=) when a is -Inf.
func below(a float64) float64 {
	if math.IsInf(a, -1) {
		return math.NaN()
	}
	return math.Nextafter(a, math.Inf(-1))
}

// childrenAdjacent returns the nodes of a validated tree in breadth-first
// order, each node's second child directly after its first: the right
// child first when canon and missing values go left.
func childrenAdjacent(tr *Tree, canon bool) []int {
	order := make([]int, 1, len(tr.Feature))
	for at := 0; at < len(order); at++ {
		if i := order[at]; tr.Feature[i] >= 0 {
			if canon && tr.MissingLeft[i] {
				order = append(order, tr.Right[i], tr.Left[i])
			} else {
				order = append(order, tr.Left[i], tr.Right[i])
			}
		}
	}
	return order
}

// treeDepth returns the most splits from the root of a validated tree to a
// leaf (children follow their parents, so one forward pass finds it).
func treeDepth(tr *Tree) int {
	d := make([]int, len(tr.Feature))
	most := 0
	for i, f := range tr.Feature {
		if f < 0 {
			most = max(most, d[i])
			continue
		}
		d[tr.Left[i]], d[tr.Right[i]] = d[i]+1, d[i]+1
	}
	return most
}

// leaf returns the node index of the leaf that x reaches from root when
// the ensemble has categorical splits.
func (c *compiledTrees) leaf(root uint32, x []float64) uint32 {
	i := root
	for {
		n := &c.nodes[i]
		if n.col == noCol {
			return i
		}
		cn := &c.cold[i]
		v := x[n.col]
		var left bool
		switch {
		case math.IsNaN(v):
			left = cn.missingLeft
		case cn.cat != 0:
			left = !hasCode(c.cats[cn.cat-1], v)
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
		i = n.first
		if !left {
			i++
		}
	}
}

// lanes is how many walks walk8 advances together: rows of a batch
// through one tree, or trees of one row.
const lanes = 8

// noCol is the col of a leaf with categorical splits.
const noCol = math.MaxUint32

// stackScratch is the most x' values a walk keeps on the stack.
const stackScratch = 1024

// extend writes the x' of m rows of width w (x, m×w) into xs, column by
// column with lanes values per column: row r's column j at xs[j*lanes+r].
// Rows m..lanes-1 (padding) get zeros.
func (c *compiledTrees) extend(xs, x []float64, w, m int) {
	xs = xs[:(2*w+1)*lanes]
	for r := range m {
		row := x[r*w : (r+1)*w]
		for j, v := range row {
			if c.float32 {
				v = float64(float32(v))
			}
			xs[j*lanes+r] = v
			xs[(w+j)*lanes+r] = -v
		}
	}
	for r := m; r < lanes; r++ {
		for j := range 2 * w {
			xs[j*lanes+r] = 0
		}
	}
	clear(xs[2*w*lanes:])
}

// walk8 walks lane r from root[r] for at most depth levels over the x' in
// xs (as extend lays it out) and returns the nodes reached; it stops early
// once a level moves no lane (all are at leaves).
func walk8(nodes []treeNode, xs []float64, root [lanes]uint32, depth int32) [lanes]uint32 {
	i0, i1, i2, i3 := int(root[0]), int(root[1]), int(root[2]), int(root[3])
	i4, i5, i6, i7 := int(root[4]), int(root[5]), int(root[6]), int(root[7])
	for range depth {
		n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
		j0 := int(n0.first) + second(xs[int(n0.col)+0], n0.threshold)
		j1 := int(n1.first) + second(xs[int(n1.col)+1], n1.threshold)
		j2 := int(n2.first) + second(xs[int(n2.col)+2], n2.threshold)
		j3 := int(n3.first) + second(xs[int(n3.col)+3], n3.threshold)
		moved := (j0 ^ i0) | (j1 ^ i1) | (j2 ^ i2) | (j3 ^ i3)
		i0, i1, i2, i3 = j0, j1, j2, j3
		n4, n5, n6, n7 := &nodes[i4], &nodes[i5], &nodes[i6], &nodes[i7]
		j4 := int(n4.first) + second(xs[int(n4.col)+4], n4.threshold)
		j5 := int(n5.first) + second(xs[int(n5.col)+5], n5.threshold)
		j6 := int(n6.first) + second(xs[int(n6.col)+6], n6.threshold)
		j7 := int(n7.first) + second(xs[int(n7.col)+7], n7.threshold)
		moved |= (j4 ^ i4) | (j5 ^ i5) | (j6 ^ i6) | (j7 ^ i7)
		i4, i5, i6, i7 = j4, j5, j6, j7
		if moved == 0 {
			break
		}
	}
	return [lanes]uint32{uint32(i0), uint32(i1), uint32(i2), uint32(i3), uint32(i4), uint32(i5), uint32(i6), uint32(i7)}
}

// walkTreesAdd is walk8 for the trees of group g and one value per node:
// it returns sum plus the values of the nodes reached, in lane order. It
// repeats walk8's loop instead of calling it: returning the eight nodes
// and adding their values afterwards measured 17% slower on a single row
// (BenchmarkTreeRaw, 855 against 1004 ns).
func walkTreesAdd(nodes []treeNode, xs, values []float64, g *treeGroup, sum float64) float64 {
	i0, i1, i2, i3 := int(g.roots[0]), int(g.roots[1]), int(g.roots[2]), int(g.roots[3])
	i4, i5, i6, i7 := int(g.roots[4]), int(g.roots[5]), int(g.roots[6]), int(g.roots[7])
	for range g.depth {
		n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
		j0 := int(n0.first) + second(xs[int(n0.col)+0], n0.threshold)
		j1 := int(n1.first) + second(xs[int(n1.col)+1], n1.threshold)
		j2 := int(n2.first) + second(xs[int(n2.col)+2], n2.threshold)
		j3 := int(n3.first) + second(xs[int(n3.col)+3], n3.threshold)
		moved := (j0 ^ i0) | (j1 ^ i1) | (j2 ^ i2) | (j3 ^ i3)
		i0, i1, i2, i3 = j0, j1, j2, j3
		n4, n5, n6, n7 := &nodes[i4], &nodes[i5], &nodes[i6], &nodes[i7]
		j4 := int(n4.first) + second(xs[int(n4.col)+4], n4.threshold)
		j5 := int(n5.first) + second(xs[int(n5.col)+5], n5.threshold)
		j6 := int(n6.first) + second(xs[int(n6.col)+6], n6.threshold)
		j7 := int(n7.first) + second(xs[int(n7.col)+7], n7.threshold)
		moved |= (j4 ^ i4) | (j5 ^ i5) | (j6 ^ i6) | (j7 ^ i7)
		i4, i5, i6, i7 = j4, j5, j6, j7
		if moved == 0 {
			break
		}
	}
	sum += values[i0]
	sum += values[i1]
	sum += values[i2]
	sum += values[i3]
	sum += values[i4]
	sum += values[i5]
	sum += values[i6]
	sum += values[i7]
	return sum
}

// walkRows walks lanes rows from root for depth levels over the x' in xs
// (as extend lays it out) and returns the nodes reached. It does not stop
// early: in a batch some row usually still walks, and the check costs more
// than the levels it saves.
func walkRows(nodes []treeNode, xs []float64, root uint32, depth int32) [lanes]uint32 {
	r := int(root)
	i0, i1, i2, i3, i4, i5, i6, i7 := r, r, r, r, r, r, r, r
	for range depth {
		n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
		i0 = int(n0.first) + second(xs[int(n0.col)+0], n0.threshold)
		i1 = int(n1.first) + second(xs[int(n1.col)+1], n1.threshold)
		i2 = int(n2.first) + second(xs[int(n2.col)+2], n2.threshold)
		i3 = int(n3.first) + second(xs[int(n3.col)+3], n3.threshold)
		n4, n5, n6, n7 := &nodes[i4], &nodes[i5], &nodes[i6], &nodes[i7]
		i4 = int(n4.first) + second(xs[int(n4.col)+4], n4.threshold)
		i5 = int(n5.first) + second(xs[int(n5.col)+5], n5.threshold)
		i6 = int(n6.first) + second(xs[int(n6.col)+6], n6.threshold)
		i7 = int(n7.first) + second(xs[int(n7.col)+7], n7.threshold)
	}
	return [lanes]uint32{uint32(i0), uint32(i1), uint32(i2), uint32(i3), uint32(i4), uint32(i5), uint32(i6), uint32(i7)}
}

// walkRowsAdd is walkRows for one value per node: it adds node i's
// values[i] to acc[r] for the node lane r reaches.
func walkRowsAdd(nodes []treeNode, xs, values []float64, root uint32, depth int32, acc *[lanes]float64) {
	r := int(root)
	i0, i1, i2, i3, i4, i5, i6, i7 := r, r, r, r, r, r, r, r
	for range depth {
		n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
		i0 = int(n0.first) + second(xs[int(n0.col)+0], n0.threshold)
		i1 = int(n1.first) + second(xs[int(n1.col)+1], n1.threshold)
		i2 = int(n2.first) + second(xs[int(n2.col)+2], n2.threshold)
		i3 = int(n3.first) + second(xs[int(n3.col)+3], n3.threshold)
		n4, n5, n6, n7 := &nodes[i4], &nodes[i5], &nodes[i6], &nodes[i7]
		i4 = int(n4.first) + second(xs[int(n4.col)+4], n4.threshold)
		i5 = int(n5.first) + second(xs[int(n5.col)+5], n5.threshold)
		i6 = int(n6.first) + second(xs[int(n6.col)+6], n6.threshold)
		i7 = int(n7.first) + second(xs[int(n7.col)+7], n7.threshold)
	}
	acc[0] += values[i0]
	acc[1] += values[i1]
	acc[2] += values[i2]
	acc[3] += values[i3]
	acc[4] += values[i4]
	acc[5] += values[i5]
	acc[6] += values[i6]
	acc[7] += values[i7]
}

// second is 1 when v goes to a canonical node's second child: written as a
// select, so the compiler emits no branch the data could mispredict.
func second(v, t float64) int {
	if v <= t {
		return 0
	}
	return 1
}

// getScratch returns a buffer of at least n values: buf when it is large
// enough, else one from the pool (putScratch returns it).
func (c *compiledTrees) getScratch(buf []float64, n int) ([]float64, *[]float64) {
	if n <= len(buf) {
		return buf[:n], nil
	}
	p, _ := c.scratch.Get().(*[]float64)
	if p == nil || len(*p) < n {
		s := make([]float64, n)
		p = &s
	}
	return (*p)[:n], p
}

func (c *compiledTrees) putScratch(p *[]float64) {
	if p != nil {
		c.scratch.Put(p)
	}
}

// rawRows is raw for n rows of width w at once (canonical ensembles only):
// it walks each tree for lanes rows together.
func (c *compiledTrees) rawRows(x []float64, w, n int, out []float64) {
	k := c.k
	clear(out[:n*k])
	var buf [stackScratch]float64
	xs, p := c.getScratch(buf[:], (2*w+1)*lanes)
	defer c.putScratch(p)
	nodes, values := c.nodes, c.values
	if k == 1 {
		c.rawRows1(x, w, n, out)
		return
	}
	for r0 := 0; r0 < n; r0 += lanes {
		m := min(lanes, n-r0)
		c.extend(xs, x[r0*w:(r0+m)*w], w, m)

		for t, root := range c.roots {
			at := walkRows(nodes, xs, root, c.depth[t])
			o := c.outputs[t]
			for r := range m {
				vi := int(c.value[at[r]])
				dst := out[(r0+r)*k : (r0+r+1)*k]
				if o >= 0 {
					dst[o] += values[vi]
				} else {
					for j := range k {
						dst[j] += values[vi+j]
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

// blockGroups is how many groups of lanes rows rawRows1 walks through a
// tree before the next tree, so that the tree's nodes stay in L1 (64
// rows: the serving runtime's chunk).
const blockGroups = 8

// rawRows1 is rawRows for K = 1.
func (c *compiledTrees) rawRows1(x []float64, w, n int, out []float64) {
	stride := (2*w + 1) * lanes
	var buf [2 * stackScratch]float64
	xs, p := c.getScratch(buf[:], stride*blockGroups)
	defer c.putScratch(p)
	nodes, values := c.nodes, c.values
	for r0 := 0; r0 < n; r0 += lanes * blockGroups {
		groups := (min(lanes*blockGroups, n-r0) + lanes - 1) / lanes
		for g := range groups {
			lo := r0 + g*lanes
			m := min(lanes, n-lo)
			c.extend(xs[g*stride:(g+1)*stride], x[lo*w:(lo+m)*w], w, m)
		}
		// One value per node: node i's is values[i]. Every lane adds
		// (the padding ones to no row).
		var acc [blockGroups][lanes]float64
		for t, root := range c.roots {
			d := c.depth[t]
			for g := range groups {
				walkRowsAdd(nodes, xs[g*stride:(g+1)*stride], values, root, d, &acc[g])
			}
		}
		for g := range groups {
			lo := r0 + g*lanes
			for r, v := range acc[g][:min(lanes, n-lo)] {
				out[lo+r] = c.base[0] + v/c.scale[0]
			}
		}
	}
}

func hasCode(codes []int, v float64) bool {
	if v < 0 || v > MaxCategory || v != math.Trunc(v) {
		return false
	}
	code := int(v)
	j := sort.SearchInts(codes, code)
	return j < len(codes) && codes[j] == code
}

// raw scores one row: lanes trees at a time when canonical, adding the
// leaf values in tree order.
func (c *compiledTrees) raw(x, out []float64) {
	clear(out[:c.k])
	if !c.canon {
		for t, root := range c.roots {
			c.add(t, c.leaf(root, x), out)
		}
	} else {
		w := c.width
		var buf [stackScratch]float64
		xs, p := c.getScratch(buf[:], (2*w+1)*lanes)
		// The same row in every lane.
		for j, v := range x[:w] {
			if c.float32 {
				v = float64(float32(v))
			}
			for r := range lanes {
				xs[j*lanes+r] = v
				xs[(w+j)*lanes+r] = -v
			}
		}
		clear(xs[2*w*lanes:])
		if c.k == 1 {
			// One value per node; the sum stays in a register, in tree
			// order (the padding adds +0, which changes no sum that
			// starts at +0).
			var sum float64
			for g := range c.groups {
				sum = walkTreesAdd(c.nodes, xs, c.values, &c.groups[g], sum)
			}
			out[0] = sum
		} else {
			for g := range c.groups {
				gr := &c.groups[g]
				at := walk8(c.nodes, xs, gr.roots, gr.depth)
				for r := range int(gr.trees) {
					c.add(g*lanes+r, at[r], out)
				}
			}
		}
		c.putScratch(p)
	}
	for o := range c.k {
		out[o] = c.base[o] + out[o]/c.scale[o]
	}
}

// add adds the values of leaf i of tree t to out.
func (c *compiledTrees) add(t int, i uint32, out []float64) {
	vi := int(c.value[i])
	if o := c.outputs[t]; o >= 0 {
		out[o] += c.values[vi]
		return
	}
	for o := range c.k {
		out[o] += c.values[vi+o]
	}
}

// gain.
func (t *TreeEnsemble) Importance(width int) []float64 {
	imp := make([]float64, width)
	var total float64
	for _, tr := range t.Trees {
		if tr.Gain == nil {
			continue
		}
		for i, f := range tr.Feature {
			if f >= 0 && f < width {
				imp[f] += tr.Gain[i]
				total += tr.Gain[i]
			}
		}
	}
	if total > 0 {
		for j := range imp {
			imp[j] /= total
		}
	}
	return imp
}

// Leaves returns the number of trees and of leaves in all of them.
func (t *TreeEnsemble) Leaves() (trees, leaves int) {
	for _, tr := range t.Trees {
		for _, f := range tr.Feature {
			if f == -1 {
				leaves++
			}
		}
	}
	return len(t.Trees), leaves
}
