package serve

import (
	"net/http"
	"strconv"
)

// maxRank bounds the rank of an input tensor.
const maxRank = 8

// v2Input is one decoded input tensor; its data is kept as a span of the
// body and decoded once the whole request is known.
type v2Input struct {
	nameLo, nameHi int // the name's raw text in the body
	feature        int // the feature named, or -1
	dt             dtype
	dtLo, dtHi     int
	shape          [maxRank]int64
	rank           int
	dataLo, dataHi int
	has            uint8
}

const (
	hasName uint8 = 1 << iota
	hasShape
	hasDatatype
	hasData
)

// Requested outputs.
const (
	wantPredict uint8 = 1 << iota
	wantProba
)

func (in *v2Input) name(body []byte) string { return string(body[in.nameLo:in.nameHi]) }

// decodeV2Request checks the headers of a V2 inference request and decodes
// its body into st.t.
func (s *Server) decodeV2Request(r *http.Request, st *reqState) *httpError {
	if r.Header.Get("Inference-Header-Content-Length") != "" {
		return errorf(http.StatusUnsupportedMediaType, "the binary tensor data extension is not supported; send JSON tensor data")
	}
	if mt := mediaType(r.Header.Get("Content-Type")); mt != "" && !isJSONType(mt) {
		return errorf(http.StatusUnsupportedMediaType, "unsupported Content-Type %q; send application/json", mt)
	}
	body, herr := s.readBody(r, st)
	if herr != nil {
		return herr
	}
	return s.decodeV2(body, st)
}

// decodeV2 decodes a V2 inference request body into st.t.
func (s *Server) decodeV2(body []byte, st *reqState) *httpError {
	sc := &st.sc
	sc.reset(body)
	st.inputs = st.inputs[:0]
	st.outputs = 0
	st.hasID = false
	st.t.reset(s.schema.nf())
	if err := sc.consume('{'); err != nil {
		return badRequest("%v", err)
	}
	seenInputs := false
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
		switch string(key) {
		case "id":
			k, v, err := sc.elem()
			if err != nil {
				return badRequest("%v", err)
			}
			if k != kString {
				return badRequest(`"id" must be a string, got %s`, k)
			}
			st.id = append(st.id[:0], v...)
			st.hasID = true
		case "inputs":
			if herr := s.decodeV2Inputs(sc, st); herr != nil {
				return herr
			}
			seenInputs = true
		case "outputs":
			if herr := s.decodeV2Outputs(sc, st); herr != nil {
				return herr
			}
		default: // "parameters" and extensions
			if err := sc.skip(1); err != nil {
				return badRequest("%v", err)
			}
		}
	}
	if err := sc.end(); err != nil {
		return badRequest("%v", err)
	}
	if !seenInputs || len(st.inputs) == 0 {
		return badRequest(`the request has no "inputs"`)
	}
	return s.v2Table(body, st)
}

func (s *Server) decodeV2Inputs(sc *scanner, st *reqState) *httpError {
	st.inputs = st.inputs[:0]
	if err := sc.consume('['); err != nil {
		return badRequest(`"inputs": %v`, err)
	}
	for n := 0; ; n++ {
		ok, err := sc.more(']', n)
		if err != nil {
			return badRequest(`"inputs": %v`, err)
		}
		if !ok {
			return nil
		}
		st.inputs = append(st.inputs, v2Input{feature: -1})
		in := &st.inputs[len(st.inputs)-1]
		if herr := s.decodeV2Input(sc, in, n); herr != nil {
			return herr
		}
	}
}

func (s *Server) decodeV2Input(sc *scanner, in *v2Input, n int) *httpError {
	if err := sc.consume('{'); err != nil {
		return badRequest("input %d: %v", n, err)
	}
	for k := 0; ; k++ {
		ok, err := sc.more('}', k)
		if err != nil {
			return badRequest("input %d: %v", n, err)
		}
		if !ok {
			break
		}
		key, err := sc.key()
		if err != nil {
			return badRequest("input %d: %v", n, err)
		}
		switch string(key) {
		case "name", "datatype":
			isName := key[0] == 'n'
			if sc.peek() != '"' {
				return badRequest("input %d: %q must be a string", n, key)
			}
			lo := sc.i + 1
			v, err := sc.str()
			if err != nil {
				return badRequest("input %d: %v", n, err)
			}
			if isName {
				in.nameLo, in.nameHi = lo, sc.i-1
				in.feature = s.schema.feature(v)
				in.has |= hasName
			} else {
				in.dtLo, in.dtHi = lo, sc.i-1
				in.dt = parseDtype(v)
				in.has |= hasDatatype
			}
		case "shape":
			if herr := decodeShape(sc, in, n); herr != nil {
				return herr
			}
			in.has |= hasShape
		case "data":
			lo, hi, err := sc.span()
			if err != nil {
				return badRequest("input %d: %v", n, err)
			}
			in.dataLo, in.dataHi = lo, hi
			in.has |= hasData
		default: // "parameters"
			if err := sc.skip(1); err != nil {
				return badRequest("input %d: %v", n, err)
			}
		}
	}
	for _, f := range []struct {
		bit  uint8
		name string
	}{{hasName, "name"}, {hasShape, "shape"}, {hasDatatype, "datatype"}, {hasData, "data"}} {
		if in.has&f.bit == 0 {
			return badRequest("input %d has no %q", n, f.name)
		}
	}
	return nil
}

func decodeShape(sc *scanner, in *v2Input, n int) *httpError {
	if err := sc.consume('['); err != nil {
		return badRequest(`input %d: "shape": %v`, n, err)
	}
	in.rank = 0
	for k := 0; ; k++ {
		ok, err := sc.more(']', k)
		if err != nil {
			return badRequest(`input %d: "shape": %v`, n, err)
		}
		if !ok {
			return nil
		}
		kd, v, err := sc.elem()
		if err != nil {
			return badRequest(`input %d: "shape": %v`, n, err)
		}
		d, perr := strconv.ParseInt(string(v), 10, 64)
		if kd != kNumber || perr != nil || d < 0 {
			return badRequest(`input %d: "shape" must hold non-negative integers`, n)
		}
		if in.rank == maxRank {
			return badRequest(`input %d: "shape" has more than %d dimensions`, n, maxRank)
		}
		in.shape[in.rank] = d
		in.rank++
	}
}

func (s *Server) decodeV2Outputs(sc *scanner, st *reqState) *httpError {
	st.outputs = 0
	if err := sc.consume('['); err != nil {
		return badRequest(`"outputs": %v`, err)
	}
	for n := 0; ; n++ {
		ok, err := sc.more(']', n)
		if err != nil {
			return badRequest(`"outputs": %v`, err)
		}
		if !ok {
			return nil
		}
		if err := sc.consume('{'); err != nil {
			return badRequest("output %d: %v", n, err)
		}
		named := false
		for k := 0; ; k++ {
			ok, err := sc.more('}', k)
			if err != nil {
				return badRequest("output %d: %v", n, err)
			}
			if !ok {
				break
			}
			key, err := sc.key()
			if err != nil {
				return badRequest("output %d: %v", n, err)
			}
			if string(key) != "name" {
				if err := sc.skip(1); err != nil {
					return badRequest("output %d: %v", n, err)
				}
				continue
			}
			kd, v, err := sc.elem()
			if err != nil {
				return badRequest("output %d: %v", n, err)
			}
			if kd != kString {
				return badRequest(`output %d: "name" must be a string`, n)
			}
			switch {
			case string(v) == outPredict:
				st.outputs |= wantPredict
			case string(v) == outProba && s.classifier:
				st.outputs |= wantProba
			default:
				return badRequest("output %d: unknown output %q; this model has %s", n, v, s.outputList())
			}
			named = true
		}
		if !named {
			return badRequest(`output %d has no "name"`, n)
		}
	}
}

func (s *Server) outputList() string {
	if s.classifier {
		return `"predict" and "predict_proba"`
	}
	return `"predict"`
}

// v2Table decodes the input tensors' data into st.t. The inputs are either
// one tensor per feature, named after it, of shape [N] or [N, 1], or one
// [N, F] tensor with the features in the model's order.
func (s *Server) v2Table(body []byte, st *reqState) *httpError {
	nf := s.schema.nf()
	named := true
	for i := range st.inputs {
		if st.inputs[i].feature < 0 {
			named = false
		}
	}
	if !named && len(st.inputs) > 1 {
		for i := range st.inputs {
			if in := &st.inputs[i]; in.feature < 0 {
				return badRequest("unknown input %q: send one input per feature, named %s, or a single [N, %d] tensor", in.name(body), s.schema.list, nf)
			}
		}
	}
	for i := range st.inputs {
		in := &st.inputs[i]
		switch in.dt {
		case dtUnsupported:
			return badRequest("input %q: datatype %s is not supported; use BOOL, FP16, FP32, FP64, INT*, UINT* or BYTES", in.name(body), body[in.dtLo:in.dtHi])
		case dtUnknown:
			return badRequest("input %q: unknown datatype %q", in.name(body), body[in.dtLo:in.dtHi])
		}
		if !in.dt.numeric() {
			continue
		}
		// A categorical feature's values are strings: BYTES.
		if named {
			if s.schema.isCat[in.feature] {
				return badRequest("input %q: feature %q is %s, so its datatype must be BYTES, not %s", in.name(body), s.schema.names[in.feature], s.schema.isKind(in.feature), in.dt)
			}
		} else if c := s.schema.firstCategorical(); c >= 0 {
			return badRequest("input %q: datatype %s cannot carry the %s feature %q; send a BYTES tensor (its elements may be numbers and strings) or one input per feature", in.name(body), in.dt, s.schema.kinds[c], s.schema.names[c])
		}
	}
	if !named {
		return s.v2Matrix(body, st, &st.inputs[0])
	}
	if len(st.inputs) != nf {
		seen := make([]bool, nf)
		for i := range st.inputs {
			seen[st.inputs[i].feature] = true
		}
		if herr := s.checkAll(seen, "input for feature"); herr != nil {
			return herr
		}
	}
	rows := int64(-1)
	for i := range st.inputs {
		in := &st.inputs[i]
		for j := range i {
			if st.inputs[j].feature == in.feature {
				return badRequest("input %q appears twice", in.name(body))
			}
		}
		if !(in.rank == 1 || (in.rank == 2 && in.shape[1] == 1)) {
			return badRequest("input %q has shape %s; a per-feature input has shape [N] or [N, 1]", in.name(body), shapeString(in))
		}
		if rows >= 0 && in.shape[0] != rows {
			return badRequest("input %q has %d rows but input %q has %d", in.name(body), in.shape[0], st.inputs[0].name(body), rows)
		}
		rows = in.shape[0]
	}
	if rows > int64(s.opts.MaxRows) {
		return s.tooManyRows(int(min(rows, 1<<40)))
	}
	st.t.addRows(int(rows))
	for i := range st.inputs {
		in := &st.inputs[i]
		c := cellSink{sc: &st.sc, schema: s.schema, t: &st.t, dt: in.dt, col: in.feature, total: int(rows)}
		if herr := c.decode(body, in); herr != nil {
			return herr
		}
	}
	return nil
}

func (s *Server) v2Matrix(body []byte, st *reqState, in *v2Input) *httpError {
	nf := s.schema.nf()
	var rows int64
	switch {
	case in.rank == 2 && in.shape[1] == int64(nf):
		rows = in.shape[0]
	case in.rank == 1 && nf == 1:
		rows = in.shape[0]
	default:
		return badRequest("input %q has shape %s; want [N, %d] with the features in order %s, or one input per feature", in.name(body), shapeString(in), nf, s.schema.list)
	}
	if rows > int64(s.opts.MaxRows) {
		return s.tooManyRows(int(min(rows, 1<<40)))
	}
	st.t.addRows(int(rows))
	c := cellSink{sc: &st.sc, schema: s.schema, t: &st.t, dt: in.dt, col: -1, total: int(rows) * nf}
	return c.decode(body, in)
}

func shapeString(in *v2Input) string {
	b := []byte{'['}
	for i := 0; i < in.rank; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, in.shape[i], 10)
	}
	return string(append(b, ']'))
}

// cellSink receives the elements of one tensor's data in row-major order.
type cellSink struct {
	sc     *scanner
	schema *schema
	t      *table
	dt     dtype
	col    int // the feature of a per-feature tensor, or -1 for [N, F]
	total  int // elements expected
	n      int // elements so far
	r, i   int // next cell of an [N, F] tensor
	// body and in are the request and the tensor, for error messages.
	body []byte
	in   *v2Input
}

func (c *cellSink) decode(body []byte, in *v2Input) *httpError {
	c.body, c.in = body, in
	c.sc.reset(body[:in.dataHi])
	c.sc.i = in.dataLo
	if c.sc.peek() != '[' {
		return badRequest("input %q: \"data\" must be an array", in.name(body))
	}
	if err := c.flatten(1); err != nil {
		if herr, ok := err.(*httpError); ok {
			return herr
		}
		return badRequest("input %q: %v", in.name(body), err)
	}
	if c.n != c.total {
		return badRequest("input %q has %d elements but its shape %s needs %d", in.name(body), c.n, shapeString(in), c.total)
	}
	return nil
}

// flatten reads a (possibly nested) array of elements.
func (c *cellSink) flatten(depth int) error {
	if depth > maxRank {
		return c.sc.fail("data nested deeper than the tensor's rank allows")
	}
	c.sc.i++ // '['
	for n := 0; ; n++ {
		ok, err := c.sc.more(']', n)
		if err != nil || !ok {
			return err
		}
		tok := c.sc.peek()
		k, v, err := c.sc.elem()
		if err != nil {
			return err
		}
		if k == kArray {
			if err := c.flatten(depth + 1); err != nil {
				return err
			}
			continue
		}
		if c.n >= c.total {
			return badRequest("the data has more elements than the shape says")
		}
		r, i := c.n, c.col
		if c.col < 0 {
			r, i = c.r, c.i
			if c.i++; c.i == c.t.nf {
				c.i = 0
				c.r++
			}
		}
		if c.dt == dtBool && k == kBool {
			// true and false are 1 and 0 of a numeric feature (a
			// categorical one needs BYTES: see v2Table).
			c.t.num[r*c.t.nf+i] = 0
			if tok == 't' {
				c.t.num[r*c.t.nf+i] = 1
			}
			c.n++
			continue
		}
		if err := c.schema.set(c.t, r, i, k, v, c.dt.numeric()); err != nil {
			return badRequest("row %d, feature %q: %v", r, c.schema.names[i], err)
		}
		if k == kNumber && c.dt.numeric() {
			if err := c.dt.check(c.t.num[r*c.t.nf+i], v); err != nil {
				return badRequest("input %q, element %d (row %d, feature %q): %v", c.in.name(c.body), c.n, r, c.schema.names[i], err)
			}
		}
		c.n++
	}
}

// encodeV2 encodes the inference response.
func (s *Server) encodeV2(b []byte, st *reqState) []byte {
	want := st.outputs
	if want == 0 {
		want = wantPredict
		if s.classifier {
			want |= wantProba
		}
	}
	n := st.t.rows
	b = append(b, s.v2Prefix...)
	if st.hasID {
		b = append(b, `,"id":`...)
		b = appendString(b, st.id)
	}
	b = append(b, `,"outputs":[`...)
	first := true
	if want&wantPredict != 0 {
		first = false
		b = append(b, `{"name":"predict","datatype":`...)
		if s.classifier {
			b = append(b, `"BYTES"`...)
		} else {
			b = append(b, `"FP64"`...)
		}
		b = append(b, `,"shape":[`...)
		b = appendInt(b, n)
		b = append(b, `],"data":[`...)
		for r := range n {
			if r > 0 {
				b = append(b, ',')
			}
			if s.classifier {
				b = append(b, s.classJSON[s.class(st, r)]...)
			} else {
				b = appendFloat(b, s.value(st, r))
			}
		}
		b = append(b, "]}"...)
	}
	if want&wantProba != 0 {
		if !first {
			b = append(b, ',')
		}
		b = append(b, `{"name":"predict_proba","datatype":"FP64","shape":[`...)
		b = appendInt(b, n)
		b = append(b, ',')
		b = appendInt(b, s.classes)
		b = append(b, `],"data":[`...)
		for r := range n {
			if r > 0 {
				b = append(b, ',')
			}
			b = s.appendProbs(b, st, r)
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}
