package serve

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/profile"
)

// Protocols, the "protocol" label of the inference metrics.
type protocol int

const (
	protoV2 protocol = iota
	protoMLflow
	nProtocols
)

func (p protocol) String() string {
	if p == protoV2 {
		return "v2"
	}
	return "mlflow"
}

// driftMinRows is the sample the PSI gauges need before they are exported:
// over fewer rows PSI measures sampling noise, not drift (after 9 rows a
// stable feature reads 7.8). A window smaller than this needs to be full.
const driftMinRows = 500

// metrics holds the Prometheus metrics of one server, in its own registry.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	ok       [nProtocols]prometheus.Counter
	duration [nProtocols]prometheus.Observer
	rows     [nProtocols]prometheus.Counter
	// unknown counts unseen categories per feature (nil for numeric
	// features).
	unknown    []prometheus.Counter
	logDropped prometheus.Counter
	// model is the model label of the requests counted on error codes.
	model string
}

func newMetrics(m *model.Model, version string, mon *monitor) (*metrics, error) {
	name := m.Name
	reg := prometheus.NewRegistry()
	mt := &metrics{
		reg:   reg,
		model: name,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelci_inference_requests_total",
			Help: "Inference requests answered, by protocol (v2: KServe Open Inference Protocol, mlflow: /invocations) and HTTP status code.",
		}, []string{"model", "protocol", "code"}),
		unknown: make([]prometheus.Counter, len(m.Features)),
	}
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "modelci_inference_request_duration_seconds",
		Help:    "Time to answer an inference request, from the start of the handler to the last byte written.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"model", "protocol"})
	rows := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelci_inference_rows_total",
		Help: "Rows scored by successful inference requests.",
	}, []string{"model", "protocol"})
	unknown := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelci_unknown_categories_total",
		Help: "Categorical values not seen in training; they are encoded as all zeros, as in training.",
	}, []string{"model", "feature"})
	mt.logDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name:        "modelci_prediction_log_dropped_rows_total",
		Help:        "Sampled rows not written to the prediction log because its queue was full.",
		ConstLabels: prometheus.Labels{"model": name},
	})
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "modelci_model_info",
		Help:        "The model being served (always 1).",
		ConstLabels: prometheus.Labels{"model": name, "version": version, "algorithm": m.Algorithm, "task": m.Task},
	})
	info.Set(1)
	for p := range nProtocols {
		proto := p.String()
		mt.ok[p] = mt.requests.WithLabelValues(name, proto, "200")
		mt.duration[p] = duration.WithLabelValues(name, proto)
		mt.rows[p] = rows.WithLabelValues(name, proto)
	}
	for i, f := range m.Features {
		if f.Type == model.Categorical {
			mt.unknown[i] = unknown.WithLabelValues(name, f.Name)
		}
	}
	for _, c := range []prometheus.Collector{
		mt.requests, duration, rows, unknown, mt.logDropped, info, mon,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return mt, nil
}

// observe records one inference request.
func (mt *metrics) observe(p protocol, code, rows int, d time.Duration) {
	if code == 200 {
		mt.ok[p].Inc()
		mt.rows[p].Add(float64(rows))
	} else {
		mt.requests.WithLabelValues(mt.model, p.String(), strconv.Itoa(code)).Inc()
	}
	mt.duration[p].Observe(d.Seconds())
}

// monitor accumulates what the scored rows look like: a histogram of the
// predictions since start, and bucket counts of every feature (and of the
// prediction) over the last window rows, from which it computes PSI
// against the training profile when Prometheus scrapes.
//
// Requests add their histogram counts, gathered without locks while
// scoring, to one of several shards chosen at random, so concurrent
// requests rarely wait on each other. The window is a ring of the last
// window rows' bucket indices with the counts over it: a request writes
// its rows (at most the last window of them) over the oldest ones,
// subtracting what they counted.
type monitor struct {
	// feats are the features with a training profile.
	feats []monFeature
	pred  *profile.Feature // nil without a profile of the predictions
	// predOff is the offset of the prediction's buckets in the window.
	predOff int
	// width is the number of window counters.
	width int
	drift bool
	// slots is the number of buckets a row takes in the window: one per
	// feature in feats, and one for the prediction.
	slots int
	// size is the window's length in rows; minRows the rows the PSI
	// gauges need.
	size, minRows int
	// bounds are the upper bounds of the prediction histogram.
	bounds []float64

	shards []monShard

	mu sync.Mutex
	// ring holds the window's rows, slots counter indices each; it grows
	// to size rows, then head is the oldest row, overwritten next.
	ring   []uint32
	head   int
	counts []int64 // the window's counters, width of them

	histDesc, featDesc, predDesc, rowsDesc *prometheus.Desc
}

type monFeature struct {
	index int // position in the model's features
	prof  *profile.Feature
	off   int // offset of its buckets in the window
	cat   bool
}

type monShard struct {
	mu    sync.Mutex
	hist  []uint64
	sum   float64
	count uint64
	_     [64]byte // keep shards on separate cache lines
}

// tally is one request's share of the monitor's counts. bins holds the
// window counter indices of its rows, slots per row, as a ring of at most
// the window's size: a request longer than the window keeps its last rows.
type tally struct {
	bins []uint32
	hist []uint64
	sum  float64
	rows int64
}

func newMonitor(m *model.Model, prof *profile.Profile, window int) *monitor {
	mon := &monitor{}
	if prof != nil && window > 0 {
		mon.drift = true
		for i, f := range m.Features {
			pf, ok := prof.Get(f.Name)
			if !ok {
				continue
			}
			mon.feats = append(mon.feats, monFeature{index: i, prof: pf, off: mon.width, cat: f.Type == model.Categorical})
			mon.width += pf.Buckets()
		}
		if prof.Prediction != nil && prof.Prediction.Type == profile.Numeric {
			mon.pred = prof.Prediction
			mon.predOff = mon.width
			mon.width += prof.Prediction.Buckets()
		}
		mon.slots = len(mon.feats)
		if mon.pred != nil {
			mon.slots++
		}
		if mon.slots == 0 { // nothing profiled: count rows in one counter
			mon.slots, mon.width = 1, 1
		}
		mon.size = window
		mon.minRows = min(window, driftMinRows)
		mon.counts = make([]int64, mon.width)
	}
	mon.bounds = predictionBounds(m, prof)
	mon.shards = make([]monShard, 4*runtime.GOMAXPROCS(0))
	for i := range mon.shards {
		mon.shards[i].hist = make([]uint64, len(mon.bounds)+1)
	}
	labels := prometheus.Labels{"model": m.Name}
	mon.histDesc = prometheus.NewDesc("modelci_prediction_value",
		"Predicted values (regression) or probabilities of the positive class (classification); for regression the buckets are the training predictions' deciles.",
		nil, labels)
	mon.featDesc = prometheus.NewDesc("modelci_feature_drift_psi",
		"Population stability index of each feature over the drift window against the training profile (< 0.1 stable, 0.1-0.25 moderate, >= 0.25 significant shift).",
		[]string{"feature"}, labels)
	mon.predDesc = prometheus.NewDesc("modelci_prediction_drift_psi",
		"Population stability index of the predictions over the drift window against the training predictions.",
		nil, labels)
	mon.rowsDesc = prometheus.NewDesc("modelci_drift_window_rows",
		"Rows in the drift window: the last --drift-window rows scored; the PSI gauges are exported once it holds 500 rows (or is full, if smaller).",
		nil, labels)
	return mon
}

// predictionBounds picks the prediction histogram's buckets: tenths of
// probability for a classifier; for regression the training predictions'
// minimum, deciles and maximum, when the profile has them.
func predictionBounds(m *model.Model, prof *profile.Profile) []float64 {
	if m.IsClassifier() {
		b := make([]float64, 19)
		for i := range b {
			b[i] = float64(i+1) / 20
		}
		return b
	}
	if prof == nil || prof.Prediction == nil || prof.Prediction.Count == 0 {
		return nil
	}
	p := prof.Prediction
	b := append([]float64{p.Min}, p.Edges...)
	b = append(b, p.Max)
	sort.Float64s(b)
	out := b[:0]
	for i, v := range b {
		if i == 0 || v > out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

func (mon *monitor) newTally() tally {
	return tally{hist: make([]uint64, len(mon.bounds)+1)}
}

func (t *tally) reset() {
	t.bins = t.bins[:0]
	clear(t.hist)
	t.sum = 0
	t.rows = 0
}

// row counts one scored row: its raw values and its prediction (the
// value, or the positive-class probability).
func (mon *monitor) row(t *tally, num []float64, str []string, pred float64) {
	if mon.drift {
		// Row t.rows goes to slot t.rows mod size of the tally's ring.
		at := int(t.rows%int64(mon.size)) * mon.slots
		if at == len(t.bins) {
			t.bins = append(t.bins, make([]uint32, mon.slots)...)
		}
		w := t.bins[at : at+mon.slots]
		for k := range mon.feats {
			f := &mon.feats[k]
			var b int
			if f.cat {
				s := str[f.index]
				b = f.prof.CategoryBucket(s, model.IsMissing(s))
			} else {
				b = f.prof.NumericBucket(num[f.index])
			}
			w[k] = uint32(f.off + b)
		}
		if mon.pred != nil {
			w[len(mon.feats)] = uint32(mon.predOff + mon.pred.NumericBucket(pred))
		}
	}
	t.hist[sort.SearchFloat64s(mon.bounds, pred)]++
	t.sum += pred
	t.rows++
}

// add folds a request's tally into a shard.
func (mon *monitor) add(t *tally) {
	if t.rows == 0 {
		return
	}
	sh := &mon.shards[rand.IntN(len(mon.shards))]
	sh.mu.Lock()
	for j, c := range t.hist {
		sh.hist[j] += c
	}
	sh.sum += t.sum
	sh.count += uint64(t.rows)
	sh.mu.Unlock()
	if mon.drift {
		mon.slide(t)
	}
}

// slide writes a request's rows into the window, oldest first, over the
// window's oldest rows.
func (mon *monitor) slide(t *tally) {
	n := len(t.bins) / mon.slots // min(t.rows, size)
	first := 0                   // the tally's oldest row
	if t.rows > int64(n) {
		first = int(t.rows % int64(n))
	}
	mon.mu.Lock()
	defer mon.mu.Unlock()
	for k := range n {
		src := (first + k) % n * mon.slots
		row := t.bins[src : src+mon.slots]
		var dst []uint32
		if len(mon.ring) < mon.size*mon.slots {
			mon.ring = append(mon.ring, row...)
			dst = mon.ring[len(mon.ring)-mon.slots:]
		} else {
			dst = mon.ring[mon.head*mon.slots : (mon.head+1)*mon.slots]
			for _, j := range dst {
				mon.counts[j]--
			}
			copy(dst, row)
			mon.head = (mon.head + 1) % mon.size
		}
		for _, j := range dst {
			mon.counts[j]++
		}
	}
}

// snapshot is the monitor's state at one moment.
type snapshot struct {
	window []int64
	rows   int64
	hist   []uint64
	sum    float64
	count  uint64
}

func (mon *monitor) snapshot() snapshot {
	s := snapshot{window: make([]int64, mon.width), hist: make([]uint64, len(mon.bounds)+1)}
	if mon.drift {
		mon.mu.Lock()
		copy(s.window, mon.counts)
		s.rows = int64(len(mon.ring) / mon.slots)
		mon.mu.Unlock()
	}
	for i := range mon.shards {
		sh := &mon.shards[i]
		sh.mu.Lock()
		for j, c := range sh.hist {
			s.hist[j] += c
		}
		s.sum += sh.sum
		s.count += sh.count
		sh.mu.Unlock()
	}
	return s
}

// Describe implements prometheus.Collector.
func (mon *monitor) Describe(ch chan<- *prometheus.Desc) {
	ch <- mon.histDesc
	if mon.drift {
		ch <- mon.featDesc
		ch <- mon.rowsDesc
		if mon.pred != nil {
			ch <- mon.predDesc
		}
	}
}

// Collect implements prometheus.Collector.
func (mon *monitor) Collect(ch chan<- prometheus.Metric) {
	s := mon.snapshot()
	buckets := make(map[float64]uint64, len(mon.bounds))
	var cum uint64
	for i, ub := range mon.bounds {
		cum += s.hist[i]
		buckets[ub] = cum
	}
	ch <- prometheus.MustNewConstHistogram(mon.histDesc, s.count, s.sum, buckets)
	if !mon.drift {
		return
	}
	ch <- prometheus.MustNewConstMetric(mon.rowsDesc, prometheus.GaugeValue, float64(s.rows))
	if s.rows == 0 || s.rows < int64(mon.minRows) {
		return // too few rows for PSI to mean drift
	}
	for _, f := range mon.feats {
		psi, err := f.prof.PSI(s.window[f.off : f.off+f.prof.Buckets()])
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(mon.featDesc, prometheus.GaugeValue, psi, f.prof.Name)
	}
	if mon.pred != nil {
		if psi, err := mon.pred.PSI(s.window[mon.predOff : mon.predOff+mon.pred.Buckets()]); err == nil {
			ch <- prometheus.MustNewConstMetric(mon.predDesc, prometheus.GaugeValue, psi)
		}
	}
}
