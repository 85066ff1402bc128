package model

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseDateParts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want [4]float64 // year, month, dayofweek, dayofyear; NaN = missing
	}{
		// 2024-03-04 is a Monday (pandas dayofweek 0), day 64 of a leap year.
		{"2024-03-04", [4]float64{2024, 3, 0, 64}},
		{" 2023-12-31 ", [4]float64{2023, 12, 6, 365}},
		{"2024-12-31T23:59:59", [4]float64{2024, 12, 1, 366}},
		{"2024-02-29 08:30", [4]float64{2024, 2, 3, 60}},
		{"2024-01-01T10:00:00.25+02:00", [4]float64{2024, 1, 0, 1}},
		// The parts are those of the wall time in the value's own zone.
		{"2024-01-01T00:30-0500", [4]float64{2024, 1, 0, 1}},
		{"2024-06-15T23:59Z", [4]float64{2024, 6, 5, 167}},
		{"2024-06-15 12:00:00.123", [4]float64{2024, 6, 5, 167}},
		{"2024-06-15T25:00", [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}},
		{"2024-6-15", [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}},
		{"20240615", [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}},
		{"NA", [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}},
		{"2023-02-29", [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}},
		{"04/03/2024", [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}},
		{"", [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}},
	}
	for _, c := range cases {
		for k, part := range DateParts {
			got := DatePart(c.in, part)
			if got != c.want[k] && !(math.IsNaN(got) && math.IsNaN(c.want[k])) {
				t.Errorf("DatePart(%q, %s) = %v, want %v", c.in, part, got, c.want[k])
			}
		}
	}
}

// dateModel has a date feature (mean-imputed parts) and a categorical
// feature that folds unlisted levels into OtherCategory.
func dateModel() *Model {
	m := testModel()
	m.Features = []Feature{
		{Name: "when", Type: Date, Missing: "mean", Parts: []Feature{
			{Name: PartYear, Type: Numeric, Missing: "mean", Impute: ptr(2020.0), Center: 2020, Scale: 2},
			{Name: PartMonth, Type: Numeric, Missing: "mean", Impute: ptr(6.0), Scale: 1},
			{Name: PartDayOfWeek, Type: Numeric, Missing: "mean", Impute: ptr(3.0), Scale: 1},
			{Name: PartDayOfYear, Type: Numeric, Missing: "mean", Impute: ptr(180.0), Center: 180, Scale: 100},
		}},
		{Name: "city", Type: Categorical, Missing: "mean", Categories: []string{OtherCategory, "a", "b"}, ImputeCategory: ptr("a"), Other: true},
	}
	m.Columns = ColumnNames(m.Features)
	m.Coefficients = []float64{1, 2, 3, 4, 10, 20, 30}
	return m
}

func TestDateEncoding(t *testing.T) {
	t.Parallel()
	m := dateModel()
	if want := "[when.year when.month when.dayofweek when.dayofyear city=(other) city=a city=b]"; fmtList(m.Columns) != want {
		t.Fatalf("columns %v, want %s", m.Columns, want)
	}
	p, err := NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		when, city string
		enc        []float64
	}{
		// 2024-03-04: year (2024-2020)/2 = 2, month 3, Monday 0, day 64 → -1.16.
		{"2024-03-04", "b", []float64{2, 3, 0, -1.16, 0, 0, 1}},
		// Missing and unparsable dates take the imputed parts; an unseen
		// city (or one folded at training) is "(other)".
		{"", "zzz", []float64{0, 6, 3, 0, 1, 0, 0}},
		{"not a date", "", []float64{0, 6, 3, 0, 0, 1, 0}},
		{" 2024-03-04T12:00:00+02:00 ", "a", []float64{2, 3, 0, -1.16, 0, 1, 0}},
	}
	for _, c := range cases {
		dst := make([]float64, p.Encoder().Width())
		unknown, err := p.Encoder().EncodeRow([]float64{0, 0}, []string{c.when, c.city}, dst)
		if err != nil || unknown != 0 {
			t.Fatalf("%q %q: unknown %d err %v", c.when, c.city, unknown, err)
		}
		for j := range dst {
			if math.Abs(dst[j]-c.enc[j]) > 1e-12 {
				t.Fatalf("%q %q: encoded %v, want %v", c.when, c.city, dst, c.enc)
			}
		}
		score, unknown, err := p.Score([]float64{0, 0}, []string{c.when, c.city})
		var raw [1]float64
		p.Raw(dst, raw[:])
		if want := raw[0]; err != nil || unknown != 0 || math.Abs(score-want) > 1e-9 {
			t.Errorf("%q %q: Score %v (%d, %v), encoded score %v", c.when, c.city, score, unknown, err, want)
		}
	}
	m.Features[0].Parts[0].Impute = nil
	m.Features[0].Parts[0].Missing = "drop"
	p, err = NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Score([]float64{0, 0}, []string{"bad", "a"}); !errors.Is(err, ErrMissingValue) {
		t.Errorf("unparsable date under drop: err = %v", err)
	}
}

func TestDateValidate(t *testing.T) {
	t.Parallel()
	cases := map[string]func(m *Model){
		"unknown part":   func(m *Model) { m.Features[0].Parts[1].Name = "hour" },
		"duplicate part": func(m *Model) { m.Features[0].Parts[1].Name = PartYear },
		"no parts": func(m *Model) {
			m.Features[0].Parts = nil
			m.Columns = m.Columns[4:]
			m.Coefficients = m.Coefficients[4:]
		},
		"zero scale": func(m *Model) { m.Features[0].Parts[2].Scale = 0 },
		"parts on numeric": func(m *Model) {
			m.Features[0] = Feature{Name: "x", Type: Numeric, Scale: 1, Parts: m.Features[0].Parts[:1]}
			m.Columns = m.Columns[3:]
			m.Coefficients = m.Coefficients[3:]
		},
		"part not numeric": func(m *Model) { m.Features[0].Parts[1].Type = Categorical },
		"nan impute":       func(m *Model) { m.Features[0].Parts[3].Impute = ptr(math.NaN()) },
		"width":            func(m *Model) { m.Features[0].Parts = m.Features[0].Parts[:3] },
	}
	for name, edit := range cases {
		m := dateModel()
		edit(m)
		if err := m.Validate(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
	if err := dateModel().Validate(); err != nil {
		t.Fatal(err)
	}
}

func fmtList(xs []string) string {
	s := "["
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s + "]"
}

// FuzzParseDate checks that any text parses without panicking, that a
// parsed date has parts in range and spells the same calendar day, and
// that DateValues agrees with DatePart.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-03-04", "2024-12-31T23:59:59", "2024-02-29 08:30", "2024-01-01T10:00:00.25+02:00", "2023-02-29", "0000-01-01", "9999-12-31 24:00", " 2024-03-04 ", "2024-3-4"} {
		f.Add(s)
	}
	enc, err := NewEncoder(dateModel().Features)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDate(s)
		year, month := DatePart(s, PartYear), DatePart(s, PartMonth)
		dow, doy := DatePart(s, PartDayOfWeek), DatePart(s, PartDayOfYear)
		if !ok {
			if !math.IsNaN(year) || !math.IsNaN(doy) {
				t.Fatalf("%q does not parse but has parts %v %v", s, year, doy)
			}
			return
		}
		if got := d.Format("2006-01-02"); !strings.HasPrefix(strings.TrimSpace(s), got) {
			t.Fatalf("%q parsed as %s", s, got)
		}
		if month < 1 || month > 12 || dow < 0 || dow > 6 || doy < 1 || doy > 366 {
			t.Fatalf("%q: month %v dayofweek %v dayofyear %v", s, month, dow, doy)
		}
		dst := make([]float64, 4)
		if err := enc.DateValues(0, s, dst); err != nil {
			t.Fatal(err)
		}
		if want := (year - 2020) / 2; dst[0] != want {
			t.Fatalf("%q: encoded year %v, want %v", s, dst[0], want)
		}
	})
}
