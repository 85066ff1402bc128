package train

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/model"
)

// datesCSV has 60 rows of a date column (several forms, all in 2024 but
// for the last rows), a numeric x and y = 3x + 2·month (+ noise), or a
// class label y > median for logistic.
func datesCSV(labels bool) string {
	var b strings.Builder
	b.WriteString("when,x,y\n")
	forms := []string{"2024-%02d-%02d", "2024-%02d-%02dT10:30:00", "2024-%02d-%02d 08:15", "2024-%02d-%02dT23:00:00.5+02:00"}
	for i := range 60 {
		month, day := 1+i%12, 1+(i*5)%28
		x := float64((i*7)%13) + 0.5
		y := 3*x + 2*float64(month) + 0.1*float64(i%3)
		when := fmt.Sprintf(forms[i%len(forms)], month, day)
		if i%17 == 5 {
			when = fmt.Sprintf("2023-%02d-%02d", month, day)
		}
		if labels {
			fmt.Fprintf(&b, "%s,%g,%t\n", when, x, y > 30)
		} else {
			fmt.Fprintf(&b, "%s,%g,%g\n", when, x, y)
		}
	}
	return b.String()
}

// TestDateFeature: data.dates turns the column into its year, month,
// dayofweek and dayofyear parts, the fit uses them, and scoring the raw
// strings with the model's encoder reproduces Fit's test predictions,
// for a regression and a classifier.
func TestDateFeature(t *testing.T) {
	t.Parallel()
	for _, logistic := range []bool{false, true} {
		extra := "  dates: [when]\n"
		if logistic {
			extra += "model:\n  type: logistic\n"
		}
		res, err := trainCSV(t, datesCSV(logistic), extra)
		if err != nil {
			t.Fatal(err)
		}
		m := res.Model
		when := m.Features[0]
		var parts []string
		for _, p := range when.Parts {
			parts = append(parts, p.Name)
		}
		if when.Type != model.Date || strings.Join(parts, ",") != "year,month,dayofweek,dayofyear" {
			t.Fatalf("when: type %s parts %v", when.Type, parts)
		}
		if want := "when.year when.month when.dayofweek when.dayofyear x"; strings.Join(m.Columns, " ") != want {
			t.Errorf("columns %q, want %s", m.Columns, want)
		}
		if _, ok := res.Profile.Get("when"); ok || len(res.Profile.Features) != 1 {
			t.Errorf("profile features %+v; a date feature has no profile", res.Profile.Features)
		}
		if res.Metrics.Data.Columns["when"] != model.Date {
			t.Errorf("metrics data columns %v", res.Metrics.Data.Columns)
		}
		if _, err := model.Parse(res.Files[model.FileModel]); err != nil {
			t.Fatalf("written model.json does not parse: %v", err)
		}
		if !logistic {
			for _, v := range res.Test.Metrics {
				if v.Name == "rmse" && !(v.Value < 1) {
					t.Errorf("rmse %g: the month was not learned", v.Value)
				}
			}
		}
		p, err := model.NewPredictor(m)
		if err != nil {
			t.Fatal(err)
		}
		f := res.Frame
		wc, _ := f.Column("when")
		xc, _ := f.Column("x")
		for k, r := range res.Test.Rows {
			s, _, err := p.Score([]float64{0, xc.Floats[r]}, []string{wc.Levels[wc.Codes[r]], ""})
			if err != nil {
				t.Fatal(err)
			}
			want := res.Test.Pred[k]
			if logistic {
				s, want = model.Sigmoid(s), res.Test.Proba[k]
			}
			if math.Abs(s-want) > 1e-9 {
				t.Fatalf("row %d: raw score %v, Fit predicted %v", r, s, want)
			}
		}
	}
}

// TestDateFeatureParts: a part constant in the training rows is left out,
// a value that is not a date is imputed (and counted) under mean and an
// error naming the row under drop, and a column that holds no dates is
// refused.
func TestDateFeatureParts(t *testing.T) {
	t.Parallel()
	csv := strings.ReplaceAll(datesCSV(false), "2023-", "2024-")
	res, err := trainCSV(t, csv, "  dates: [when]\n")
	if err != nil {
		t.Fatal(err)
	}
	if parts := res.Model.Features[0].Parts; len(parts) != 3 || parts[0].Name != model.PartMonth {
		t.Errorf("parts %+v; the constant year should be left out", parts)
	}
	bad := strings.Replace(csv, "2024-01-01,", "2024-13-01,", 1)
	bad = strings.Replace(bad, "2024-02-06T10:30:00,", "soon,", 1)
	res, err = trainCSV(t, bad, "  dates: [when]\n")
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Metrics.Data.Imputed["when"]; n != 2 {
		t.Errorf("imputed %v, want 2 for when", res.Metrics.Data.Imputed)
	}
	for _, part := range res.Model.Features[0].Parts {
		if part.Impute == nil {
			t.Errorf("part %s has no impute value", part.Name)
		}
	}
	_, err = trainCSV(t, bad, "  dates: [when]\n  missing: drop\n")
	if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "not an ISO date") || !strings.Contains(err.Error(), "data row") {
		t.Errorf("drop: err = %v", err)
	}
	_, err = trainCSV(t, "when,x,y\n"+strings.Repeat("a,1,2\nb,2,3\n", 10), "  dates: [when]\n")
	if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), `data.dates lists it, but it holds values such as "a"`) {
		t.Errorf("not dates: err = %v", err)
	}
	_, err = trainCSV(t, csv, "  dates: [nope]\n")
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown date column: err = %v", err)
	}
	// Without data.dates the column is refused with both remedies.
	_, err = trainCSV(t, csv, "")
	if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), `set data.dates: ["when"]`) || !strings.Contains(err.Error(), "data.exclude") {
		t.Errorf("no data.dates: err = %v", err)
	}
	if !slices.Contains(res.Model.FeatureNames(), "x") {
		t.Errorf("features %v", res.Model.FeatureNames())
	}
}
