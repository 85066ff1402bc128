package diff

import (
	"fmt"
	"strconv"

	"github.com/modelci/modelci/internal/config"
)

// Gate rules.
const (
	RuleMin         = "min"
	RuleMax         = "max"
	RuleMaxIncrease = "max_increase"
	RuleMaxDecrease = "max_decrease"
)

// checkGates evaluates every rule of every gate against res.Metrics and
// records the outcome in res.Gates, res.GatesFailed and the metrics'
// GateFailed flags.
//
//   - min and max bound the challenger's value; they apply with or without a
//     baseline. A challenger value that could not be computed fails them.
//   - max_increase and max_decrease bound the change from the champion,
//     absolute or in percent of |champion|. Without a baseline they are
//     skipped. When the models are not comparable they are checked against
//     the champion's stored metrics, and the detail says so.
//   - only_if_significant turns a change rule's failure into a pass when the
//     paired bootstrap interval includes 0. When no interval exists (not
//     comparable, or baseline.bootstrap: 0) the rule is checked as if the
//     change were significant.
func checkGates(res *Result, gates []config.Gate) {
	byName := map[string]*Metric{}
	for i := range res.Metrics {
		byName[res.Metrics[i].Name] = &res.Metrics[i]
	}
	for _, g := range gates {
		mt := byName[g.Metric]
		if mt == nil {
			// metricNames adds every gate's metric, so this cannot happen;
			// fail loudly rather than pass silently.
			res.Gates = append(res.Gates, GateResult{Metric: g.Metric, Rule: "metric", Status: GateFailed, Detail: "metric was not computed"})
			res.GatesFailed++
			continue
		}
		var rules []GateResult
		if g.Min != nil {
			rules = append(rules, absoluteRule(mt, RuleMin, *g.Min))
		}
		if g.Max != nil {
			rules = append(rules, absoluteRule(mt, RuleMax, *g.Max))
		}
		if g.MaxIncrease != nil {
			rules = append(rules, changeRule(res, mt, RuleMaxIncrease, *g.MaxIncrease, g.OnlyIfSignificant))
		}
		if g.MaxDecrease != nil {
			rules = append(rules, changeRule(res, mt, RuleMaxDecrease, *g.MaxDecrease, g.OnlyIfSignificant))
		}
		for _, r := range rules {
			r.OnlyIfSignificant = g.OnlyIfSignificant
			if r.Status == GateFailed {
				res.GatesFailed++
				mt.GateFailed = true
			}
			res.Gates = append(res.Gates, r)
		}
	}
}

func absoluteRule(mt *Metric, rule string, limit float64) GateResult {
	r := GateResult{Metric: mt.Name, Rule: rule, Limit: strconv.FormatFloat(limit, 'g', -1, 64)}
	if mt.Challenger == nil {
		r.Status = GateFailed
		r.Detail = "the challenger's " + mt.Name + " could not be computed: " + mt.Skipped
		return r
	}
	v := *mt.Challenger
	r.Actual = &v
	ok := v >= limit
	if rule == RuleMax {
		ok = v <= limit
	}
	r.Status = GatePassed
	if !ok {
		r.Status = GateFailed
	}
	return r
}

func changeRule(res *Result, mt *Metric, rule string, limit config.Amount, onlyIfSignificant bool) GateResult {
	r := GateResult{Metric: mt.Name, Rule: rule, Limit: limit.String()}
	switch {
	case res.Champion == nil:
		r.Status = GateSkipped
		r.Detail = "no baseline: a change needs a champion"
		return r
	case mt.Challenger == nil:
		r.Status = GateFailed
		r.Detail = "the challenger's " + mt.Name + " could not be computed: " + mt.Skipped
		return r
	case mt.Champion == nil:
		r.Status = GateSkipped
		r.Detail = "the champion has no " + mt.Name + " to compare with"
		return r
	}
	change := *mt.Change
	if rule == RuleMaxDecrease {
		change = -change // the amount it went down
	}
	var actual float64
	switch {
	case !limit.Percent:
		actual = change
	case mt.ChangePercent != nil:
		actual = *mt.ChangePercent
		if rule == RuleMaxDecrease {
			actual = -actual
		}
	default:
		// The champion's value is 0: any move in the limited direction is
		// an infinite relative change.
		r.Status = GatePassed
		if change > 0 {
			r.Status = GateFailed
			r.Detail = "the champion's value is 0, so any change in this direction is an unbounded percentage"
		}
		return r
	}
	r.Actual = &actual
	r.Status = GatePassed
	if actual <= limit.Value {
		if !res.Comparable {
			r.Detail = "checked against the champion's stored metrics (not comparable)"
		}
		return r
	}
	r.Status = GateFailed
	switch {
	case !res.Comparable:
		r.Detail = "checked against the champion's stored metrics (not comparable)"
	case onlyIfSignificant && mt.Interval != nil && !mt.Interval.Significant:
		r.Status = GatePassed
		r.Detail = fmt.Sprintf("within noise: the %s interval includes 0 (only_if_significant)", res.ConfidenceLabel())
	case onlyIfSignificant && mt.Interval == nil:
		r.Detail = "no bootstrap interval, so the change counts as significant"
	}
	return r
}
