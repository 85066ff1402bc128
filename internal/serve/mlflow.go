package serve

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const mlflowKeys = "dataframe_split, dataframe_records, instances or inputs"

// decodeMLflowRequest checks the Content-Type of an MLflow scoring request
// and decodes its body into st.t.
func (s *Server) decodeMLflowRequest(r *http.Request, st *reqState) *httpError {
	mt := mediaType(r.Header.Get("Content-Type"))
	isCSV := mt == "text/csv"
	if !isCSV && !isJSONType(mt) {
		if mt == "" {
			return errorf(http.StatusUnsupportedMediaType, "missing Content-Type; this predictor accepts application/json and text/csv")
		}
		return errorf(http.StatusUnsupportedMediaType, "unsupported Content-Type %q; this predictor accepts application/json and text/csv", mt)
	}
	body, herr := s.readBody(r, st)
	if herr != nil {
		return herr
	}
	st.hasID = false
	if id := r.Header.Get("X-Request-Id"); id != "" {
		st.id = append(st.id[:0], id...)
		st.hasID = true
	}
	st.proba = false
	st.t.reset(s.schema.nf())
	if isCSV {
		return s.decodeCSV(body, st)
	}
	return s.decodeMLflow(body, st)
}

// decodeMLflow decodes the JSON forms of MLflow's scoring protocol.
func (s *Server) decodeMLflow(body []byte, st *reqState) *httpError {
	sc := &st.sc
	sc.reset(body)
	if err := sc.consume('{'); err != nil {
		return badRequest("%v; the body must be a JSON object with one of %s", err, mlflowKeys)
	}
	var found string // a constant: never allocates
	for n := 0; ; n++ {
		ok, err := sc.more('}', n)
		if err != nil {
			return badRequest("%v", err)
		}
		if !ok {
			break
		}
		key, err := sc.key()
		if err != nil {
			return badRequest("%v", err)
		}
		var herr *httpError
		switch k := inputKey(key); k {
		case "dataframe_split", "dataframe_records", "instances", "inputs":
			if found != "" {
				return badRequest("the body has both %q and %q; send exactly one of %s", found, k, mlflowKeys)
			}
			found = k
			switch k {
			case "dataframe_split":
				herr = s.decodeSplit(sc, st)
			case "dataframe_records":
				herr = s.decodeRecordList(sc, st, k)
			default:
				herr = s.decodeInstances(sc, st, k)
			}
		case "params":
			herr = s.decodeParams(sc, st)
		default:
			return badRequest("unknown field %q; the body must hold one of %s (and optionally params)", key, mlflowKeys)
		}
		if herr != nil {
			return herr
		}
	}
	if err := sc.end(); err != nil {
		return badRequest("%v", err)
	}
	if found == "" {
		return badRequest("the body must hold one of %s", mlflowKeys)
	}
	return nil
}

// inputKey returns the constant string equal to key for the keys of an
// MLflow body, and "" for others.
func inputKey(key []byte) string {
	switch string(key) {
	case "dataframe_split":
		return "dataframe_split"
	case "dataframe_records":
		return "dataframe_records"
	case "instances":
		return "instances"
	case "inputs":
		return "inputs"
	case "params":
		return "params"
	}
	return ""
}

// decodeParams reads "params"; predict_method "predict_proba" asks a
// classifier for probabilities.
func (s *Server) decodeParams(sc *scanner, st *reqState) *httpError {
	if err := sc.consume('{'); err != nil {
		return badRequest(`"params": %v`, err)
	}
	for n := 0; ; n++ {
		ok, err := sc.more('}', n)
		if err != nil {
			return badRequest(`"params": %v`, err)
		}
		if !ok {
			return nil
		}
		key, err := sc.key()
		if err != nil {
			return badRequest(`"params": %v`, err)
		}
		if string(key) != "predict_method" {
			if err := sc.skip(1); err != nil {
				return badRequest(`"params": %v`, err)
			}
			continue
		}
		k, v, err := sc.elem()
		if err != nil {
			return badRequest(`"params": %v`, err)
		}
		switch {
		case k == kString && string(v) == "predict":
			st.proba = false
		case k == kString && string(v) == "predict_proba" && s.classifier:
			st.proba = true
		default:
			if s.classifier {
				return badRequest(`"params": predict_method must be "predict" or "predict_proba"`)
			}
			return badRequest(`"params": predict_method must be "predict" for a regression model`)
		}
	}
}

// decodeSplit reads pandas' split orient: {"columns": [...], "data":
// [[...], ...], "index": [...]}. Without columns, rows hold every feature
// in order.
func (s *Server) decodeSplit(sc *scanner, st *reqState) *httpError {
	if err := sc.consume('{'); err != nil {
		return badRequest(`"dataframe_split": %v`, err)
	}
	dataLo, dataHi := -1, -1
	hasCols := false
	for n := 0; ; n++ {
		ok, err := sc.more('}', n)
		if err != nil {
			return badRequest(`"dataframe_split": %v`, err)
		}
		if !ok {
			break
		}
		key, err := sc.key()
		if err != nil {
			return badRequest(`"dataframe_split": %v`, err)
		}
		switch string(key) {
		case "columns":
			if herr := s.decodeColumns(sc, st); herr != nil {
				return herr
			}
			hasCols = true
		case "data":
			if dataLo, dataHi, err = sc.span(); err != nil {
				return badRequest(`"dataframe_split": %v`, err)
			}
		default: // "index"
			if err := sc.skip(1); err != nil {
				return badRequest(`"dataframe_split": %v`, err)
			}
		}
	}
	if dataLo < 0 {
		return badRequest(`"dataframe_split" has no "data"`)
	}
	if !hasCols {
		s.allColumns(st)
	}
	save := sc.i
	sc.i = dataLo
	herr := s.decodeRowLists(sc, st, `"dataframe_split" "data"`)
	if herr == nil && sc.i != dataHi {
		herr = badRequest(`"dataframe_split" "data": unexpected content`)
	}
	sc.i = save
	return herr
}

// decodeColumns reads the column names of a split frame into st.cols.
func (s *Server) decodeColumns(sc *scanner, st *reqState) *httpError {
	st.cols = st.cols[:0]
	if err := sc.consume('['); err != nil {
		return badRequest(`"columns": %v`, err)
	}
	for n := 0; ; n++ {
		ok, err := sc.more(']', n)
		if err != nil {
			return badRequest(`"columns": %v`, err)
		}
		if !ok {
			break
		}
		k, v, err := sc.elem()
		if err != nil {
			return badRequest(`"columns": %v`, err)
		}
		if k != kString {
			return badRequest(`"columns" must hold feature names (strings), got %s`, k)
		}
		i := s.schema.feature(v)
		if i < 0 {
			return s.unknownFeature(v)
		}
		if slices.Contains(st.cols, i) {
			return badRequest("column %q appears twice", v)
		}
		st.cols = append(st.cols, i)
	}
	return s.checkCovered(st.cols)
}

// allColumns sets st.cols to every feature in the model's order.
func (s *Server) allColumns(st *reqState) {
	st.cols = st.cols[:0]
	for i := range s.schema.nf() {
		st.cols = append(st.cols, i)
	}
}

func (s *Server) unknownFeature(name []byte) *httpError {
	return badRequest("unknown feature %q; the model's features are %s", name, s.schema.list)
}

// checkCovered checks that every feature has a column.
func (s *Server) checkCovered(cols []int) *httpError {
	if len(cols) == s.schema.nf() {
		return nil // no duplicates, so all are there
	}
	have := make([]bool, s.schema.nf())
	for _, c := range cols {
		have[c] = true
	}
	return s.checkAll(have, "feature")
}

// checkAll fails when some feature i has no value (have[i] is false),
// naming them; what is the thing missing ("feature", "input for feature").
func (s *Server) checkAll(have []bool, what string) *httpError {
	var missing []string
	for i, ok := range have {
		if !ok {
			missing = append(missing, strconv.Quote(s.schema.names[i]))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return badRequest("missing %s %s; the model has %d features: %s", what, strings.Join(missing, ", "), s.schema.nf(), s.schema.list)
}

// decodeRowLists reads an array of rows, each an array of values for
// st.cols.
func (s *Server) decodeRowLists(sc *scanner, st *reqState, what string) *httpError {
	if err := sc.consume('['); err != nil {
		return badRequest("%s: %v", what, err)
	}
	for n := 0; ; n++ {
		ok, err := sc.more(']', n)
		if err != nil {
			return badRequest("%s: %v", what, err)
		}
		if !ok {
			return nil
		}
		if herr := s.decodeRowList(sc, st, what); herr != nil {
			return herr
		}
	}
}

// decodeRowList reads one row given as an array of values for st.cols.
func (s *Server) decodeRowList(sc *scanner, st *reqState, what string) *httpError {
	r := st.t.rows
	if r >= s.opts.MaxRows {
		return s.tooManyRows(r + 1)
	}
	if err := sc.consume('['); err != nil {
		return badRequest("%s: row %d: %v", what, r, err)
	}
	st.t.addRows(1)
	k := 0
	for ; ; k++ {
		ok, err := sc.more(']', k)
		if err != nil {
			return badRequest("%s: row %d: %v", what, r, err)
		}
		if !ok {
			break
		}
		if k >= len(st.cols) {
			return badRequest("%s: row %d has more than %d values; the model has %d features: %s", what, r, len(st.cols), s.schema.nf(), s.schema.list)
		}
		kd, v, err := sc.elem()
		if err != nil {
			return badRequest("%s: row %d: %v", what, r, err)
		}
		i := st.cols[k]
		if err := s.schema.set(&st.t, r, i, kd, v, false); err != nil {
			return badRequest("%s: row %d, feature %q: %v", what, r, s.schema.names[i], err)
		}
	}
	if k != len(st.cols) {
		return badRequest("%s: row %d has %d values; the model has %d features: %s", what, r, k, len(st.cols), s.schema.list)
	}
	return nil
}

// decodeRecordList reads an array of records {feature: value}.
func (s *Server) decodeRecordList(sc *scanner, st *reqState, what string) *httpError {
	if err := sc.consume('['); err != nil {
		return badRequest("%q: %v", what, err)
	}
	s.resetSeen(st)
	for n := 0; ; n++ {
		ok, err := sc.more(']', n)
		if err != nil {
			return badRequest("%q: %v", what, err)
		}
		if !ok {
			break
		}
		if herr := s.decodeRecord(sc, st, what); herr != nil {
			return herr
		}
	}
	return s.checkSeen(st)
}

func (s *Server) resetSeen(st *reqState) {
	nf := s.schema.nf()
	if cap(st.seen) < nf {
		st.seen = make([]bool, nf)
	}
	st.seen = st.seen[:nf]
	clear(st.seen)
}

// checkSeen checks that every feature appeared in some record; a feature
// absent from only some records is missing in those.
func (s *Server) checkSeen(st *reqState) *httpError {
	if st.t.rows == 0 {
		return nil
	}
	return s.checkAll(st.seen, "feature")
}

// decodeRecord reads one record {feature: value} as a new row.
func (s *Server) decodeRecord(sc *scanner, st *reqState, what string) *httpError {
	r := st.t.rows
	if r >= s.opts.MaxRows {
		return s.tooManyRows(r + 1)
	}
	if err := sc.consume('{'); err != nil {
		return badRequest("%q: row %d: %v", what, r, err)
	}
	st.t.addRows(1)
	for n := 0; ; n++ {
		ok, err := sc.more('}', n)
		if err != nil {
			return badRequest("%q: row %d: %v", what, r, err)
		}
		if !ok {
			return nil
		}
		key, err := sc.key()
		if err != nil {
			return badRequest("%q: row %d: %v", what, r, err)
		}
		i := s.schema.feature(key)
		if i < 0 {
			return s.unknownFeature(key)
		}
		st.seen[i] = true
		k, v, err := sc.elem()
		if err != nil {
			return badRequest("%q: row %d: %v", what, r, err)
		}
		if err := s.schema.set(&st.t, r, i, k, v, false); err != nil {
			return badRequest("%q: row %d, feature %q: %v", what, r, s.schema.names[i], err)
		}
	}
}

// decodeInstances reads "instances" or "inputs": a list of records, a list
// of rows (lists of every feature in order), a list of values (a
// one-feature model), or columns {feature: [values]}.
func (s *Server) decodeInstances(sc *scanner, st *reqState, what string) *httpError {
	switch sc.peek() {
	case '{':
		return s.decodeColumnar(sc, st, what)
	case '[':
	default:
		return badRequest("%q must be a list of rows or an object of columns", what)
	}
	save := sc.i
	sc.i++
	first := sc.peek()
	sc.i = save
	switch first {
	case '{':
		return s.decodeRecordList(sc, st, what)
	case '[', ']':
		s.allColumns(st)
		return s.decodeRowLists(sc, st, strconv.Quote(what))
	}
	if s.schema.nf() != 1 {
		return badRequest("%q: each instance must be an object {feature: value} or a list of the %d features %s", what, s.schema.nf(), s.schema.list)
	}
	// One value per row.
	sc.i++
	for n := 0; ; n++ {
		ok, err := sc.more(']', n)
		if err != nil {
			return badRequest("%q: %v", what, err)
		}
		if !ok {
			return nil
		}
		if n >= s.opts.MaxRows {
			return s.tooManyRows(n + 1)
		}
		k, v, err := sc.elem()
		if err != nil {
			return badRequest("%q: %v", what, err)
		}
		st.t.addRows(1)
		if err := s.schema.set(&st.t, n, 0, k, v, false); err != nil {
			return badRequest("%q: row %d, feature %q: %v", what, n, s.schema.names[0], err)
		}
	}
}

// decodeColumnar reads {feature: [values], ...} or {feature: value, ...}
// (one row).
func (s *Server) decodeColumnar(sc *scanner, st *reqState, what string) *httpError {
	sc.i++ // '{'
	s.resetSeen(st)
	rows := -1
	for n := 0; ; n++ {
		ok, err := sc.more('}', n)
		if err != nil {
			return badRequest("%q: %v", what, err)
		}
		if !ok {
			break
		}
		key, err := sc.key()
		if err != nil {
			return badRequest("%q: %v", what, err)
		}
		i := s.schema.feature(key)
		if i < 0 {
			return s.unknownFeature(key)
		}
		if st.seen[i] {
			return badRequest("%q: feature %q appears twice", what, key)
		}
		st.seen[i] = true
		if sc.peek() != '[' {
			// A scalar: one row.
			if rows < 0 {
				st.t.addRows(1)
				rows = 1
			}
			if rows != 1 {
				return badRequest("%q: feature %q has 1 value but others have %d", what, s.schema.names[i], rows)
			}
			k, v, err := sc.elem()
			if err != nil {
				return badRequest("%q: %v", what, err)
			}
			if err := s.schema.set(&st.t, 0, i, k, v, false); err != nil {
				return badRequest("%q: row 0, feature %q: %v", what, s.schema.names[i], err)
			}
			continue
		}
		sc.i++
		r := 0
		for ; ; r++ {
			ok, err := sc.more(']', r)
			if err != nil {
				return badRequest("%q: feature %q: %v", what, s.schema.names[i], err)
			}
			if !ok {
				break
			}
			if rows < 0 {
				if r >= s.opts.MaxRows {
					return s.tooManyRows(r + 1)
				}
				st.t.addRows(1)
			} else if r >= rows {
				return badRequest("%q: feature %q has more values than the others (%d)", what, s.schema.names[i], rows)
			}
			k, v, err := sc.elem()
			if err != nil {
				return badRequest("%q: feature %q: %v", what, s.schema.names[i], err)
			}
			if err := s.schema.set(&st.t, r, i, k, v, false); err != nil {
				return badRequest("%q: row %d, feature %q: %v", what, r, s.schema.names[i], err)
			}
		}
		if rows < 0 {
			rows = r
		} else if r != rows {
			return badRequest("%q: feature %q has %d values but others have %d", what, s.schema.names[i], r, rows)
		}
	}
	return s.checkSeen(st)
}

// decodeCSV reads a CSV body with a header row, as pandas.read_csv would.
func (s *Server) decodeCSV(body []byte, st *reqState) *httpError {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(body))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return badRequest("the CSV body is empty; it needs a header row and at least one row")
	}
	if err != nil {
		return badRequest("CSV: %v", err)
	}
	st.cols = st.cols[:0]
	for _, h := range header {
		i := s.schema.feature([]byte(strings.TrimSpace(h)))
		if i < 0 {
			return s.unknownFeature([]byte(h))
		}
		if slices.Contains(st.cols, i) {
			return badRequest("column %q appears twice", h)
		}
		st.cols = append(st.cols, i)
	}
	if herr := s.checkCovered(st.cols); herr != nil {
		return herr
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return badRequest("CSV line %d: %v", pe.Line, pe.Err)
			}
			return badRequest("CSV: %v", err)
		}
		r := st.t.rows
		if r >= s.opts.MaxRows {
			return s.tooManyRows(r + 1)
		}
		st.t.addRows(1)
		for k, v := range rec {
			i := st.cols[k]
			if err := s.schema.setText(&st.t, r, i, v); err != nil {
				return badRequest("CSV row %d, feature %q: %v", r, s.schema.names[i], err)
			}
		}
	}
}

// encodeMLflow encodes {"predictions": [...]}: values for regression,
// labels for a classifier, or each row's class probabilities ([P(class 0),
// P(class 1), …]) with predict_method "predict_proba".
func (s *Server) encodeMLflow(b []byte, st *reqState) []byte {
	b = append(b, `{"predictions":[`...)
	for r := range st.t.rows {
		if r > 0 {
			b = append(b, ',')
		}
		switch {
		case !s.classifier:
			b = appendFloat(b, s.value(st, r))
		case st.proba:
			b = append(b, '[')
			b = s.appendProbs(b, st, r)
			b = append(b, ']')
		default:
			b = append(b, s.classJSON[s.class(st, r)]...)
		}
	}
	return append(b, "]}"...)
}
