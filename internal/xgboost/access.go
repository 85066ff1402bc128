package xgboost

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// node is a decoded value and its JSON path, for errors that say where a
// model file is wrong (learner.gradient_booster.model.trees[3].left_children[7]).
type node struct {
	v    any
	path string
}

func (n node) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrFormat, n.path, fmt.Sprintf(format, args...))
}

func (n node) child(key string) node {
	if n.path == "" {
		return node{path: key}
	}
	return node{path: n.path + "." + key}
}

// opt returns member key of an object, and whether it is there.
func (n node) opt(key string) (node, bool, error) {
	m, ok := n.v.(map[string]any)
	if !ok {
		return node{}, false, n.errorf("is %s, want an object", kind(n.v))
	}
	v, ok := m[key]
	c := n.child(key)
	c.v = v
	return c, ok, nil
}

// get returns member key of an object, which must be there.
func (n node) get(key string) (node, error) {
	c, ok, err := n.opt(key)
	if err != nil {
		return node{}, err
	}
	if !ok {
		return node{}, c.errorf("missing")
	}
	return c, nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []float64, []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (n node) str() (string, error) {
	s, ok := n.v.(string)
	if !ok {
		return "", n.errorf("is %s, want a string", kind(n.v))
	}
	return s, nil
}

// num is a number, or a string holding one (XGBoost writes its parameters
// as strings: "num_feature": "5").
func (n node) num() (float64, error) {
	switch v := n.v.(type) {
	case float64:
		return v, nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, n.errorf("%q is not a number", v)
		}
		return f, nil
	}
	return 0, n.errorf("is %s, want a number", kind(n.v))
}

// integer is num that must be an integer in [lo, hi].
func (n node) integer(lo, hi int) (int, error) {
	f, err := n.num()
	if err != nil {
		return 0, err
	}
	return checkInt(n, f, lo, hi)
}

func checkInt(n node, f float64, lo, hi int) (int, error) {
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, n.errorf("%g is not an integer in [%d, %d]", f, lo, hi)
	}
	return int(f), nil
}

// index is the path of element i of array n.
func (n node) index(i int) node { return node{path: n.path + "[" + strconv.Itoa(i) + "]"} }

// floats is an array of numbers; booleans count as 0 and 1, null as NaN.
func (n node) floats() ([]float64, error) {
	switch v := n.v.(type) {
	case []float64:
		return v, nil
	case []any:
		out := make([]float64, len(v))
		for i, e := range v {
			switch e := e.(type) {
			case float64:
				out[i] = e
			case bool:
				if e {
					out[i] = 1
				}
			case nil:
				out[i] = math.NaN()
			default:
				return nil, n.index(i).errorf("is %s, want a number", kind(e))
			}
		}
		return out, nil
	}
	return nil, n.errorf("is %s, want an array of numbers", kind(n.v))
}

// ints is an array of integers in [lo, hi].
func (n node) ints(lo, hi int) ([]int, error) {
	f, err := n.floats()
	if err != nil {
		return nil, err
	}
	out := make([]int, len(f))
	for i, v := range f {
		if out[i], err = checkInt(n.index(i), v, lo, hi); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// strs is an array of strings (an empty array may decode as numbers).
func (n node) strs() ([]string, error) {
	switch v := n.v.(type) {
	case []float64:
		if len(v) == 0 {
			return nil, nil
		}
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, n.index(i).errorf("is %s, want a string", kind(e))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, n.errorf("is %s, want an array of strings", kind(n.v))
}

// elems is an array of any values, as nodes.
func (n node) elems() ([]node, error) {
	switch v := n.v.(type) {
	case []float64:
		if len(v) == 0 {
			return nil, nil
		}
	case []any:
		out := make([]node, len(v))
		for i, e := range v {
			out[i] = n.index(i)
			out[i].v = e
		}
		return out, nil
	}
	return nil, n.errorf("is %s, want an array", kind(n.v))
}
