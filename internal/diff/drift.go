package diff

import (
	"math"
	"sort"

	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/profile"
)

// drift compares the challenger's training rows of frame f with the
// champion's training profile, per feature and for the target.
func drift(prof *profile.Profile, f *dataset.Frame, rows []int, champ, chal *model.Model) ([]Drift, *Drift) {
	out := make([]Drift, 0, len(prof.Features))
	inProfile := map[string]bool{}
	for i := range prof.Features {
		pf := &prof.Features[i]
		inProfile[pf.Name] = true
		out = append(out, featureDrift(pf, f, rows))
	}
	for _, feat := range chal.Features {
		if !inProfile[feat.Name] && feat.Type != model.Date { // a date feature has no profile
			out = append(out, Drift{Feature: feat.Name, Type: feat.Type, Status: DriftAdded})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := driftRank(a), driftRank(b); ra != rb {
			return ra < rb
		}
		if a.PSI != nil && b.PSI != nil && *a.PSI != *b.PSI {
			return *a.PSI > *b.PSI
		}
		return a.Feature < b.Feature
	})
	var target *Drift
	if prof.Target != nil {
		td := featureDrift(prof.Target, f, rows)
		target = &td
	}
	return out, target
}

// driftRank orders drift rows: changes of the feature itself, then scored
// features (by PSI), then features without data.
func driftRank(d Drift) int {
	switch d.Status {
	case DriftRemoved, DriftTypeChanged:
		return 0
	case DriftAdded:
		return 1
	case DriftNoData:
		return 3
	}
	return 2
}

// featureDrift computes the PSI of one column over rows against its
// reference profile.
func featureDrift(pf *profile.Feature, f *dataset.Frame, rows []int) Drift {
	d := Drift{Feature: pf.Name, Type: pf.Type}
	if total := pf.Count + pf.Missing; total > 0 {
		d.ChampionMissingRate = float64(pf.Missing) / float64(total)
	}
	if pf.Type == profile.Numeric && pf.Count > 0 {
		m := pf.Mean
		d.ChampionMean = &m
	}
	col, ok := f.Column(pf.Name)
	if !ok {
		d.Status = DriftRemoved
		return d
	}
	if col.Kind.String() != pf.Type {
		d.Status = DriftTypeChanged
		return d
	}
	counts := make([]int64, pf.Buckets())
	missing := 0
	if col.Kind == dataset.Numeric {
		var sum float64
		present := 0
		for _, r := range rows {
			v := col.Floats[r]
			counts[pf.NumericBucket(v)]++
			if math.IsNaN(v) {
				missing++
				continue
			}
			sum += v
			present++
		}
		if present > 0 {
			mean := sum / float64(present)
			d.ChallengerMean = &mean
		}
	} else {
		bucket := make([]int, len(col.Levels))
		for code, lvl := range col.Levels {
			bucket[code] = pf.CategoryBucket(lvl, false)
		}
		unseen := len(pf.Categories)
		for _, r := range rows {
			code := col.Codes[r]
			if code < 0 {
				counts[pf.MissingBucket()]++
				missing++
				continue
			}
			b := bucket[code]
			counts[b]++
			if b == unseen {
				d.NewCategories++
			}
		}
	}
	if len(rows) > 0 {
		d.ChallengerMissingRate = float64(missing) / float64(len(rows))
	}
	psi, err := pf.PSI(counts)
	if err != nil {
		// No rows to compare (the bucket layout always matches).
		d.Status = DriftNoData
		return d
	}
	d.PSI = &psi
	d.Status = profile.Level(psi)
	return d
}
