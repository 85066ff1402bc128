package github

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	marker := Marker(model)
	table := "| a | b |\n|---|---|\n" + strings.Repeat("| 1 | 2 |\n", 3000)
	cases := []struct {
		name    string
		body    string
		max     int
		check   func(t *testing.T, out string)
		noop    bool
		markerF bool // marker expected first
	}{
		{name: "short body untouched", body: marker + "\nhi\n", max: 1000, noop: true},
		{
			name: "cut at a blank line", max: 20000,
			body: marker + "\n" + strings.Repeat("paragraph text here.\n\n", 2000),
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "here.\n\n> [!NOTE]") {
					t.Error("not cut after a paragraph")
				}
			},
		},
		{
			name: "open code fence closed", max: 5000,
			body: marker + "\n```text\n" + strings.Repeat("line of output\n", 1000) + "```\n",
			check: func(t *testing.T, out string) {
				if strings.Count(out, "```") != 2 {
					t.Errorf("fences: %d", strings.Count(out, "```"))
				}
			},
		},
		{
			name: "open details closed", max: 5000,
			body: marker + "\n<details><summary>rows</summary>\n\n" + table + "</details>\n",
			check: func(t *testing.T, out string) {
				if strings.Count(out, "<details") != strings.Count(out, "</details>") {
					t.Error("details left open")
				}
			},
		},
		{
			name: "marker put back when it was at the end", max: 5000,
			body: table + marker + "\n", markerF: true,
		},
		{
			name: "notes above the marker (a job summary): the marker stays once", max: 5000,
			body: "> [!NOTE]\n> no PR comment\n\n" + marker + "\n" + table,
			check: func(t *testing.T, out string) {
				if n := strings.Count(out, marker); n != 1 || strings.HasPrefix(out, marker) {
					t.Errorf("marker %d times, first %v", n, strings.HasPrefix(out, marker))
				}
			},
		},
		{
			name: "multi-byte text cut on a character boundary", max: 3001,
			body: marker + "\n" + strings.Repeat("é∑😀", 5000),
			check: func(t *testing.T, out string) {
				if !utf8.ValidString(out) {
					t.Error("invalid UTF-8")
				}
			},
		},
	}
	for _, tc := range cases {
		out := Truncate(tc.body, marker, tc.max, TruncationNote)
		if tc.noop {
			if out != tc.body {
				t.Errorf("%s: changed", tc.name)
			}
			continue
		}
		if len(out) > tc.max {
			t.Errorf("%s: %d bytes > %d", tc.name, len(out), tc.max)
		}
		if !strings.Contains(out, marker) || !strings.HasSuffix(out, TruncationNote+"\n") {
			t.Errorf("%s: marker or note missing", tc.name)
		}
		if tc.markerF && !strings.HasPrefix(out, marker+"\n") {
			t.Errorf("%s: marker not first", tc.name)
		}
		if tc.check != nil {
			tc.check(t, out)
		}
	}
	if got := truncateTarget(strings.Repeat("x", 70000)); got != truncateBudget {
		t.Errorf("target of a long body = %d", got)
	}
	if got := truncateTarget(strings.Repeat("x", 30000)); got != 15000 {
		t.Errorf("target of a body a smaller server refused = %d, want half", got)
	}
}
