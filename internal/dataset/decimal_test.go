package dataset

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDecimalComma(t *testing.T) {
	t.Parallel()
	const csv = "x;y;name\n-0,69;1;a\n2,5;NA;b\n3;1,25;c\n"
	f, err := Read(context.Background(), strings.NewReader(csv), "d.csv", Options{DecimalComma: true})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := f.Column("x")
	y, _ := f.Column("y")
	name, _ := f.Column("name")
	if x.Kind != Numeric || x.Floats[0] != -0.69 || x.Floats[1] != 2.5 || x.Floats[2] != 3 {
		t.Errorf("x = %v %v, want numeric -0.69 2.5 3", x.Kind, x.Floats)
	}
	if y.Kind != Numeric || y.Floats[0] != 1 || !math.IsNaN(y.Floats[1]) || y.Floats[2] != 1.25 {
		t.Errorf("y = %v %v, want numeric 1 NaN 1.25", y.Kind, y.Floats)
	}
	if name.Kind != Categorical {
		t.Errorf("name became %v", name.Kind)
	}
	plain, err := Read(context.Background(), strings.NewReader(csv), "d.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if px, _ := plain.Column("x"); px.Kind != Categorical || !LooksDecimalComma(px.Levels) {
		t.Errorf("without the option x is %v with levels %q; want categorical and detected", px.Kind, px.Levels)
	}
	if _, err := Read(context.Background(), strings.NewReader("x,y\n1,2\n"), "d.csv", Options{DecimalComma: true}); !errors.Is(err, ErrDecimalDelimiter) {
		t.Errorf("comma-delimited with a decimal comma: %v", err)
	}
}

func TestDecimalCommaNumber(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"-0,69", -0.69, true},
		{" 12 ", 12, true},
		{"1,5e3", 1500, true},
		{"1.5", 0, false},
		{"1,2,3", 0, false},
		{"0x1p3", 0, false},
		{"1_000", 0, false},
		{"inf", 0, false},
		{"", 0, false},
		{"abc", 0, false},
	}
	for _, c := range cases {
		got, ok := decimalCommaNumber(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("decimalCommaNumber(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if LooksDecimalComma([]string{"1", "2"}) || LooksDecimalComma([]string{"a,b", "c"}) || !LooksDecimalComma([]string{"1,5", "2"}) {
		t.Error("LooksDecimalComma misjudges")
	}
}

// FuzzDecimalCommaNumber: a decimal-comma number parses to the value of the
// same text with '.' for ',', is finite, and never panics.
func FuzzDecimalCommaNumber(f *testing.F) {
	for _, s := range []string{"-0,69", "1", "1,5e3", "1.5", ",", "1,2,3", "NaN", "-,5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := decimalCommaNumber(s)
		if !ok {
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || strings.Contains(s, ".") || strings.Count(s, ",") > 1 {
			t.Fatalf("decimalCommaNumber(%q) = %v, true", s, v)
		}
		if w, ok2 := decimalCommaNumber(strings.Replace(s, ",", "", 1)); strings.Contains(s, ",") && ok2 && math.Abs(w) < math.Abs(v)*(1-1e-12) && !strings.ContainsAny(s, "eE") {
			t.Fatalf("dropping the comma of %q made it smaller: %v < %v", s, w, v)
		}
	})
}
