package config

import (
	"errors"
	"strings"
	"testing"
)

// TestGatesBaselineReport covers the gates, baseline and report sections:
// defaults, accepted forms and rejected values with the field named.
func TestGatesBaselineReport(t *testing.T) {
	t.Parallel()
	const head = "data:\n  path: d.csv\n  target: y\n"
	cases := []struct {
		name  string
		yaml  string
		field string // "" = valid
		want  string
	}{
		{name: "defaults", yaml: head},
		{name: "regression gates", yaml: head + "gates:\n  - {metric: rmse, max_increase: \"2%\"}\n  - {metric: r2, min: 0.8}\n  - {metric: mae, max_increase: 10, only_if_significant: true}\n"},
		{name: "classification gate", yaml: head + "model:\n  type: logistic\ngates:\n  - {metric: f1, max_decrease: 0.01}\n"},
		{name: "baseline forms", yaml: head + "baseline:\n  ref: git:main\n  bootstrap: 0\n  confidence: 0.9\n  seed: 7\n"},
		{name: "baseline registry tag", yaml: head + "baseline:\n  ref: registry:prod\n"},
		{name: "unknown metric", yaml: head + "gates:\n  - {metric: rsme, max: 1}\n", field: "gates[0].metric", want: "valid metrics: rmse"},
		{name: "metric of the other task", yaml: head + "gates:\n  - {metric: f1, min: 0.5}\n", field: "gates[0].metric", want: "classification metric"},
		{name: "no rule", yaml: head + "gates:\n  - {metric: rmse}\n", field: "gates[0]", want: "at least one of"},
		{name: "min above max", yaml: head + "gates:\n  - {metric: r2, min: 0.9, max: 0.8}\n", field: "gates[0]", want: "no value can pass"},
		{name: "significance without change rule", yaml: head + "gates:\n  - {metric: r2, min: 0.9, only_if_significant: true}\n", field: "gates[0].only_if_significant", want: "max_increase"},
		{name: "negative amount", yaml: head + "gates:\n  - {metric: rmse, max_increase: \"-2%\"}\n", want: "non-negative"},
		{name: "empty git ref", yaml: head + "baseline:\n  ref: \"git:\"\n", field: "baseline.ref", want: "git:<ref>"},
		{name: "option as git ref", yaml: head + "baseline:\n  ref: \"git:--output=x\"\n", field: "baseline.ref", want: "git:<ref>"},
		{name: "empty registry tag", yaml: head + "baseline:\n  ref: \"registry:\"\n", field: "baseline.ref", want: "registry:<tag>"},
		{name: "bootstrap negative", yaml: head + "baseline:\n  bootstrap: -1\n", field: "baseline.bootstrap", want: "resamples"},
		{name: "confidence 1", yaml: head + "baseline:\n  confidence: 1\n", field: "baseline.confidence", want: "(0, 1)"},
		{name: "precision 0", yaml: head + "report:\n  precision: 0\n", field: "report.precision", want: "significant digits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse([]byte(c.yaml), "modelci.yaml", t.TempDir())
			if c.field == "" && c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if *cfg.Baseline.Bootstrap < 0 || cfg.Baseline.Ref == "" || cfg.Baseline.Tag == "" || *cfg.Report.Precision < 1 || cfg.Report.Chart == nil {
					t.Errorf("defaults not applied: %+v %+v", cfg.Baseline, cfg.Report)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want a configuration error", err)
			}
			if c.field != "" && !strings.Contains(err.Error(), c.field+":") {
				t.Errorf("error %q does not name %s", err, c.field)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func TestBaselineDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte("data:\n  path: d.csv\n  target: y\n"), "modelci.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, r := cfg.Baseline, cfg.Report
	if b.Ref != "auto" || b.Tag != "latest" || *b.Bootstrap != 1000 || *b.Confidence != 0.95 || *b.Seed != 42 || *r.Precision != 4 || !*r.Chart {
		t.Errorf("defaults: baseline %q %q %d %g %d, report %d %t", b.Ref, b.Tag, *b.Bootstrap, *b.Confidence, *b.Seed, *r.Precision, *r.Chart)
	}
}
