package train

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/evaluate"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/profile"
)

// ErrData marks problems with the input data that the user must fix (exit
// code 2).
var ErrData = errors.New("bad input data")

// dataErr builds an ErrData error about a named column.
func dataErr(file, column, format string, args ...any) error {
	return fmt.Errorf("%s: column %q: %w: %s", file, column, ErrData, fmt.Sprintf(format, args...))
}

// table is the data selected for training: the target, the feature columns
// and the rows that survived the missing-value policy.
type table struct {
	frame    *dataset.Frame
	target   *dataset.Column
	features []*dataset.Column
	// rows are the frame rows kept, in file order.
	rows []int
	// y is the target per kept row (class index for classifiers).
	y       []float64
	classes []string

	droppedTarget   int
	droppedFeatures int
	// warnings are data warnings found while building the table.
	warnings []string
}

// selectColumns picks the features: data.features, or every column but the
// target.
func selectColumns(cfg *config.Config, header []string) ([]string, error) {
	if len(cfg.Data.Features) > 0 {
		return cfg.Data.Features, nil
	}
	for _, x := range cfg.Data.Exclude {
		if !slices.Contains(header, x) {
			return nil, fmt.Errorf("%s: data.exclude: %w: column %q does not exist; the columns are %s", cfg.DataPath(), config.ErrInvalid, x, dataset.QuoteList(header))
		}
	}
	var out []string
	for _, h := range header {
		if h != cfg.Data.Target && !slices.Contains(cfg.Data.Exclude, h) {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w: no feature columns besides the target %q", cfg.DataPath(), ErrData, cfg.Data.Target)
	}
	return out, nil
}

// buildTable selects the columns, drops rows with a missing target (and,
// under the drop policy, rows with a missing feature), checks for
// all-missing columns and decodes the target.
func buildTable(cfg *config.Config, f *dataset.Frame, features []string) (*table, error) {
	t := &table{frame: f}
	name := f.Name
	tc, ok := f.Column(cfg.Data.Target)
	if !ok {
		return nil, fmt.Errorf("%s: data.target: %w: target column %q does not exist; the columns are %s", name, config.ErrInvalid, cfg.Data.Target, dataset.QuoteList(f.Header))
	}
	t.target = tc
	for _, fn := range features {
		c, ok := f.Column(fn)
		if !ok {
			return nil, fmt.Errorf("%s: data.features: %w: feature column %q does not exist; the columns are %s", name, config.ErrInvalid, fn, dataset.QuoteList(f.Header))
		}
		if c.Missing == f.Rows {
			return nil, dataErr(name, fn, "every value is missing (%d rows); remove it from data.features", f.Rows)
		}
		t.features = append(t.features, c)
	}
	if tc.Missing == f.Rows {
		return nil, dataErr(name, tc.Name, "the target is missing in every row")
	}
	classifier := cfg.Task() == config.TaskClassification
	if !classifier && tc.Kind != dataset.Numeric && dataset.LooksDecimalComma(tc.Levels) {
		return nil, dataErr(name, tc.Name, "the target holds numbers written with a decimal comma, such as %q; set data.decimal: \",\" (with a delimiter other than ',')", firstLevel(tc))
	}
	for _, c := range t.features {
		if isDate(cfg, c.Name) {
			if err := checkDateColumn(cfg, name, c); err != nil {
				return nil, err
			}
			continue
		}
		if err := checkIDOrDate(cfg, name, c, f.Rows, &t.warnings); err != nil {
			return nil, err
		}
		if c.Kind != dataset.Numeric && !slices.Contains(cfg.Data.Categorical, c.Name) && dataset.LooksDecimalComma(c.Levels) {
			t.warnings = append(t.warnings, fmt.Sprintf("feature %q holds numbers written with a decimal comma, such as %q, and is read as %d categories; set data.decimal: \",\" to read them as numbers", c.Name, firstLevel(c), len(c.Levels)))
		}
	}
	if !classifier && tc.Kind != dataset.Numeric {
		hint := "use model.type: logistic for class labels"
		if cfg.Model.Type == config.TypeGradientBoosting {
			hint = "set task: classification for class labels"
		}
		return nil, dataErr(name, tc.Name, "a %s model needs a numeric target, but the column holds text such as %q; %s", cfg.Model.Type, firstLevel(tc), hint)
	}
	policy := cfg.Data.Missing
	t.rows = make([]int, 0, f.Rows)
	for r := 0; r < f.Rows; r++ {
		if isMissing(tc, r) {
			t.droppedTarget++
			continue
		}
		if policy == config.MissingDrop || policy == config.MissingError {
			if c := firstMissing(t.features, r); c != nil {
				if policy == config.MissingError {
					return nil, dataErr(name, c.Name, "data row %d has a missing value and data.missing is \"error\"; choose mean, median, most_frequent or drop", r+1)
				}
				t.droppedFeatures++
				continue
			}
		}
		t.rows = append(t.rows, r)
	}
	if len(t.rows) == 0 {
		return nil, fmt.Errorf("%s: %w: no rows left after dropping %d with a missing target and %d with missing features", name, ErrData, t.droppedTarget, t.droppedFeatures)
	}
	t.y = make([]float64, len(t.rows))
	distinct, integral := numericTargetShape(tc, t.rows)
	if classifier && (distinct > maxClassLevels || (!integral && distinct > 2)) {
		many := strconv.Itoa(distinct)
		if distinct > maxClassLevels {
			many = fmt.Sprintf("more than %d", maxClassLevels)
		}
		return nil, dataErr(name, tc.Name, "the target looks continuous (%s distinct values); use model.type: linear or ridge", many)
	}
	if !classifier {
		for i, r := range t.rows {
			t.y[i] = tc.Floats[r]
		}
		if cfg.TaskKind == "" && distinct > 0 && integral && distinct <= maxClassLevels {
			t.warnings = append(t.warnings, fmt.Sprintf("target %q holds %d distinct whole numbers, which look like class labels, and is fitted as a regression; set task: classification (with model.type: logistic) for labels, or task: regression to keep this and silence the warning", tc.Name, distinct))
		}
		return t, nil
	}
	// Class labels are decoded after the split (checkClasses), which can
	// then explain a label that only the test rows have.
	return t, nil
}

// maxClassLevels is the most distinct values a numeric target can have and
// still look like class labels: more and a classifier's target looks
// continuous; at most this many whole numbers and a regression's target
// looks like labels.
const maxClassLevels = 20

// numericTargetShape counts the distinct values of a target whose every
// value is a number (read as numbers, or as class labels that parse as
// numbers) over rows, up to maxClassLevels+1, and says whether they are all
// whole numbers. It returns 0, false for a target with any non-number.
func numericTargetShape(tc *dataset.Column, rows []int) (distinct int, integral bool) {
	seen := make(map[float64]bool, maxClassLevels+1)
	integral = true
	for _, r := range rows {
		var v float64
		if tc.Kind == dataset.Numeric {
			v = tc.Floats[r]
		} else {
			var err error
			if v, err = strconv.ParseFloat(strings.TrimSpace(label(tc, r)), 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, false
			}
		}
		if v != math.Trunc(v) {
			integral = false
		}
		if len(seen) <= maxClassLevels {
			seen[v] = true
		}
	}
	return len(seen), integral
}

// MaxClasses is the most classes a classifier's target may have: more
// distinct values look like a continuous target, which regression fits.
const MaxClasses = 100

// decodeClasses turns the target into class indices: t.y holds the index
// of each row's class in t.classes. Classes are sorted as numpy's unique
// sorts them: numerically when every label is a number, otherwise as
// strings. Two classes make a binary model, three or more a multinomial
// one.
func (t *table) decodeClasses(name string) error {
	tc := t.target
	labels := make([]string, len(t.rows))
	seen := map[string]bool{}
	for i, r := range t.rows {
		labels[i] = label(tc, r)
		seen[labels[i]] = true
	}
	classes := make([]string, 0, len(seen))
	for l := range seen {
		classes = append(classes, l)
	}
	sortLabels(classes)
	if len(classes) < 2 {
		return dataErr(name, tc.Name, "the target has only one class (%q); a classifier needs two", classes[0])
	}
	t.classes = classes
	index := make(map[string]float64, len(classes))
	for k, c := range classes {
		index[c] = float64(k)
	}
	for i, l := range labels {
		t.y[i] = index[l]
	}
	return nil
}

// classCounts counts the rows of each class label of the target.
func (t *table) classCounts() map[string]int {
	count := map[string]int{}
	for _, r := range t.rows {
		count[label(t.target, r)]++
	}
	return count
}

// singleMembers lists the labels of count that one row has, sorted.
func singleMembers(count map[string]int) []string {
	var out []string
	for l, n := range count {
		if n == 1 {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// tooManyClasses refuses a classifier's target with more than MaxClasses
// distinct values, with a hint to regress.
func (t *table) tooManyClasses(count map[string]int) error {
	if len(count) <= MaxClasses {
		return nil
	}
	labels := make([]string, 0, len(count))
	for l := range count {
		labels = append(labels, l)
	}
	sortLabels(labels)
	return dataErr(t.frame.Name, t.target.Name, "the target has %d distinct values (%s, …), more than the %d classes a classifier takes; a target with that many values is continuous: set task: regression (and a regression model.type) to fit it", len(labels), dataset.QuoteList(labels[:10]), MaxClasses)
}

func sortLabels(ls []string) {
	nums := make([]float64, len(ls))
	numeric := true
	for i, l := range ls {
		v, err := strconv.ParseFloat(l, 64)
		if err != nil {
			numeric = false
			break
		}
		nums[i] = v
	}
	if !numeric {
		sort.Strings(ls)
		return
	}
	idx := make([]int, len(ls))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return nums[idx[a]] < nums[idx[b]] })
	sorted := make([]string, len(ls))
	for i, k := range idx {
		sorted[i] = ls[k]
	}
	copy(ls, sorted)
}

// label is the class label of a kept row (its target is not missing).
func label(c *dataset.Column, r int) string {
	l, _ := evaluate.ClassLabel(c, r)
	return l
}

func isMissing(c *dataset.Column, r int) bool {
	if c.Kind == dataset.Numeric {
		return math.IsNaN(c.Floats[r])
	}
	return c.Codes[r] < 0
}

func firstMissing(cols []*dataset.Column, r int) *dataset.Column {
	for _, c := range cols {
		if isMissing(c, r) {
			return c
		}
	}
	return nil
}

func firstLevel(c *dataset.Column) string {
	if len(c.Levels) > 0 {
		return c.Levels[0]
	}
	return ""
}

// learned is the preprocessing learned from the training rows, plus the
// training-data profile of every feature.
type learned struct {
	features []model.Feature
	// profiles is empty for a date feature, which has none.
	profiles []profile.Feature
	// encMeans holds, per feature, the training mean of each of its encoded
	// columns (after imputation and standardization).
	encMeans [][]float64
	// warnings are per-feature warnings, in feature order.
	warnings []string
	// constant marks the numeric features that are constant in the
	// training rows: their one encoded column is all zeros, and their
	// coefficient is exactly zero.
	constant []bool
}

// learnPreprocessing computes imputation values, standardization and
// categories from the training rows only, in parallel over features.
func learnPreprocessing(s *Settings, t *table, trainRows []int, workers int) (*learned, error) {
	l := &learned{
		features: make([]model.Feature, len(t.features)),
		profiles: make([]profile.Feature, len(t.features)),
		encMeans: make([][]float64, len(t.features)),
		constant: make([]bool, len(t.features)),
	}
	errs := make([]error, len(t.features))
	warns := make([]string, len(t.features))
	jobs := make(chan int)
	var wg sync.WaitGroup
	if workers < 1 {
		workers = 1
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []float64
			for i := range jobs {
				c := t.features[i]
				if slices.Contains(s.Dates, c.Name) {
					errs[i] = learnDate(s, t.frame.Name, c, trainRows, &l.features[i], &l.encMeans[i])
					continue
				}
				if c.Kind == dataset.Numeric {
					buf, errs[i] = learnNumeric(s, t.frame.Name, c, trainRows, buf, &l.features[i], &l.profiles[i], &l.encMeans[i], &warns[i], &l.constant[i])
				} else {
					errs[i] = learnCategorical(s, t.frame.Name, c, trainRows, &l.features[i], &l.profiles[i], &warns[i])
					if errs[i] == nil {
						l.encMeans[i] = categoryMeans(c, trainRows, &l.features[i])
					}
				}
			}
		}()
	}
	for i := range t.features {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, w := range warns {
		if w != "" {
			l.warnings = append(l.warnings, w)
		}
	}
	return l, nil
}

func learnNumeric(s *Settings, file string, c *dataset.Column, rows []int, buf []float64, f *model.Feature, p *profile.Feature, encMean *[]float64, warn *string, constant *bool) ([]float64, error) {
	policy := s.Missing
	buf = buf[:0]
	var sum float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		v := c.Floats[r]
		if math.IsNaN(v) {
			continue
		}
		buf = append(buf, v)
		sum += v
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	n := len(rows)
	missing := n - len(buf)
	if len(buf) == 0 {
		return buf, dataErr(file, c.Name, "every value in the training rows is missing")
	}
	*f = model.Feature{Name: c.Name, Type: model.Numeric, Missing: policy, Scale: 1}
	var imp float64
	switch policy {
	case config.MissingMean:
		imp = sum / float64(len(buf))
	case config.MissingMedian:
		imp = median(slices.Clone(buf))
	case config.MissingMostFrequent:
		sorted := slices.Clone(buf)
		slices.Sort(sorted)
		imp = modeSorted(sorted)
	}
	if policy == config.MissingMean || policy == config.MissingMedian || policy == config.MissingMostFrequent {
		f.Impute = &imp
	}
	// Mean and population std of the imputed column, as a scikit-learn
	// Pipeline(SimpleImputer, StandardScaler) sees it.
	mean := (sum + float64(missing)*imp) / float64(n)
	var ss float64
	for _, v := range buf {
		d := v - mean
		ss += d * d
	}
	if missing > 0 {
		d := imp - mean
		ss += float64(missing) * d * d
	}
	std := math.Sqrt(ss / float64(n))
	if lo == hi && (missing == 0 || imp == lo) {
		// As scikit-learn's StandardScaler (scale 1 for zero variance), the
		// column is centred to all zeros, whether or not it is standardized,
		// so every solver leaves its coefficient at zero and serving scores
		// the same whatever value arrives.
		*warn = fmt.Sprintf("feature %q is constant in the training rows (every value is %s); it carries no information and gets a zero coefficient; remove it from data.features", c.Name, strconv.FormatFloat(lo, 'g', -1, 64))
		f.Center, f.Scale = lo, 1
		*constant = true
	} else if s.Model.Standardize {
		f.Center, f.Scale = mean, std
	}
	*encMean = []float64{(mean - f.Center) / f.Scale}
	*p = profileNumeric(c, rows, buf, sum, lo, hi, missing, std)
	return buf, nil
}

// profileSample bounds the rows whose values define a numeric feature's
// quantile bins: at most this many evenly spaced training rows. Bins from
// 100,000 rows place each decile within about 0.3 percentage points, far
// below what PSI can resolve, and keep training fast on large data.
const profileSample = 100_000

// sampleRows returns at most profileSample evenly spaced rows of rows.
func sampleRows(rows []int) []int {
	if len(rows) <= profileSample {
		return rows
	}
	out := make([]int, profileSample)
	for i := range out {
		out[i] = rows[int(uint64(i)*uint64(len(rows))/profileSample)]
	}
	return out
}

// profileNumeric profiles a numeric feature: count, missing, mean, std, min
// and max over all training rows (buf holds their non-missing values in row
// order), quantile bins and bin fractions over at most profileSample evenly
// spaced values of buf.
// std is the population std of the imputed column, which equals that of
// the non-missing values when none is missing.
func profileNumeric(c *dataset.Column, rows []int, buf []float64, sum, lo, hi float64, missing int, std float64) profile.Feature {
	if len(rows) <= profileSample {
		return profile.NumericFeatureValues(c.Name, buf, missing, profile.DefaultBins)
	}
	// buf holds the non-missing values in row order: an evenly spaced sample
	// of it is an evenly spaced sample of the rows' values.
	if len(buf) <= profileSample {
		return profile.NumericFeatureValues(c.Name, buf, missing, profile.DefaultBins)
	}
	vals := make([]float64, profileSample)
	for i := range vals {
		vals[i] = buf[int(uint64(i)*uint64(len(buf))/profileSample)]
	}
	pf := profile.NumericFeatureValues(c.Name, vals, 0, profile.DefaultBins)
	pf.Count, pf.Missing = len(buf), missing
	pf.Min, pf.Max = lo, hi
	pf.Mean = sum / float64(len(buf))
	if missing == 0 {
		pf.Std = std
		return pf
	}
	var ss float64
	for _, v := range buf {
		d := v - pf.Mean
		ss += d * d
	}
	pf.Std = math.Sqrt(ss / float64(len(buf)))
	return pf
}

// modeSorted returns the most frequent value of sorted xs; ties go to the
// smallest value, as scikit-learn's SimpleImputer does.
func modeSorted(xs []float64) float64 {
	best, bestN := xs[0], 0
	for i := 0; i < len(xs); {
		j := i
		for j < len(xs) && xs[j] == xs[i] {
			j++
		}
		if j-i > bestN {
			best, bestN = xs[i], j-i
		}
		i = j
	}
	return best
}

func learnCategorical(s *Settings, file string, c *dataset.Column, rows []int, f *model.Feature, p *profile.Feature, warn *string) error {
	policy := s.Missing
	counts := make([]int, len(c.Levels))
	missing := 0
	codes := make([]int32, len(rows))
	for i, r := range rows {
		code := c.Codes[r]
		codes[i] = code
		if code < 0 {
			missing++
			continue
		}
		counts[code]++
	}
	var cats []string
	for code, n := range counts {
		if n > 0 {
			cats = append(cats, c.Levels[code])
		}
	}
	if len(cats) == 0 {
		return dataErr(file, c.Name, "every value in the training rows is missing")
	}
	sort.Strings(cats)
	if len(cats) == 1 {
		return dataErr(file, c.Name, "the feature is constant in the training rows (every value is %q); it carries no information, so remove it from data.features", cats[0])
	}
	other := false
	if limit := s.MaxCategories; len(cats) > limit {
		if slices.Contains(cats, model.OtherCategory) {
			return dataErr(file, c.Name, "the feature has more than data.max_categories (%d) levels and a level named %q, the name reserved for the rest; rename that level or raise data.max_categories", limit, model.OtherCategory)
		}
		n := make(map[string]int, len(cats))
		for code, k := range counts {
			if k > 0 {
				n[c.Levels[code]] = k
			}
		}
		// Most frequent first, ties by value, so the kept levels do not
		// depend on row order.
		slices.SortStableFunc(cats, func(a, b string) int {
			if n[a] != n[b] {
				return n[b] - n[a]
			}
			return strings.Compare(a, b)
		})
		*warn = fmt.Sprintf("feature %q has %d levels in the training rows, more than data.max_categories (%d); the %d least frequent became %q", c.Name, len(cats), limit, len(cats)-limit, model.OtherCategory)
		cats = append(cats[:limit:limit], model.OtherCategory)
		sort.Strings(cats)
		other = true
	}
	*f = model.Feature{Name: c.Name, Type: model.Categorical, Missing: policy, Categories: cats, Other: other}
	if policy == config.MissingMean || policy == config.MissingMedian || policy == config.MissingMostFrequent {
		// Categorical features are imputed with the most frequent category
		// under every imputing policy; ties go to the smallest category.
		best, bestN := "", -1
		for code, n := range counts {
			l := c.Levels[code]
			if n > bestN || (n == bestN && l < best) {
				best, bestN = l, n
			}
		}
		f.ImputeCategory = &best
	}
	*p = profile.CategoricalFeature(c.Name, codes, c.Levels)
	return nil
}

// categoryMeans is the training frequency of each one-hot column after
// imputation.
func categoryMeans(c *dataset.Column, rows []int, f *model.Feature) []float64 {
	idx := make(map[string]int, len(f.Categories))
	for j, cat := range f.Categories {
		idx[cat] = j
	}
	counts := make([]int, len(f.Categories))
	for _, r := range rows {
		code := c.Codes[r]
		if code < 0 {
			counts[idx[*f.ImputeCategory]]++
			continue
		}
		j, ok := idx[c.Levels[code]]
		if !ok {
			j = idx[model.OtherCategory]
		}
		counts[j]++
	}
	out := make([]float64, len(counts))
	for j, n := range counts {
		out[j] = float64(n) / float64(len(rows))
	}
	return out
}

// median is numpy's median of xs (reordered in place).
func median(xs []float64) float64 {
	n := len(xs)
	pos := 0.5 * float64(n-1)
	r := int(math.Floor(pos))
	sel := profile.SelectRanks(xs, []int{r, min(r+1, n-1)})
	if r+1 >= n {
		return sel[r]
	}
	return profile.Quantile([]float64{sel[r], sel[r+1]}, pos-float64(r))
}
