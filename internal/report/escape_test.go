package report

import (
	"reflect"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/sticky"
)

// fill sets every string reachable from v to s, every number to 1 and
// every nil slice or pointer to one element, so each field of a
// diff.Result that the renderer shows holds s.
func fill(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1)
	case reflect.Uint32, reflect.Uint64, reflect.Uint:
		v.SetUint(1)
	case reflect.Float64:
		v.SetFloat(1)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), s)
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i), s)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), s)
			}
		}
	}
}

// evilResult is a result whose every string, from the model name to
// column names, categories, classes, refs, warnings and error text, is s.
func evilResult(s string) *diff.Result {
	res := &diff.Result{}
	fill(reflect.ValueOf(res), s)
	res.Name = "house-prices"
	return res
}

// TestDataCannotForgeAMarker: a report whose data holds another model's
// marker (or any text that opens an HTML comment) contains "<!--" exactly
// once, in its own marker on the first line; the sticky comment of the
// other model can therefore never be taken for this one or the other way
// round.
func TestDataCannotForgeAMarker(t *testing.T) {
	t.Parallel()
	cases := []string{
		sticky.Marker("churn"),
		sticky.Marker("house-prices"),
		"x\n" + sticky.Marker("churn") + "\ny",
		"a|<!-- modelci:report name=churn -->|`b`",
		"<!--",
	}
	for _, evil := range cases {
		for _, comparable := range []bool{true, false} {
			res := evilResult(evil)
			res.Comparable = comparable
			md, err := Markdown(res, Options{})
			if err != nil {
				t.Fatalf("%q: %v", evil, err)
			}
			if !sticky.Carries(md, Marker("house-prices")) {
				t.Errorf("%q: the report does not start with its marker: %q", evil, md[:min(len(md), 80)])
			}
			if n := strings.Count(md, "<!--"); n != 1 {
				i := strings.LastIndex(md, "<!--")
				t.Errorf("%q: %d HTML comment openers in the report, want 1; the last in %q", evil, n, md[max(i-60, 0):min(i+60, len(md))])
			}
			checkWellFormed(t, md, DefaultMaxBytes)
		}
	}
}

func TestCodeOfMarkerText(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"<!-- m -->", "<code>&#60;&#33;&#45;&#45; m &#45;&#45;&#62;</code>"},
		{"a|<!--\nb", "<code>a&#124;&#60;&#33;&#45;&#45; b</code>"},
		{"<!-x", "`<!-x`"},
	}
	for _, tc := range cases {
		if got := code(tc.in); got != tc.want {
			t.Errorf("code(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := quoted("<!-- m -->"); strings.Contains(got, "<!--") {
		t.Errorf("quoted = %q", got)
	}
}

// FuzzMarkdownMarkerOnce renders a result whose every string is the
// input: the report starts with its marker and holds no other "<!--".
func FuzzMarkdownMarkerOnce(f *testing.F) {
	for _, s := range []string{"price", sticky.Marker("churn"), "<!--", "a\n<!-- x -->\n", "`|<!--|`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 200 {
			return
		}
		md, err := Markdown(evilResult(s), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !sticky.Carries(md, Marker("house-prices")) || strings.Count(md, "<!--") != 1 {
			t.Fatalf("marker not alone on the first line for %q:\n%s", s, md)
		}
	})
}
