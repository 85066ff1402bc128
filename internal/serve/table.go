package serve

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/modelci/modelci/internal/model"
)

// httpError is a request that cannot be answered with predictions: its
// status code and a message for the client.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) *httpError {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *httpError {
	return errorf(http.StatusBadRequest, format, args...)
}

// schema is what decoding needs to know about the model's features.
type schema struct {
	names []string
	// isCat marks the features whose values are text: categorical and
	// date features.
	isCat []bool
	kinds []string
	// index maps a feature name to its position.
	index map[string]int
	// cats interns the training categories of categorical feature i, so
	// that decoding a known category does not allocate.
	cats []map[string]string
	// list is the feature names for error messages.
	list string
}

func newSchema(m *model.Model) *schema {
	s := &schema{
		names: m.FeatureNames(),
		isCat: make([]bool, len(m.Features)),
		kinds: make([]string, len(m.Features)),
		index: make(map[string]int, len(m.Features)),
		cats:  make([]map[string]string, len(m.Features)),
	}
	for i, f := range m.Features {
		s.index[f.Name] = i
		// A date arrives as a string, like a category, and the model's
		// encoder derives its parts.
		s.isCat[i] = f.IsText()
		s.kinds[i] = f.Type
		if f.Type == model.Categorical {
			c := make(map[string]string, len(f.Categories))
			for _, v := range f.Categories {
				c[v] = v
			}
			s.cats[i] = c
		}
	}
	quoted := make([]string, len(s.names))
	for i, n := range s.names {
		quoted[i] = strconv.Quote(n)
	}
	s.list = strings.Join(quoted, ", ")
	return s
}

func (s *schema) nf() int { return len(s.names) }

// isKind completes "feature ... is" for text feature i: "categorical" or
// "a date".
func (s *schema) isKind(i int) string {
	if s.kinds[i] == model.Date {
		return "a date"
	}
	return s.kinds[i]
}

// firstCategorical returns the index of the first categorical feature, or
// -1.
func (s *schema) firstCategorical() int {
	for i, c := range s.isCat {
		if c {
			return i
		}
	}
	return -1
}

// feature returns the index of the feature named by b, or -1.
func (s *schema) feature(b []byte) int {
	if i, ok := s.index[string(b)]; ok {
		return i
	}
	return -1
}

// category returns feature i's value for the text b.
func (s *schema) category(i int, b []byte) string {
	if c, ok := s.cats[i][string(b)]; ok {
		return c
	}
	return string(b)
}

// table holds the decoded rows of one request, row-major: the value of
// feature i in row r is num[r*nf+i] for a numeric feature (NaN: missing)
// and str[r*nf+i] for a categorical one ("" or a missing token: missing).
type table struct {
	nf   int
	rows int
	num  []float64
	str  []string
}

func (t *table) reset(nf int) {
	t.nf = nf
	t.rows = 0
	clear(t.str) // drop references to the last request's strings
	t.num = t.num[:0]
	t.str = t.str[:0]
}

// addRows appends n rows of missing values.
func (t *table) addRows(n int) {
	cells := (t.rows + n) * t.nf
	if cap(t.num) < cells {
		num := make([]float64, len(t.num), max(cells, 2*cap(t.num)))
		copy(num, t.num)
		t.num = num
		str := make([]string, len(t.str), cap(num))
		copy(str, t.str)
		t.str = str
	}
	old := len(t.num)
	t.num = t.num[:cells]
	t.str = t.str[:cells]
	nan := math.NaN()
	for j := old; j < cells; j++ {
		t.num[j] = nan
		t.str[j] = ""
	}
	t.rows += n
}

func (t *table) row(r int) ([]float64, []string) {
	lo, hi := r*t.nf, (r+1)*t.nf
	return t.num[lo:hi:hi], t.str[lo:hi:hi]
}

// set stores an element as the value of feature i in row r. Numbers and
// strings are converted to the feature's type: a number given for a
// categorical feature is the category spelled as written, a string given
// for a numeric feature is parsed (unless strict, as for a tensor with a
// numeric datatype). null and NaN are missing values.
func (s *schema) set(t *table, r, i int, k kind, v []byte, strict bool) error {
	j := r*t.nf + i
	switch k {
	case kNull, kNaN:
		t.num[j] = math.NaN()
		t.str[j] = ""
		return nil
	case kNumber:
		if s.isCat[i] {
			t.str[j] = s.category(i, v)
			return nil
		}
		f, err := parseNumber(v)
		if err != nil {
			return err
		}
		t.num[j] = f
		return nil
	case kString:
		if s.isCat[i] {
			t.str[j] = s.category(i, v)
			return nil
		}
		if strict {
			return fmt.Errorf("got the string %q but the tensor's datatype is numeric", v)
		}
		f, err := parseText(v)
		if err != nil {
			return err
		}
		t.num[j] = f
		return nil
	case kInf:
		return fmt.Errorf("got an infinite number; values must be finite")
	}
	return fmt.Errorf("got %s, want a number, a string or null", k)
}

// setText stores a text value (a CSV cell) as the value of feature i in
// row r.
func (s *schema) setText(t *table, r, i int, v string) error {
	j := r*t.nf + i
	if s.isCat[i] {
		t.str[j] = v
		return nil
	}
	f, err := parseText([]byte(v))
	if err != nil {
		return err
	}
	t.num[j] = f
	return nil
}
