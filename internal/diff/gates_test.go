package diff

import (
	"math"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
)

func f(v float64) *float64 { return &v }

// metricOf builds a metric row as Compare does.
func metricOf(name, dir string, champ, chal *float64, iv *Interval) Metric {
	m := Metric{Name: name, Direction: dir, Champion: champ, Challenger: chal, Interval: iv}
	setChange(&m)
	if champ == nil && chal != nil {
		m.Status = StatusNoBaseline
	} else {
		m.Status = metricStatus(m)
	}
	return m
}

// TestGates checks every rule against hand-computed outcomes.
func TestGates(t *testing.T) {
	t.Parallel()
	pct := func(v float64) *config.Amount { return &config.Amount{Value: v, Percent: true} }
	abs := func(v float64) *config.Amount { return &config.Amount{Value: v} }
	noise := &Interval{Low: -1, High: 3, Significant: false, Resamples: 1000}
	real := &Interval{Low: 1, High: 3, Significant: true, Resamples: 1000}
	side := &Side{}
	cases := []struct {
		name       string
		metric     Metric
		gate       config.Gate
		champion   *Side
		comparable bool
		status     string
		actual     *float64
		detail     string
	}{
		{"min passes", metricOf("r2", "higher", f(0.7), f(0.85), nil), config.Gate{Metric: "r2", Min: f(0.8)}, side, true, GatePassed, f(0.85), ""},
		{"min at the bound passes", metricOf("r2", "higher", f(0.7), f(0.8), nil), config.Gate{Metric: "r2", Min: f(0.8)}, side, true, GatePassed, f(0.8), ""},
		{"min fails", metricOf("r2", "higher", f(0.9), f(0.79), nil), config.Gate{Metric: "r2", Min: f(0.8)}, side, true, GateFailed, f(0.79), ""},
		{"max fails", metricOf("rmse", "lower", f(9), f(12), nil), config.Gate{Metric: "rmse", Max: f(10)}, side, true, GateFailed, f(12), ""},
		{"min without baseline", metricOf("r2", "higher", nil, f(0.5), nil), config.Gate{Metric: "r2", Min: f(0.8)}, nil, false, GateFailed, f(0.5), ""},
		{"undefined challenger fails", Metric{Name: "roc_auc", Direction: "higher", Skipped: "one class"}, config.Gate{Metric: "roc_auc", Min: f(0.7)}, nil, false, GateFailed, nil, "could not be computed: one class"},
		{"increase 2% passes at 2%", metricOf("rmse", "lower", f(100), f(102), nil), config.Gate{Metric: "rmse", MaxIncrease: pct(2)}, side, true, GatePassed, f(2), ""},
		{"increase 2% fails at 3%", metricOf("rmse", "lower", f(100), f(103), real), config.Gate{Metric: "rmse", MaxIncrease: pct(2)}, side, true, GateFailed, f(3), ""},
		{"increase relative to |negative| champion", metricOf("r2", "higher", f(-2), f(-1.9), nil), config.Gate{Metric: "r2", MaxIncrease: pct(2)}, side, true, GateFailed, f(5), ""},
		{"decrease is fine for an increase gate", metricOf("rmse", "lower", f(100), f(50), nil), config.Gate{Metric: "rmse", MaxIncrease: pct(2)}, side, true, GatePassed, f(-50), ""},
		{"absolute increase", metricOf("mae", "lower", f(1), f(1.5), nil), config.Gate{Metric: "mae", MaxIncrease: abs(0.25)}, side, true, GateFailed, f(0.5), ""},
		{"absolute decrease fails", metricOf("f1", "higher", f(0.8), f(0.75), nil), config.Gate{Metric: "f1", MaxDecrease: abs(0.01)}, side, true, GateFailed, f(0.05), ""},
		{"absolute decrease passes on a rise", metricOf("f1", "higher", f(0.8), f(0.9), nil), config.Gate{Metric: "f1", MaxDecrease: abs(0.01)}, side, true, GatePassed, f(-0.1), ""},
		{"percent decrease", metricOf("f1", "higher", f(0.8), f(0.76), nil), config.Gate{Metric: "f1", MaxDecrease: pct(4)}, side, true, GateFailed, f(5), ""},
		{"zero champion, percent increase", metricOf("mae", "lower", f(0), f(0.1), nil), config.Gate{Metric: "mae", MaxIncrease: pct(50)}, side, true, GateFailed, nil, "unbounded percentage"},
		{"zero champion, no increase", metricOf("mae", "lower", f(0), f(0), nil), config.Gate{Metric: "mae", MaxIncrease: pct(50)}, side, true, GatePassed, nil, ""},
		{"no baseline skips change rules", metricOf("rmse", "lower", nil, f(3), nil), config.Gate{Metric: "rmse", MaxIncrease: pct(2)}, nil, false, GateSkipped, nil, "no baseline"},
		{"champion lacks the metric", Metric{Name: "roc_auc", Direction: "higher", Challenger: f(0.8), Status: StatusSkipped}, config.Gate{Metric: "roc_auc", MaxDecrease: abs(0.01)}, side, true, GateSkipped, nil, "champion has no roc_auc"},
		{"only if significant: noise passes", metricOf("rmse", "lower", f(100), f(103), noise), config.Gate{Metric: "rmse", MaxIncrease: pct(2), OnlyIfSignificant: true}, side, true, GatePassed, f(3), "within noise"},
		{"only if significant: real change fails", metricOf("rmse", "lower", f(100), f(103), real), config.Gate{Metric: "rmse", MaxIncrease: pct(2), OnlyIfSignificant: true}, side, true, GateFailed, f(3), ""},
		{"only if significant without interval fails", metricOf("rmse", "lower", f(100), f(103), nil), config.Gate{Metric: "rmse", MaxIncrease: pct(2), OnlyIfSignificant: true}, side, true, GateFailed, f(3), "no bootstrap interval"},
		{"not comparable uses stored metrics", metricOf("rmse", "lower", f(100), f(103), nil), config.Gate{Metric: "rmse", MaxIncrease: pct(2), OnlyIfSignificant: true}, side, false, GateFailed, f(3), "stored metrics"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := &Result{Champion: c.champion, Comparable: c.comparable, Metrics: []Metric{c.metric}, Bootstrap: &BootstrapInfo{Confidence: 0.95}}
			checkGates(res, []config.Gate{c.gate})
			if len(res.Gates) != 1 {
				t.Fatalf("%d gate results: %+v", len(res.Gates), res.Gates)
			}
			g := res.Gates[0]
			if g.Status != c.status {
				t.Errorf("status %s, want %s (%+v)", g.Status, c.status, g)
			}
			switch {
			case (g.Actual == nil) != (c.actual == nil):
				t.Errorf("actual %v, want %v", g.Actual, c.actual)
			case g.Actual != nil && math.Abs(*g.Actual-*c.actual) > 1e-12*math.Max(1, math.Abs(*c.actual)):
				t.Errorf("actual %.17g, want %.17g", *g.Actual, *c.actual)
			}
			if !strings.Contains(g.Detail, c.detail) {
				t.Errorf("detail %q, want %q", g.Detail, c.detail)
			}
			failed := c.status == GateFailed
			if res.Failed() != failed || res.Metrics[0].GateFailed != failed {
				t.Errorf("failed: result %t, metric %t, want %t", res.Failed(), res.Metrics[0].GateFailed, failed)
			}
		})
	}
}

// TestGateRules: one gate with several rules yields one result per rule.
func TestGateRules(t *testing.T) {
	t.Parallel()
	res := &Result{Champion: &Side{}, Comparable: true, Metrics: []Metric{metricOf("r2", "higher", f(0.9), f(0.85), nil)}}
	checkGates(res, []config.Gate{{Metric: "r2", Min: f(0.8), Max: f(0.99), MaxDecrease: &config.Amount{Value: 0.01}}})
	var rules []string
	for _, g := range res.Gates {
		rules = append(rules, g.Rule+"="+g.Status)
	}
	if got := strings.Join(rules, ","); got != "min=passed,max=passed,max_decrease=failed" {
		t.Errorf("rules %s", got)
	}
	if res.GatesFailed != 1 {
		t.Errorf("failed %d", res.GatesFailed)
	}
}

func TestMetricStatus(t *testing.T) {
	t.Parallel()
	noise := &Interval{Low: -1, High: 1}
	sig := &Interval{Low: 1, High: 2, Significant: true}
	cases := []struct {
		name string
		m    Metric
		want string
	}{
		{"lower is better, fell", metricOf("rmse", "lower", f(2), f(1), sig), StatusBetter},
		{"lower is better, rose", metricOf("rmse", "lower", f(1), f(2), sig), StatusWorse},
		{"higher is better, rose", metricOf("r2", "higher", f(0.5), f(0.6), sig), StatusBetter},
		{"higher is better, fell", metricOf("r2", "higher", f(0.6), f(0.5), sig), StatusWorse},
		{"within noise", metricOf("r2", "higher", f(0.6), f(0.5), noise), StatusWithinNoise},
		{"unchanged", metricOf("r2", "higher", f(0.6), f(0.6), noise), StatusUnchanged},
		{"no interval", metricOf("r2", "higher", f(0.6), f(0.5), nil), StatusWorse},
	}
	for _, c := range cases {
		if c.m.Status != c.want {
			t.Errorf("%s: %s, want %s", c.name, c.m.Status, c.want)
		}
	}
}
