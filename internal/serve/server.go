package serve

import (
	"github.com/modelci/modelci/internal/revision"

	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/profile"
)

// Output tensor names, as MLServer's scikit-learn runtime names them.
const (
	outPredict = "predict"
	outProba   = "predict_proba"
)

// maxPooledBody is the largest request buffer kept for reuse.
const maxPooledBody = 4 << 20

// Options configure a Server.
type Options struct {
	// MaxBodyBytes bounds a request body (default 16 MiB).
	MaxBodyBytes int64
	// MaxRows bounds the rows of a request (default 100000).
	MaxRows int
	// MaxInflightBytes bounds the bytes of the request bodies handled at
	// once (default DefaultInflightFactor × MaxBodyBytes); a request that
	// does not fit gets 503 with Retry-After.
	MaxInflightBytes int64
	// FreeOSMemory returns freed memory to the operating system; it is
	// called at most once a second after requests too large to pool
	// (default debug.FreeOSMemory).
	FreeOSMemory func()
	// DriftWindow is the number of recent rows the drift gauges cover;
	// 0 turns drift off.
	DriftWindow int
	// PredictionLog is a file path, "-" for Stdout, or "" for none.
	PredictionLog         string
	PredictionLogSample   float64
	PredictionLogMaxBytes int64
	// Stdout receives the prediction log when PredictionLog is "-".
	Stdout io.Writer
	// Logger receives the server's own log (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand returns a uniform number in [0, 1) for sampling (default
	// math/rand/v2).
	Rand func() float64
}

// Server answers the KServe V2 and MLflow scoring protocols for one model,
// and serves its metrics. It is an http.Handler.
type Server struct {
	m          *model.Model
	pred       *model.Predictor
	schema     *schema
	version    string
	classifier bool
	// k is the number of raw scores per row (the program's outputs), and
	// classes the number of classes of a classifier.
	k, classes int
	// linear: one linear score, computed from raw values without encoding
	// the row (Predictor.Score); otherwise rows are encoded and scored by
	// the program.
	linear bool
	opts   Options

	ready   atomic.Bool
	metrics *metrics
	mon     *monitor
	plog    *predictionLog
	promh   http.Handler
	mux     *http.ServeMux
	pool    sync.Pool
	limit   *inflight
	mem     *memoryReleaser

	jsonCT, textCT []string
	// Pre-encoded response parts.
	v2Prefix   []byte   // {"model_name":…,"model_version":…
	classJSON  [][]byte // JSON strings of the class labels
	serverMeta []byte
	modelMeta  []byte
	modelReady []byte
	logPrefix  []byte
	logKeys    [][]byte
}

// reqState is the reusable scratch space of one request.
type reqState struct {
	body []byte
	sc   scanner
	t    table
	// scores holds the k raw scores of every row, row after row.
	scores []float64
	// x holds a chunk of encoded rows, unseen their unseen categories, and
	// probs a row's class probabilities.
	x, probs []float64
	unseen   []int
	out      []byte
	tally    tally
	id       []byte
	hasID    bool
	ts       []byte
	// V2 request parts.
	inputs  []v2Input
	outputs uint8
	// MLflow request parts.
	cols  []int
	seen  []bool
	proba bool
	// unknown counts unseen categories per feature.
	unknown []int64
}

// Version returns the version under which a model is served: the first 12
// hex digits of its model.json checksum.
func Version(m *model.Model) string {
	v := revision.Short(strings.TrimPrefix(m.Checksum, "sha256:"))
	if v == "" {
		v = "0"
	}
	return v
}

// New prepares a server for a loaded model and its training profile (nil:
// no drift monitoring).
func New(m *model.Model, prof *profile.Profile, o Options) (*Server, error) {
	pred, err := model.NewPredictor(m)
	if err != nil {
		return nil, err
	}
	def := DefaultConfig()
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = def.MaxBodyBytes
	}
	if o.MaxRows <= 0 {
		o.MaxRows = def.MaxRows
	}
	o.MaxInflightBytes = inflightBudget(o.MaxInflightBytes, o.MaxBodyBytes)
	if o.FreeOSMemory == nil {
		o.FreeOSMemory = debug.FreeOSMemory
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.PredictionLogSample <= 0 || o.PredictionLogSample > 1 {
		o.PredictionLogSample = 1
	}
	if o.PredictionLogMaxBytes <= 0 {
		o.PredictionLogMaxBytes = def.PredictionLogMaxBytes
	}
	if prof != nil {
		if err := checkProfile(m, prof); err != nil {
			return nil, err
		}
	}
	s := &Server{
		m:          m,
		pred:       pred,
		schema:     newSchema(m),
		version:    Version(m),
		classifier: m.IsClassifier(),
		k:          pred.Outputs(),
		classes:    len(m.Classes),
		linear:     pred.SingleLinear(),
		opts:       o,
		jsonCT:     []string{"application/json"},
		textCT:     []string{"text/plain; charset=utf-8"},
		limit:      newInflight(o.MaxInflightBytes),
		mem:        &memoryReleaser{interval: time.Second, free: o.FreeOSMemory, after: time.AfterFunc},
	}
	s.mon = newMonitor(m, prof, o.DriftWindow)
	s.metrics, err = newMetrics(m, s.version, s.mon)
	if err != nil {
		return nil, err
	}
	s.promh = promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{o.Logger}})
	s.mux = s.newMux()
	if o.PredictionLog != "" {
		s.plog, err = openPredictionLog(o.PredictionLog, o.PredictionLogSample, o.PredictionLogMaxBytes, o.Stdout, o.Rand, s.metrics.logDropped, o.Logger)
		if err != nil {
			return nil, err
		}
	}
	if err := s.encodeConstants(); err != nil {
		return nil, err
	}
	s.pool.New = func() any {
		st := &reqState{tally: s.mon.newTally(), unknown: make([]int64, len(m.Features))}
		return st
	}
	s.ready.Store(true)
	return s, nil
}

// checkProfile checks that the profile describes the model's features
// with the same types.
func checkProfile(m *model.Model, prof *profile.Profile) error {
	for _, f := range m.Features {
		pf, ok := prof.Get(f.Name)
		if !ok {
			continue
		}
		if pf.Type != f.Type {
			return fmt.Errorf("%w: %s describes feature %q as %s but %s has it %s", model.ErrCorrupt, model.FileProfile, f.Name, pf.Type, model.FileModel, f.Type)
		}
	}
	return nil
}

func (s *Server) encodeConstants() error {
	var b []byte
	b = append(b, `{"model_name":`...)
	b = appendString(b, s.m.Name)
	b = append(b, `,"model_version":`...)
	b = appendString(b, s.version)
	s.v2Prefix = b
	for _, c := range s.m.Classes {
		s.classJSON = append(s.classJSON, appendString(nil, c))
	}
	var lp []byte
	lp = append(lp, `","model":`...)
	lp = appendString(lp, s.m.Name)
	lp = append(lp, `,"version":`...)
	lp = appendString(lp, s.version)
	lp = append(lp, `,"protocol":"`...)
	s.logPrefix = lp
	for _, n := range s.schema.names {
		k := appendString(nil, n)
		s.logKeys = append(s.logKeys, append(k, ':'))
	}

	type tensor struct {
		Name     string `json:"name"`
		Datatype string `json:"datatype"`
		Shape    []int  `json:"shape"`
	}
	inputs := make([]tensor, len(s.m.Features))
	for i, f := range s.m.Features {
		dt := "FP64"
		if f.IsText() {
			dt = "BYTES"
		}
		inputs[i] = tensor{Name: f.Name, Datatype: dt, Shape: []int{-1}}
	}
	outputs := []tensor{{Name: outPredict, Datatype: "FP64", Shape: []int{-1}}}
	if s.classifier {
		outputs = []tensor{
			{Name: outPredict, Datatype: "BYTES", Shape: []int{-1}},
			{Name: outProba, Datatype: "FP64", Shape: []int{-1, len(s.m.Classes)}},
		}
	}
	meta := struct {
		Name       string            `json:"name"`
		Versions   []string          `json:"versions"`
		Platform   string            `json:"platform"`
		Inputs     []tensor          `json:"inputs"`
		Outputs    []tensor          `json:"outputs"`
		Properties map[string]string `json:"properties"`
	}{
		Name:     s.m.Name,
		Versions: []string{s.version},
		Platform: "modelci_" + s.m.Algorithm,
		Inputs:   inputs,
		Outputs:  outputs,
		Properties: map[string]string{
			"task":         s.m.Task,
			"target":       s.m.Target,
			"checksum":     s.m.Checksum,
			"matrix_input": fmt.Sprintf("or one [N, %d] tensor with the features in this order", len(inputs)),
		},
	}
	if s.classifier {
		meta.Properties["classes"] = strings.Join(s.m.Classes, ",")
	}
	var err error
	if s.modelMeta, err = json.Marshal(meta); err != nil {
		return fmt.Errorf("encode model metadata: %w", err)
	}
	if s.serverMeta, err = json.Marshal(struct {
		Name       string   `json:"name"`
		Version    string   `json:"version"`
		Extensions []string `json:"extensions"`
	}{"modelci", buildVersion(), []string{}}); err != nil {
		return fmt.Errorf("encode server metadata: %w", err)
	}
	s.modelReady = appendString([]byte(`{"name":`), s.m.Name)
	return nil
}

// buildVersion reports the version the binary was built from (versionOf).
func buildVersion() string {
	return versionOf(debug.ReadBuildInfo())
}

// SetReady sets what the readiness endpoints report. Shutdown turns it
// false before it stops accepting connections.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Ready reports the readiness.
func (s *Server) Ready() bool { return s.ready.Load() }

// Close flushes and closes the prediction log. Call it after the HTTP
// server has drained.
func (s *Server) Close() error {
	if s.plog != nil {
		return s.plog.close()
	}
	return nil
}

// ServeHTTP routes a request with the mux that routes builds.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// route is one endpoint: a ServeMux pattern without its method, the
// method, the protocol its errors answer in, and the handler. The
// endpoints listed in doc.go are exactly these (TestDocListsTheRoutes).
type route struct {
	method, path string
	proto        protocol
	handle       http.HandlerFunc
}

func (s *Server) routes() []route {
	v2 := func(method, path string, h http.HandlerFunc) route { return route{method, path, protoV2, h} }
	mlflow := func(method, path string, h http.HandlerFunc) route { return route{method, path, protoMLflow, h} }
	return []route{
		v2("GET", "/v2", s.serverMetadata),
		v2("GET", "/v2/{$}", s.serverMetadata),
		v2("GET", "/v2/health/live", func(w http.ResponseWriter, _ *http.Request) {
			s.writeJSON(w, http.StatusOK, []byte(`{"live":true}`))
		}),
		v2("GET", "/v2/health/ready", s.serverReady),
		v2("GET", "/v2/models/{name}", s.forModel(s.modelMetadata)),
		v2("GET", "/v2/models/{name}/versions/{version}", s.forModel(s.modelMetadata)),
		v2("GET", "/v2/models/{name}/ready", s.forModel(s.modelReadiness)),
		v2("GET", "/v2/models/{name}/versions/{version}/ready", s.forModel(s.modelReadiness)),
		v2("POST", "/v2/models/{name}/infer", s.forModel(func(w http.ResponseWriter, r *http.Request) { s.infer(w, r, protoV2) })),
		v2("POST", "/v2/models/{name}/versions/{version}/infer", s.forModel(func(w http.ResponseWriter, r *http.Request) { s.infer(w, r, protoV2) })),
		mlflow("POST", "/invocations", func(w http.ResponseWriter, r *http.Request) { s.infer(w, r, protoMLflow) }),
		mlflow("GET", "/ping", s.health),
		mlflow("GET", "/health", s.health),
		mlflow("GET", "/version", func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Content-Type"] = s.textCT
			io.WriteString(w, buildVersion()+"\n")
		}),
		v2("GET", "/metrics", s.promh.ServeHTTP),
	}
}

// newMux registers every route twice: "METHOD path" for its handler, and
// the bare path for a 405 in the route's protocol (ServeMux's own 405 has a
// text body). GET patterns match HEAD too. Anything else is a V2 404.
func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.method+" "+rt.path, rt.handle)
		allow, proto := rt.method, rt.proto
		mux.HandleFunc(rt.path, func(w http.ResponseWriter, _ *http.Request) { s.methodNotAllowed(w, proto, allow) })
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, protoV2, errorf(http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// forModel answers 404 unless the path names this server's model (and, if
// it names one, its version), then calls h.
func (s *Server) forModel(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if name := r.PathValue("name"); name != s.m.Name {
			s.writeError(w, protoV2, errorf(http.StatusNotFound, "model %q not found; this server serves %q", name, s.m.Name))
			return
		}
		if version := r.PathValue("version"); version != "" && version != s.version {
			s.writeError(w, protoV2, errorf(http.StatusNotFound, "model %q has no version %q; its version is %q", s.m.Name, version, s.version))
			return
		}
		h(w, r)
	}
}

func (s *Server) serverMetadata(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, s.serverMeta)
}

func (s *Server) serverReady(w http.ResponseWriter, _ *http.Request) {
	if s.Ready() {
		s.writeJSON(w, http.StatusOK, []byte(`{"ready":true}`))
	} else {
		s.writeJSON(w, http.StatusServiceUnavailable, []byte(`{"ready":false}`))
	}
}

func (s *Server) modelMetadata(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, s.modelMeta)
}

func (s *Server) modelReadiness(w http.ResponseWriter, _ *http.Request) {
	if s.Ready() {
		s.writeJSON(w, http.StatusOK, append(s.modelReady[:len(s.modelReady):len(s.modelReady)], `,"ready":true}`...))
	} else {
		s.writeJSON(w, http.StatusServiceUnavailable, append(s.modelReady[:len(s.modelReady):len(s.modelReady)], `,"ready":false}`...))
	}
}

// health answers MLflow's /ping and /health: 200, or 503 while shutting
// down.
func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Content-Type"] = s.textCT
	if !s.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	io.WriteString(w, "\n")
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header()["Content-Type"] = s.jsonCT
	if code != http.StatusOK {
		w.WriteHeader(code)
	}
	w.Write(body)
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, p protocol, allow string) {
	w.Header().Set("Allow", allow)
	s.writeError(w, p, errorf(http.StatusMethodNotAllowed, "method not allowed; use %s", allow))
}

// writeError answers {"error": msg} (V2) or MLflow's
// {"error_code": …, "message": msg}.
func (s *Server) writeError(w http.ResponseWriter, p protocol, e *httpError) {
	var b []byte
	if p == protoMLflow {
		b = append(b, `{"error_code":`...)
		b = appendString(b, mlflowErrorCode(e.code))
		b = append(b, `,"message":`...)
	} else {
		b = append(b, `{"error":`...)
	}
	b = appendString(b, e.msg)
	b = append(b, "}\n"...)
	s.writeJSON(w, e.code, b)
}

func mlflowErrorCode(code int) string {
	switch code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return "BAD_REQUEST"
	case http.StatusNotFound:
		return "ENDPOINT_NOT_FOUND"
	case http.StatusServiceUnavailable:
		return "TEMPORARILY_UNAVAILABLE"
	case http.StatusMethodNotAllowed:
		return "INVALID_PARAMETER_VALUE"
	}
	return "INTERNAL_ERROR"
}

// infer answers an inference request and records its metrics. The
// request first reserves its body's bytes in the in-flight budget (see
// inflight); past the budget it is answered 503 with Retry-After at once,
// without reading the body.
func (s *Server) infer(w http.ResponseWriter, r *http.Request, p protocol) {
	start := s.opts.Now()
	n := bodyWeight(r, s.opts.MaxBodyBytes)
	if !s.limit.tryAcquire(n) {
		w.Header().Set("Retry-After", "1")
		s.writeError(w, p, busy(n, s.limit.max))
		s.metrics.observe(p, http.StatusServiceUnavailable, 0, s.opts.Now().Sub(start))
		return
	}
	defer s.limit.release(n)
	st := s.pool.Get().(*reqState)
	code, rows := s.inferState(w, r, st, p)
	s.metrics.observe(p, code, rows, s.opts.Now().Sub(start))
	if cap(st.body) <= maxPooledBody && cap(st.out) <= maxPooledBody {
		st.t.reset(0)
		s.pool.Put(st)
	} else {
		// Too large to keep: let the GC have it and hand the pages back
		// to the OS once the burst is over.
		s.mem.note()
	}
}

// inferState decodes, scores and encodes one inference request, logs its
// predictions and writes the answer; it returns the status and the rows
// scored.
func (s *Server) inferState(w http.ResponseWriter, r *http.Request, st *reqState, p protocol) (code, rows int) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.opts.Logger.Error("panic while answering a request", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			s.writeError(w, p, errorf(http.StatusInternalServerError, "internal error"))
			code, rows = http.StatusInternalServerError, 0
		}
	}()
	var herr *httpError
	if p == protoV2 {
		herr = s.decodeV2Request(r, st)
	} else {
		herr = s.decodeMLflowRequest(r, st)
	}
	if herr == nil {
		herr = s.score(st)
	}
	if herr != nil {
		s.writeError(w, p, herr)
		return herr.code, 0
	}
	if p == protoV2 {
		st.out = s.encodeV2(st.out[:0], st)
	} else {
		st.out = s.encodeMLflow(st.out[:0], st)
	}
	s.logPredictions(st, p)
	s.writeJSON(w, http.StatusOK, st.out)
	return http.StatusOK, st.t.rows
}

// readBody reads the request body into st.body, bounded by MaxBodyBytes.
func (s *Server) readBody(r *http.Request, st *reqState) ([]byte, *httpError) {
	limit := s.opts.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, tooLarge(r.ContentLength, limit)
	}
	buf := st.body[:0]
	if r.ContentLength >= 0 && int64(cap(buf)) < r.ContentLength+1 {
		buf = make([]byte, 0, r.ContentLength+1)
	}
	for {
		if len(buf) == cap(buf) {
			// Grow, but never past limit+1: one byte over is enough to
			// know the body is too large.
			nb := make([]byte, len(buf), min(max(2*int64(cap(buf)), 4096), limit+1))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			st.body = buf[:0]
			return nil, tooLarge(-1, limit)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			st.body = buf[:0]
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge(-1, limit)
			}
			return nil, badRequest("read request body: %v", err)
		}
	}
	st.body = buf
	return buf, nil
}

func tooLarge(n, limit int64) *httpError {
	if n > 0 {
		return errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes exceeds the limit of %d bytes", n, limit)
	}
	return errorf(http.StatusRequestEntityTooLarge, "request body exceeds the limit of %d bytes", limit)
}

func (s *Server) tooManyRows(n int) *httpError {
	return errorf(http.StatusRequestEntityTooLarge, "request has %d rows, more than the limit of %d", n, s.opts.MaxRows)
}

// mediaType returns the media type of a Content-Type header, lower case,
// without parameters.
func mediaType(ct string) string {
	if ct == "application/json" || ct == "" {
		return ct
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

func isJSONType(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// score scores every row of st.t into st.scores and counts the rows for
// the monitor and the metrics. A row the model cannot score fails the
// request.
func (s *Server) score(st *reqState) *httpError {
	t := &st.t
	if t.rows == 0 {
		return badRequest("no rows to score")
	}
	k := s.k
	if cap(st.scores) < t.rows*k {
		st.scores = make([]float64, t.rows*k)
	}
	st.scores = st.scores[:t.rows*k]
	if len(st.probs) != s.classes {
		st.probs = make([]float64, s.classes)
	}
	st.tally.reset()
	var herr *httpError
	if s.linear {
		herr = s.scoreLinear(st)
	} else {
		herr = s.scoreProgram(st)
	}
	if herr != nil {
		return herr
	}
	s.mon.add(&st.tally)
	for i, n := range st.unknown {
		if n > 0 {
			s.metrics.unknown[i].Add(float64(n))
			st.unknown[i] = 0
		}
	}
	return nil
}

// scoreLinear scores a single linear score row by row from the raw values.
func (s *Server) scoreLinear(st *reqState) *httpError {
	t := &st.t
	for r := 0; r < t.rows; r++ {
		num, str := t.row(r)
		score, unknown, err := s.pred.Score(num, str)
		if err != nil {
			return badRequest("row %d: %v", r, err)
		}
		st.scores[r] = score
		if herr := s.scored(st, r, unknown); herr != nil {
			return herr
		}
	}
	return nil
}

// scoreChunk is the number of rows the program scores at once: its batch
// walk visits every tree for all of them, which is several times faster
// than one row at a time.
const scoreChunk = 64

// scoreProgram encodes the rows scoreChunk at a time and scores each chunk
// with the program.
func (s *Server) scoreProgram(st *reqState) *httpError {
	t := &st.t
	enc, prog := s.pred.Encoder(), s.pred.Program()
	w, k := enc.Width(), s.k
	if len(st.x) != scoreChunk*w {
		st.x = make([]float64, scoreChunk*w)
	}
	if cap(st.unseen) < scoreChunk {
		st.unseen = make([]int, 0, scoreChunk)
	}
	unknown := st.unseen
	for lo := 0; lo < t.rows; lo += scoreChunk {
		hi := min(lo+scoreChunk, t.rows)
		unknown = unknown[:0]
		for r := lo; r < hi; r++ {
			num, str := t.row(r)
			u, err := enc.EncodeRow(num, str, st.x[(r-lo)*w:(r-lo+1)*w])
			if err != nil {
				return badRequest("row %d: %v", r, err)
			}
			unknown = append(unknown, u)
		}
		prog.RawRows(st.x[:(hi-lo)*w], hi-lo, st.scores[lo*k:hi*k])
		for r := lo; r < hi; r++ {
			if herr := s.scored(st, r, unknown[r-lo]); herr != nil {
				return herr
			}
		}
	}
	return nil
}

// scored checks row r's scores, counts its unseen categories and hands
// it to the monitor.
func (s *Server) scored(st *reqState, r, unknown int) *httpError {
	raw := s.rowScores(st, r)
	for _, v := range raw {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return badRequest("row %d: the prediction is not finite; an input is out of range", r)
		}
	}
	num, str := st.t.row(r)
	if unknown > 0 {
		s.countUnknown(st, str)
	}
	s.mon.row(&st.tally, num, str, s.monitored(st, raw))
	return nil
}

// countUnknown finds which categorical values of a row were not seen in
// training.
func (s *Server) countUnknown(st *reqState, str []string) {
	enc := s.pred.Encoder()
	for i, cat := range s.schema.isCat {
		if !cat || s.m.Features[i].Type != model.Categorical {
			continue
		}
		if j, err := enc.Category(i, str[i]); err == nil && j < 0 && !model.IsMissing(str[i]) {
			st.unknown[i]++
		}
	}
}

// logPredictions writes the sampled rows of a scored request to the
// prediction log.
func (s *Server) logPredictions(st *reqState, p protocol) {
	if s.plog == nil {
		return
	}
	b, rows := s.logLines(nil, st, p, s.opts.Now())
	s.plog.enqueue(b, rows)
}

// monitored is the value of a row's prediction that the monitor's
// prediction drift follows, as the training profile recorded it: the
// prediction (regression), P(Classes[1]) (binary), the predicted class's
// probability (multiclass; see model.Confidence).
func (s *Server) monitored(st *reqState, raw []float64) float64 {
	switch {
	case !s.classifier:
		return s.pred.Program().Prediction(raw)
	case s.classes == 2:
		return model.Sigmoid(raw[0])
	}
	s.pred.Program().Probabilities(raw, st.probs)
	return model.Confidence(st.probs)
}

// rowScores returns row r's raw scores.
func (s *Server) rowScores(st *reqState, r int) []float64 {
	return st.scores[r*s.k : (r+1)*s.k]
}

// value returns a regression's prediction of row r: its raw score
// through the model's link (identity, or exp and sigmoid for imported
// models).
func (s *Server) value(st *reqState, r int) float64 {
	return s.pred.Program().Prediction(s.rowScores(st, r))
}

// class returns the predicted class index of row r.
func (s *Server) class(st *reqState, r int) int {
	return s.pred.Program().Class(s.rowScores(st, r))
}

// appendProbs appends the class probabilities of row r, comma-separated,
// in the order of the model's classes.
func (s *Server) appendProbs(b []byte, st *reqState, r int) []byte {
	s.pred.Program().Probabilities(s.rowScores(st, r), st.probs)
	for j, p := range st.probs {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendFloat(b, p)
	}
	return b
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

// slogPrinter adapts a slog.Logger to promhttp's error logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Error(fmt.Sprint(v...)) }
