package diff

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/evaluate"
	"github.com/modelci/modelci/internal/metrics"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/profile"
	"github.com/modelci/modelci/internal/train"
)

// Challenger is this commit's model and the rows it is judged on.
type Challenger struct {
	Model *model.Model
	// Frame is the challenger's data; Selection's rows index it.
	Frame     *dataset.Frame
	Selection *train.Selection
	// DataPath is data.path as written in the config.
	DataPath string
	Ref, SHA string
	// UncommittedChanges says the model was trained from a working tree
	// that differs from SHA, so that commit alone does not reproduce it.
	UncommittedChanges bool
}

// Champion is the production model.
type Champion struct {
	Model *model.Model
	// Metrics is its metrics.json: the figures shown when the models are
	// not comparable.
	Metrics *model.Metrics
	// Profile is its profile.json, the reference for drift; nil skips
	// drift.
	Profile          *profile.Profile
	Ref, SHA, Digest string
}

// Options configure a comparison.
type Options struct {
	// Metrics are the metrics to compare; empty means the task's defaults.
	// Metrics named by gates are added.
	Metrics []string
	Gates   []config.Gate
	// Bootstrap configures the intervals; Resamples 0 turns them off.
	Bootstrap BootstrapOptions
}

// FrameLoader reads the challenger's data file the way model m reads it
// (its categorical features as categorical, only the columns it needs).
type FrameLoader func(ctx context.Context, m *model.Model) (*dataset.Frame, error)

// Input is everything Compare needs.
type Input struct {
	// Name is the model name shown in the report.
	Name       string
	Baseline   BaselineInfo
	Challenger Challenger
	// Champion is nil when there is no baseline.
	Champion *Champion
	// ChampionFrame is called when the challenger's frame lacks a column
	// the champion needs or read it with another type (e.g. the config no
	// longer lists it as categorical). nil: use the challenger's frame only.
	ChampionFrame FrameLoader
	Options       Options
	// Warnings are carried into the result (e.g. from loading).
	Warnings []string
}

// OptionsFromConfig reads the comparison settings of a config.
func OptionsFromConfig(cfg *config.Config, workers int) Options {
	b := cfg.Baseline
	return Options{
		Metrics: slices.Clone(cfg.Metrics),
		Gates:   slices.Clone(cfg.Gates),
		Bootstrap: BootstrapOptions{
			Resamples:  *b.Bootstrap,
			Confidence: *b.Confidence,
			Seed:       *b.Seed,
			Workers:    workers,
		},
	}
}

// Compare scores both models on the challenger's test rows and builds the
// Result. Errors are reserved for a challenger that cannot be evaluated on
// its own data and for invalid options; a champion that cannot be scored on
// these rows makes the result not comparable instead.
func Compare(ctx context.Context, in Input) (*Result, error) {
	chal := in.Challenger
	if chal.Model == nil || chal.Frame == nil || chal.Selection == nil {
		return nil, errors.New("compare: the challenger needs a model, a frame and its row selection")
	}
	m := chal.Model
	task := metrics.Task(m.Task)
	names, err := metricNames(m, in.Options)
	if err != nil {
		return nil, err
	}
	name := in.Name
	if name == "" {
		name = m.Name
	}
	res := &Result{
		SchemaVersion: SchemaVersion,
		Name:          name,
		Task:          m.Task,
		Baseline:      in.Baseline,
		Challenger:    challengerSide(chal),
		Metrics:       []Metric{},
		Gates:         []GateResult{},
		Warnings:      slices.Clone(in.Warnings),
	}
	pred, err := model.NewPredictor(m)
	if err != nil {
		return nil, fmt.Errorf("challenger: %w", err)
	}
	chalEval, err := evaluate.Evaluate(pred, chal.Frame, chal.Selection.Test, names)
	if err != nil {
		return nil, fmt.Errorf("score the challenger on its test rows: %w", err)
	}
	res.Rows = RowsInfo{
		Test:                len(chal.Selection.Test),
		Shared:              len(chalEval.Rows),
		DroppedByChallenger: len(chal.Selection.Test) - len(chalEval.Rows),
	}
	if unseen := formatCounts(chalEval.Unseen); unseen != "" {
		res.Warnings = append(res.Warnings, "the challenger met categories its training rows never saw, encoded as all zeros: "+unseen)
	}
	if in.Champion == nil {
		res.Challenger.ConfusionMatrix = chalEval.Confusion
		for _, n := range names {
			mt := Metric{Name: n, Direction: direction(n), Status: StatusNoBaseline}
			mt.Challenger, mt.Skipped = lookup(chalEval, n)
			if mt.Challenger == nil {
				mt.Status = StatusSkipped
			}
			res.Metrics = append(res.Metrics, mt)
		}
		res.Chart = chart(m, nil, nil, chalEval)
		checkGates(res, in.Options.Gates)
		return res, nil
	}

	champ := in.Champion
	if champ.Model == nil {
		return nil, errors.New("compare: the champion has no model")
	}
	side := championSide(champ)
	res.Champion = &side
	res.Data = dataChange(champ, chal)
	res.Coefficients, res.Fit = modelFit(champ.Model, m)

	frame, nc, err := championFrame(ctx, in, chal.Frame)
	if err != nil {
		return nil, err
	}
	var champEval *evaluate.Result
	if nc == nil {
		champEval, nc = scoreChampion(champ.Model, frame, chalEval.Rows, names)
	}
	if nc == nil && !slices.Equal(champEval.Rows, chalEval.Rows) {
		// The champion dropped rows with a missing value its policy
		// rejects: compare on the rows both scored.
		res.Rows.DroppedByChampion = len(chalEval.Rows) - len(champEval.Rows)
		res.Rows.Shared = len(champEval.Rows)
		res.Warnings = append(res.Warnings, fmt.Sprintf("the champion could not score %d of the challenger's %d test rows (a missing value under data.missing: drop); both models are compared on the other %d rows", res.Rows.DroppedByChampion, len(chalEval.Rows), len(champEval.Rows)))
		chalEval, err = restrict(m, chalEval, champEval.Rows, names)
		if err != nil {
			return nil, err
		}
	}
	if nc == nil && !slices.Equal(champ.Model.Classes, m.Classes) {
		nc = &NotComparable{Reason: fmt.Sprintf("the models have different classes: the champion %s, the challenger %s", quoteList(champ.Model.Classes), quoteList(m.Classes))}
	}
	if nc == nil && !slices.Equal(champEval.YTrue, chalEval.YTrue) {
		nc = &NotComparable{Reason: "the two models read different target values from the same rows"}
	}
	res.Challenger.ConfusionMatrix = chalEval.Confusion

	if nc != nil {
		res.NotComparable = nc
		res.Comparable = false
		res.Champion.ConfusionMatrix = storedConfusion(champ.Metrics)
		res.Rows.Shared = 0
		res.Rows.DroppedByChampion = 0
		for _, n := range names {
			mt := Metric{Name: n, Direction: direction(n), Status: StatusNotComparable}
			mt.Challenger, mt.Skipped = lookup(chalEval, n)
			mt.Champion = storedValue(champ.Metrics, n)
			setChange(&mt)
			if mt.Challenger == nil {
				mt.Status = StatusSkipped
			}
			res.Metrics = append(res.Metrics, mt)
		}
		res.Chart = chart(m, nil, nil, chalEval)
	} else {
		res.Comparable = true
		res.Champion.ConfusionMatrix = champEval.Confusion
		if w := leakWarning(champ, chal); w != "" {
			res.Warnings = append(res.Warnings, w)
		}
		if unseen := formatCounts(champEval.Unseen); unseen != "" {
			res.Warnings = append(res.Warnings, "the champion met categories it never saw in training, encoded as all zeros: "+unseen)
		}
		var intervals map[string]Interval
		if bo := in.Options.Bootstrap; bo.Resamples > 0 {
			champScores, chalScores := Scores{Pred: champEval.Pred, Proba: champEval.Proba}, Scores{Pred: chalEval.Pred, Proba: chalEval.Proba}
			if k := len(m.Classes); k > 2 {
				bo.Classes = k
				champScores = Scores{Pred: champEval.Pred, Probs: champEval.Probs}
				chalScores = Scores{Pred: chalEval.Pred, Probs: chalEval.Probs}
			}
			ivs, err := PairedBootstrap(ctx, task, chalEval.YTrue, champScores, chalScores, names, bo)
			if err != nil {
				return nil, err
			}
			res.Bootstrap = &BootstrapInfo{Resamples: bo.Resamples, Confidence: bo.Confidence, Seed: bo.Seed}
			intervals = map[string]Interval{}
			for _, iv := range ivs {
				if iv.Resamples > 0 {
					intervals[iv.Metric] = iv
				}
			}
		}
		for _, n := range names {
			mt := Metric{Name: n, Direction: direction(n)}
			var champSkip string
			mt.Challenger, mt.Skipped = lookup(chalEval, n)
			mt.Champion, champSkip = lookup(champEval, n)
			if mt.Skipped == "" && champSkip != "" {
				mt.Skipped = "champion: " + champSkip
			}
			setChange(&mt)
			if iv, ok := intervals[n]; ok && mt.Change != nil {
				mt.Interval = &iv
			}
			mt.Status = metricStatus(mt)
			res.Metrics = append(res.Metrics, mt)
		}
		res.Chart = chart(m, champ.Model, champEval, chalEval)
	}

	if champ.Profile != nil {
		res.Drift, res.TargetDrift = drift(champ.Profile, frame, chal.Selection.Train, champ.Model, m)
	}
	checkGates(res, in.Options.Gates)
	return res, nil
}

// metricNames is the requested metrics plus those the gates need.
func metricNames(m *model.Model, o Options) ([]string, error) {
	task := metrics.Task(m.Task)
	names := slices.Clone(o.Metrics)
	if len(names) == 0 {
		names = evaluate.DefaultMetrics(m)
	}
	for _, g := range o.Gates {
		if !slices.Contains(names, g.Metric) {
			names = append(names, g.Metric)
		}
	}
	if err := metrics.Validate(task, names); err != nil {
		return nil, fmt.Errorf("%w: metrics and gates: %w", config.ErrInvalid, err)
	}
	return names, nil
}

func direction(name string) string {
	in, _ := metrics.Lookup(name)
	return string(in.Direction)
}

// lookup returns a metric's value from an evaluation, or why it is missing.
func lookup(r *evaluate.Result, name string) (*float64, string) {
	for _, v := range r.Metrics {
		if v.Name == name {
			x := v.Value
			return &x, ""
		}
	}
	for _, s := range r.Skipped {
		if s.Name == name {
			return nil, s.Reason
		}
	}
	return nil, "not computed"
}

// storedValue returns a metric of metrics.json, nil if absent.
func storedValue(mf *model.Metrics, name string) *float64 {
	if mf == nil {
		return nil
	}
	v, ok := mf.Metrics[name]
	if !ok {
		return nil
	}
	return &v
}

func storedConfusion(mf *model.Metrics) [][]int {
	if mf == nil {
		return nil
	}
	return mf.ConfusionMatrix
}

// setChange fills Change and ChangePercent when both values exist.
func setChange(mt *Metric) {
	if mt.Champion == nil || mt.Challenger == nil {
		return
	}
	d := *mt.Challenger - *mt.Champion
	mt.Change = &d
	if *mt.Champion != 0 {
		p := d / math.Abs(*mt.Champion) * 100
		mt.ChangePercent = &p
	}
}

// metricStatus classifies the change of a comparable metric.
func metricStatus(mt Metric) string {
	switch {
	case mt.Champion == nil || mt.Challenger == nil:
		return StatusSkipped
	case *mt.Change == 0:
		return StatusUnchanged
	case mt.Interval != nil && !mt.Interval.Significant:
		return StatusWithinNoise
	}
	improved := *mt.Change < 0
	if mt.Direction == string(metrics.Higher) {
		improved = *mt.Change > 0
	}
	if improved {
		return StatusBetter
	}
	return StatusWorse
}

func challengerSide(c Challenger) Side {
	m := c.Model
	s := Side{
		Ref: c.Ref, SHA: c.SHA, UncommittedChanges: c.UncommittedChanges,
		Algorithm: m.Algorithm, Target: m.Target, Classes: m.Classes,
		Features: len(m.Features), Columns: len(m.Columns),
		Training: m.Training,
		Data: DataInfo{
			Path:                   c.DataPath,
			SHA256:                 c.Frame.SHA256,
			Rows:                   c.Frame.Rows,
			Used:                   c.Selection.Used,
			TrainRows:              len(c.Selection.Train),
			TestRows:               len(c.Selection.Test),
			DroppedMissingTarget:   c.Selection.DroppedMissingTarget,
			DroppedMissingFeatures: c.Selection.DroppedMissingFeatures,
		},
	}
	return s
}

func championSide(c *Champion) Side {
	m := c.Model
	s := Side{
		Ref: c.Ref, SHA: c.SHA, Digest: c.Digest,
		Algorithm: m.Algorithm, Target: m.Target, Classes: m.Classes,
		Features: len(m.Features), Columns: len(m.Columns),
		Training: m.Training,
		Data: DataInfo{
			SHA256:    m.Training.DataSHA256,
			TrainRows: m.Training.TrainRows,
			TestRows:  m.Training.TestRows,
		},
	}
	if mf := c.Metrics; mf != nil {
		s.Data.Path = mf.Data.Path
		s.Data.Rows = mf.Data.Rows
		s.Data.Used = mf.Data.Used
		s.Data.DroppedMissingTarget = mf.Data.DroppedMissingTarget
		s.Data.DroppedMissingFeatures = mf.Data.DroppedMissingFeatures
	}
	return s
}

// dataChange compares the models' data fingerprints and features.
func dataChange(champ *Champion, chal Challenger) DataChange {
	cs := championSide(champ)
	d := DataChange{
		SameData:    cs.Data.SHA256 != "" && cs.Data.SHA256 == chal.Frame.SHA256,
		RowsChange:  chal.Frame.Rows - cs.Data.Rows,
		RowsChanged: chal.Frame.Rows != cs.Data.Rows,
	}
	old := map[string]string{}
	for _, f := range champ.Model.Features {
		old[f.Name] = f.Type
	}
	seen := map[string]bool{}
	for _, f := range chal.Model.Features {
		seen[f.Name] = true
		t, ok := old[f.Name]
		switch {
		case !ok:
			d.FeaturesAdded = append(d.FeaturesAdded, f.Name)
		case t != f.Type:
			d.TypeChanged = append(d.TypeChanged, TypeChange{Name: f.Name, Champion: t, Challenger: f.Type})
		}
	}
	for _, f := range champ.Model.Features {
		if !seen[f.Name] {
			d.FeaturesRemoved = append(d.FeaturesRemoved, f.Name)
		}
	}
	sort.Strings(d.FeaturesAdded)
	sort.Strings(d.FeaturesRemoved)
	return d
}

// leakWarning explains when the champion may have trained on some of the
// challenger's test rows.
func leakWarning(champ *Champion, chal Challenger) string {
	ct, ht := champ.Model.Training, chal.Model.Training
	switch {
	case ct.DataSHA256 != chal.Frame.SHA256:
		return "the data changed since the champion was trained, so some of these test rows may have been among the champion's training rows; that can flatter the champion"
	case ct.Seed != ht.Seed || ct.TestSize != ht.TestSize:
		return fmt.Sprintf("the split changed (champion: seed %d, test_size %g; challenger: seed %d, test_size %g), so some of these test rows were among the champion's training rows; that flatters the champion", ct.Seed, ct.TestSize, ht.Seed, ht.TestSize)
	}
	return ""
}

// championFrame returns the frame to score the champion on: the
// challenger's frame when it has every column the champion needs with the
// right type, otherwise the data re-read the champion's way. It returns a
// NotComparable when the models cannot be scored on the same rows.
func championFrame(ctx context.Context, in Input, f *dataset.Frame) (*dataset.Frame, *NotComparable, error) {
	champ, chal := in.Champion.Model, in.Challenger.Model
	switch {
	case champ.Task != chal.Task:
		return f, &NotComparable{Reason: fmt.Sprintf("the task changed: the champion is a %s model, the challenger a %s model", champ.Task, chal.Task)}, nil
	case champ.Target != chal.Target:
		return f, &NotComparable{Reason: fmt.Sprintf("the target changed from %q to %q", champ.Target, chal.Target)}, nil
	case !slices.Equal(champ.Classes, chal.Classes):
		return f, &NotComparable{Reason: fmt.Sprintf("the classes changed from %s to %s", quoteList(champ.Classes), quoteList(chal.Classes))}, nil
	}
	if len(blocking(evaluate.Compatibility(champ, f))) == 0 {
		return f, nil, nil
	}
	if in.ChampionFrame != nil {
		g, err := in.ChampionFrame(ctx, champ)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			return f, &NotComparable{Reason: "the champion cannot read the current data: " + err.Error()}, nil
		}
		if g.SHA256 != f.SHA256 || g.Rows != f.Rows {
			return nil, nil, fmt.Errorf("read the data for the champion: %s changed while it was read (sha256 %s, then %s)", f.Name, f.SHA256, g.SHA256)
		}
		f = g
	}
	bad := blocking(evaluate.Compatibility(champ, f))
	if len(bad) == 0 {
		return f, nil, nil
	}
	old := map[string]bool{}
	for _, feat := range champ.Features {
		old[feat.Name] = true
	}
	for _, feat := range chal.Features {
		if !old[feat.Name] {
			bad = append(bad, evaluate.ColumnChange{Name: feat.Name, Change: "added"})
		}
	}
	sort.SliceStable(bad, func(i, j int) bool { return bad[i].Name < bad[j].Name })
	var parts []string
	for _, c := range bad {
		switch c.Change {
		case "removed":
			parts = append(parts, fmt.Sprintf("%q was removed", c.Name))
		case "type":
			parts = append(parts, fmt.Sprintf("%q changed type from %s to %s", c.Name, c.Model, c.Data))
		}
	}
	if len(parts) > maxListed {
		parts = append(parts[:maxListed], fmt.Sprintf("and %d more", len(parts)-maxListed))
	}
	return f, &NotComparable{
		Reason:  "the champion cannot read the current data: " + strings.Join(parts, ", "),
		Changes: bad,
	}, nil
}

// blocking keeps the changes that stop a model from scoring a frame.
func blocking(cs []evaluate.ColumnChange) []evaluate.ColumnChange {
	var out []evaluate.ColumnChange
	for _, c := range cs {
		if c.Change != "added" {
			out = append(out, c)
		}
	}
	return out
}

// scoreChampion evaluates the champion on the rows the challenger scored.
func scoreChampion(m *model.Model, f *dataset.Frame, rows []int, names []string) (*evaluate.Result, *NotComparable) {
	p, err := model.NewPredictor(m)
	if err != nil {
		return nil, &NotComparable{Reason: "the champion model is invalid: " + err.Error()}
	}
	r, err := evaluate.Evaluate(p, f, rows, names)
	if err != nil {
		return nil, &NotComparable{Reason: "the champion cannot score the test rows: " + err.Error()}
	}
	return r, nil
}

// restrict recomputes an evaluation on a subsequence of its rows.
func restrict(m *model.Model, r *evaluate.Result, rows []int, names []string) (*evaluate.Result, error) {
	out := &evaluate.Result{Rows: rows, Classes: r.Classes, Unseen: r.Unseen, Imputed: r.Imputed, DroppedMissing: r.DroppedMissing}
	k := 0
	for i, row := range r.Rows {
		if k < len(rows) && rows[k] == row {
			out.YTrue = append(out.YTrue, r.YTrue[i])
			out.Pred = append(out.Pred, r.Pred[i])
			if r.Proba != nil {
				out.Proba = append(out.Proba, r.Proba[i])
			}
			if r.Probs != nil {
				out.Probs = append(out.Probs, r.Probs[i*r.Classes:(i+1)*r.Classes]...)
			}
			k++
		}
	}
	if k != len(rows) {
		return nil, errors.New("compare: the champion scored rows the challenger did not")
	}
	if err := out.ComputeMetrics(m, names); err != nil {
		return nil, fmt.Errorf("score the challenger on the shared rows: %w", err)
	}
	return out, nil
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// maxListed bounds the names listed in a sentence; the JSON and the
// report's tables have the rest.
const maxListed = 5

// formatCounts lists "name (count)" for the first names in order.
func formatCounts(m map[string]int) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for i, n := range names {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(names)-maxListed))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", n, m[n]))
	}
	return strings.Join(parts, ", ")
}
