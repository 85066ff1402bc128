package model

import (
	"fmt"
	"math"
	"sort"
)

// A schema version 2 model.json describes a scoring program with K
// outputs: the preprocessing of Features (impute, scale, one-hot), then one
// predictor block (Block: a linear block or a tree ensemble) that maps the
// encoded columns to K raw scores, then a link that maps the raw scores to
// the prediction (identity), a probability (sigmoid, K = 1) or class
// probabilities (softmax, K = the number of classes). A schema version 1
// model is the linear block with K = 1 written as Intercept and
// Coefficients; NewProgram reads both.

// Links.
const (
	LinkIdentity = "identity"
	LinkSigmoid  = "sigmoid"
	LinkSoftmax  = "softmax"
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
// model. It is safe for concurrent use and does not allocate while scoring.
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
	p.trees = compileTrees(m.Predictor.Trees, p.k)
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
// scores a batch several times faster than Raw row by row, because it walks
// each tree for several rows at once.
func (p *Program) RawRows(x []float64, n int, out []float64) {
	w, k := p.width, p.k
	if p.linear == nil && p.trees.plain && n >= minBatchRows {
		p.trees.rawRows(x, w, n, out)
		return
	}
	for r := range n {
		p.Raw(x[r*w:(r+1)*w], out[r*k:(r+1)*k])
	}
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
// takes every tree to its full depth for every row, which pays off once a
// few rows share each visit; a single row stops at its leaf instead.
const minBatchRows = 4

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
type compiledTrees struct {
	nodes   []treeNode
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
	// plain: no categorical splits, "<=" and float64 (plainLeaf).
	plain bool
}

// treeNode is one node: a split, or a leaf, which is its own left and
// right child.
type treeNode struct {
	threshold   float64
	feature     int32
	left, right int32
	// value is the index of the node's first value in compiledTrees.values.
	value int32
	// cat is 1 + the index of its categorical split, 0 for a numeric split.
	cat         int32
	missingLeft bool
}

func compileTrees(t *TreeEnsemble, k int) *compiledTrees {
	c := &compiledTrees{
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
		order := childrenAdjacent(&tr)
		newIndex := make([]int32, len(order))
		for at, i := range order {
			newIndex[i] = int32(at)
		}
		for _, i := range order {
			n := treeNode{
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

// childrenAdjacent returns the nodes of a validated tree in breadth-first
// order, each node's right child directly after its left child.
func childrenAdjacent(tr *Tree) []int {
	order := make([]int, 1, len(tr.Feature))
	for at := 0; at < len(order); at++ {
		if i := order[at]; tr.Feature[i] >= 0 {
			order = append(order, tr.Left[i], tr.Right[i])
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

// leaf returns the node index of the leaf that x reaches from root.
func (c *compiledTrees) leaf(root int32, x []float64) int32 {
	if c.plain {
		return c.plainLeaf(root, x)
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

// plainLeaf is leaf for the common ensemble: numeric splits only, "<=",
// float64. A NaN fails the comparison, so only the right-hand branch checks
// for it.
func (c *compiledTrees) plainLeaf(root int32, x []float64) int32 {
	nodes := c.nodes
	i := root
	for {
		n := &nodes[i]
		if n.left == i {
			return i
		}
		i = n.left + goRight(n, x[n.feature])
	}
}

// goRight is 1 when value v goes right at numeric "<=" split n, else 0: a
// NaN goes right unless n sends missing values left. Written as selects, so
// the compiler emits no branch the data could mispredict.
func goRight(n *treeNode, v float64) int32 {
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

// batchRows is how many rows rawRows walks through a tree together: enough
// independent node loads to hide their latency.
const batchRows = 8

// rawRows is raw for n rows of width w at once (plain ensembles only).
func (c *compiledTrees) rawRows(x []float64, w, n int, out []float64) {
	k := c.k
	clear(out[:n*k])
	nodes := c.nodes
	var idx [batchRows]int32
	for r0 := 0; r0 < n; r0 += batchRows {
		m := min(batchRows, n-r0)
		rows := x[r0*w : (r0+m)*w]
		for t, root := range c.roots {
			for r := range m {
				idx[r] = root
			}
			for range c.depth[t] {
				for r := range m {
					nd := &nodes[idx[r]]
					idx[r] = nd.left + goRight(nd, rows[r*w+int(nd.feature)])
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

func hasCode(codes []int, v float64) bool {
	if v < 0 || v > MaxCategory || v != math.Trunc(v) {
		return false
	}
	code := int(v)
	j := sort.SearchInts(codes, code)
	return j < len(codes) && codes[j] == code
}

func (c *compiledTrees) raw(x, out []float64) {
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

// Importance returns the total split gain of each encoded column (width
// columns), normalised to sum to 1; all zeros when the trees record no
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
