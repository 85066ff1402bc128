package sticky

import (
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/report"
)

func TestParseMode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Mode
		err  bool
	}{
		{"", ModeAuto, false},
		{"auto", ModeAuto, false},
		{" Always ", ModeAlways, false},
		{"NEVER", ModeNever, false},
		{"update-only", ModeUpdateOnly, false},
		{"sometimes", "", true},
		{"update_only", "", true},
	}
	for _, tc := range cases {
		got, err := ParseMode(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseMode(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestMarker(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"house-prices", "<!-- modelci:report name=house-prices -->"},
		{"  churn ", "<!-- modelci:report name=churn -->"},
		{"a-->b", "<!-- modelci:report name=a-_b -->"},
		{"x\ny", "<!-- modelci:report name=x_y -->"},
	}
	for _, tc := range cases {
		got := Marker(tc.in)
		if got != tc.want {
			t.Errorf("Marker(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if r := report.Marker(tc.in); r != got {
			t.Errorf("report.Marker(%q) = %q, sticky.Marker %q: the renderer and the clients must agree", tc.in, r, got)
		}
		if strings.Count(got, "-->") != 1 || strings.ContainsAny(got, "\r\n") {
			t.Errorf("Marker(%q) = %q ends early or spans lines", tc.in, got)
		}
	}
}

func TestSameBody(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a, b string
		same bool
	}{
		{"a\nb\n", "a\r\nb\r\n", true},
		{"a\nb", "a\nb\n\n  ", true},
		{"a\nb", "a\nc", false},
		{" a", "a", false},
	}
	for _, tc := range cases {
		if got := SameBody(tc.a, tc.b); got != tc.same {
			t.Errorf("SameBody(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
