package xgboost

import (
	"fmt"
	"math"
	"sort"

	"github.com/modelci/modelci/internal/model"
)

// readTrees reads a gbtree model (gradient_booster.model, or dart's
// gradient_booster.gbtree.model): its trees, each adding to output
// tree_info[t], scaled by weight_drop[t] when wd is set (dart), and only
// those of iterations 0..BestIteration.
func (m *Model) readTrees(mn node, wd *node) error {
	param, err := mn.get("gbtree_model_param")
	if err != nil {
		return err
	}
	parallel := 1
	if v, ok, _ := param.opt("num_parallel_tree"); ok {
		if parallel, err = v.integer(1, maxNodes); err != nil {
			return err
		}
	}
	if v, ok, _ := param.opt("size_leaf_vector"); ok {
		if err := leafVector(v); err != nil {
			return err
		}
	}
	tn, err := mn.get("trees")
	if err != nil {
		return err
	}
	trees, err := tn.elems()
	if err != nil {
		return err
	}
	if v, ok, _ := param.opt("num_trees"); ok {
		n, err := v.integer(0, math.MaxInt32)
		if err != nil {
			return err
		}
		if n != len(trees) {
			return v.errorf("%d trees, but the model has %d", n, len(trees))
		}
	}
	in, err := mn.get("tree_info")
	if err != nil {
		return err
	}
	info, err := in.ints(0, m.Outputs-1)
	if err != nil {
		return err
	}
	if len(info) != len(trees) {
		return in.errorf("%d entries for %d trees", len(info), len(trees))
	}
	var weights []float64
	if wd != nil {
		if weights, err = wd.floats(); err != nil {
			return err
		}
		if len(weights) != len(trees) {
			return wd.errorf("%d weights for %d trees", len(weights), len(trees))
		}
	}
	// The trees of each iteration: iteration_indptr (XGBoost 2.0 and
	// later), else K × num_parallel_tree trees per iteration.
	perIter := m.Outputs * parallel
	var indptr []int
	if v, ok, _ := mn.opt("iteration_indptr"); ok {
		if indptr, err = v.ints(0, len(trees)); err != nil {
			return err
		}
		if len(indptr) == 0 || indptr[0] != 0 || indptr[len(indptr)-1] != len(trees) || !sort.IntsAreSorted(indptr) {
			return v.errorf("not an increasing index from 0 to the %d trees", len(trees))
		}
		m.Iterations = len(indptr) - 1
	} else {
		if len(trees)%perIter != 0 {
			return tn.errorf("%d trees is not a whole number of iterations of %d", len(trees), perIter)
		}
		m.Iterations = len(trees) / perIter
	}
	keep := len(trees)
	if b := m.BestIteration; b >= 0 && b+1 < m.Iterations {
		keep = (b + 1) * perIter
		if indptr != nil {
			keep = indptr[b+1]
		}
	}
	ens := &model.TreeEnsemble{
		Aggregation: model.AggregateSum,
		Comparison:  model.CompareLess,
		Precision:   model.Float32,
		BaseScore:   append([]float64(nil), m.BaseScore...),
	}
	for t := range keep {
		w := math.NaN()
		if weights != nil {
			w = weights[t]
			if math.IsNaN(w) || math.IsInf(w, 0) {
				return wd.index(t).errorf("%g is not finite", w)
			}
		}
		tr, err := m.readTree(trees[t], info[t], w)
		if err != nil {
			return err
		}
		ens.Trees = append(ens.Trees, tr)
	}
	if len(ens.Trees) == 0 {
		// No trees: every row scores the base score.
		ens.Trees = []model.Tree{{Feature: []int{-1}, Threshold: []float64{0}, Left: []int{-1}, Right: []int{-1}, MissingLeft: []bool{false}, Value: []float64{0}}}
	}
	m.Block.Trees = ens
	return nil
}

func leafVector(v node) error {
	n, err := v.integer(0, math.MaxInt32)
	if err != nil {
		return err
	}
	if n > 1 {
		return fmt.Errorf("%w: %s: leaves of %d values (multi-output trees) are not supported", ErrUnsupported, v.path, n)
	}
	return nil
}

// treeArrays are the node arrays of one tree as written.
type treeArrays struct {
	left, right, feature, splitType []int
	cond, defaultLeft, gain, cover  []float64
}

// readTree reads one tree. Its nodes are renumbered breadth first from the
// root, so children follow their parents and deleted (unreachable) nodes
// drop out; w scales the leaf values unless it is NaN.
func (m *Model) readTree(tn node, output int, w float64) (model.Tree, error) {
	var tr model.Tree
	tp, err := tn.get("tree_param")
	if err != nil {
		return tr, err
	}
	nn, err := tp.get("num_nodes")
	if err != nil {
		return tr, err
	}
	n, err := nn.integer(1, maxNodes)
	if err != nil {
		return tr, err
	}
	if v, ok, _ := tp.opt("size_leaf_vector"); ok {
		if err := leafVector(v); err != nil {
			return tr, err
		}
	}
	var a treeArrays
	ints := func(name string, lo, hi int, dst *[]int, required bool) error {
		v, ok, err := tn.opt(name)
		if err != nil || (!ok && !required) {
			return err
		}
		if !ok {
			return v.errorf("missing")
		}
		if *dst, err = v.ints(lo, hi); err != nil {
			return err
		}
		if len(*dst) != n {
			return v.errorf("%d entries for %d nodes", len(*dst), n)
		}
		return nil
	}
	floats := func(name string, dst *[]float64, required bool) error {
		v, ok, err := tn.opt(name)
		if err != nil || (!ok && !required) {
			return err
		}
		if !ok {
			return v.errorf("missing")
		}
		if *dst, err = v.floats(); err != nil {
			return err
		}
		if len(*dst) != n {
			return v.errorf("%d entries for %d nodes", len(*dst), n)
		}
		return nil
	}
	for _, err := range []error{
		ints("left_children", -1, n-1, &a.left, true),
		ints("right_children", -1, n-1, &a.right, true),
		ints("split_indices", 0, math.MaxInt32, &a.feature, true),
		ints("split_type", 0, 1, &a.splitType, false),
		floats("split_conditions", &a.cond, true),
		floats("default_left", &a.defaultLeft, true),
		floats("loss_changes", &a.gain, false),
		floats("sum_hessian", &a.cover, false),
	} {
		if err != nil {
			return tr, err
		}
	}
	cats, err := readCategories(tn, n, a.splitType)
	if err != nil {
		return tr, err
	}

	// Breadth-first order from the root.
	newIndex := make([]int, n)
	for i := range newIndex {
		newIndex[i] = -1
	}
	order := []int{0}
	newIndex[0] = 0
	for at := 0; at < len(order); at++ {
		i := order[at]
		l, r := a.left[i], a.right[i]
		if l == -1 && r == -1 {
			continue
		}
		for _, c := range [2]struct {
			name string
			v    int
		}{{"left_children", l}, {"right_children", r}} {
			if c.v <= 0 || newIndex[c.v] != -1 {
				return tr, tn.child(c.name).index(i).errorf("child %d is not a node of its own", c.v)
			}
			newIndex[c.v] = len(order)
			order = append(order, c.v)
		}
	}
	k := len(order)
	tr = model.Tree{
		Output:      output,
		Feature:     make([]int, k),
		Threshold:   make([]float64, k),
		Left:        make([]int, k),
		Right:       make([]int, k),
		MissingLeft: make([]bool, k),
		Value:       make([]float64, k),
	}
	if a.gain != nil {
		tr.Gain = make([]float64, k)
	}
	if a.cover != nil {
		tr.Cover = make([]float64, k)
	}
	for j, i := range order {
		if tr.Cover != nil {
			tr.Cover[j] = float64(float32(a.cover[i]))
		}
		if a.left[i] == -1 {
			v := float32(a.cond[i])
			if !math.IsNaN(w) {
				v = float32(w) * v
			}
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return tr, tn.child("split_conditions").index(i).errorf("leaf value %g is not finite", v)
			}
			tr.Feature[j], tr.Left[j], tr.Right[j], tr.Value[j] = -1, -1, -1, float64(v)
			continue
		}
		f := a.feature[i]
		if f >= m.NumFeature {
			return tr, tn.child("split_indices").index(i).errorf("feature %d of %d", f, m.NumFeature)
		}
		dl := a.defaultLeft[i]
		if dl != 0 && dl != 1 {
			return tr, tn.child("default_left").index(i).errorf("%g is not a boolean", dl)
		}
		tr.Feature[j], tr.Left[j], tr.Right[j], tr.MissingLeft[j] = f, newIndex[a.left[i]], newIndex[a.right[i]], dl == 1
		if tr.Gain != nil {
			tr.Gain[j] = float64(float32(a.gain[i]))
		}
		if codes, ok := cats[i]; ok {
			tr.Categorical = append(tr.Categorical, model.CategorySplit{Node: j, Right: codes})
			continue
		}
		thr := float64(float32(a.cond[i]))
		if math.IsNaN(thr) {
			return tr, tn.child("split_conditions").index(i).errorf("split threshold is NaN")
		}
		tr.Threshold[j] = thr
	}
	for _, s := range [2]*[]float64{&tr.Gain, &tr.Cover} {
		for _, v := range *s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				// Statistics only (importance): drop them rather than
				// refuse a model that predicts fine.
				*s = nil
				break
			}
		}
	}
	for i := range cats {
		if a.left[i] == -1 {
			return tr, tn.child("categories_nodes").errorf("node %d is a leaf", i)
		}
	}
	return tr, nil
}

// readCategories reads the categorical splits of a tree: categories_nodes
// lists the nodes, and node categories_nodes[j]'s categories (those that go
// right) are categories[categories_segments[j]:][:categories_sizes[j]].
// split_type, when written, must mark exactly those nodes 1.
func readCategories(tn node, n int, splitType []int) (map[int][]int, error) {
	cn, ok, err := tn.opt("categories_nodes")
	if err != nil {
		return nil, err
	}
	out := map[int][]int{}
	if ok {
		nodes, err := cn.ints(0, n-1)
		if err != nil {
			return nil, err
		}
		if len(nodes) > 0 {
			cv, err := tn.get("categories")
			if err != nil {
				return nil, err
			}
			codes, err := cv.ints(0, model.MaxCategory)
			if err != nil {
				return nil, err
			}
			sg, err := tn.get("categories_segments")
			if err != nil {
				return nil, err
			}
			segs, err := sg.ints(0, len(codes))
			if err != nil {
				return nil, err
			}
			sz, err := tn.get("categories_sizes")
			if err != nil {
				return nil, err
			}
			sizes, err := sz.ints(0, len(codes))
			if err != nil {
				return nil, err
			}
			if len(segs) != len(nodes) || len(sizes) != len(nodes) {
				return nil, cn.errorf("%d nodes, %d segments and %d sizes", len(nodes), len(segs), len(sizes))
			}
			for j, i := range nodes {
				if _, dup := out[i]; dup {
					return nil, cn.index(j).errorf("node %d is listed twice", i)
				}
				if segs[j]+sizes[j] > len(codes) {
					return nil, sg.index(j).errorf("segment %d+%d beyond the %d categories", segs[j], sizes[j], len(codes))
				}
				set := append([]int(nil), codes[segs[j]:segs[j]+sizes[j]]...)
				sort.Ints(set)
				w := 0
				for _, c := range set {
					if w == 0 || set[w-1] != c {
						set[w] = c
						w++
					}
				}
				out[i] = set[:w]
			}
		}
	}
	if splitType != nil {
		st := tn.child("split_type")
		for i, t := range splitType {
			if _, cat := out[i]; cat != (t == 1) {
				return nil, st.index(i).errorf("split type %d disagrees with categories_nodes", t)
			}
		}
	}
	return out, nil
}
