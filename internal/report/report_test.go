package report

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/diff/difftest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./internal/report -update to create it): %v", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(run go test ./internal/report -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

// TestMarkdownGolden renders the report of every scenario: regression and
// classification with a comparable champion, no baseline, not comparable,
// a failed gate, and a huge feature count that must be shortened.
func TestMarkdownGolden(t *testing.T) {
	t.Parallel()
	for _, name := range difftest.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := difftest.Result(t, name)
			md, err := Markdown(res, Options{})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".md", md)
			checkWellFormed(t, md, DefaultMaxBytes)
			if !strings.HasPrefix(md, "<!-- modelci:report name=") {
				t.Errorf("the report does not start with the marker")
			}
			shortened := strings.Contains(md, "**Shortened**")
			if shortened != (name == difftest.HugeFeatures) {
				t.Errorf("shortened: %t", shortened)
			}
		})
	}
}

// checkWellFormed checks the structure GitHub needs: at most max
// characters, the marker, balanced <details> and code fences, and every
// table whole (a header, a delimiter row, rows with as many cells).
func checkWellFormed(t *testing.T, md string, max int) {
	t.Helper()
	if n := utf8.RuneCountInString(md); n > max {
		t.Errorf("%d characters, the limit is %d", n, max)
	}
	if o, c := strings.Count(md, "<details>"), strings.Count(md, "</details>"); o != c {
		t.Errorf("%d <details> but %d </details>", o, c)
	}
	if n := strings.Count(md, "```"); n%2 != 0 {
		t.Errorf("unbalanced code fences (%d)", n)
	}
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "|") {
			continue
		}
		cells := cellCount(lines[i])
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "|:") && !strings.HasPrefix(lines[i+1], "|-") {
			t.Fatalf("line %d: table without a delimiter row: %q", i+1, lines[i])
		}
		if got := cellCount(lines[i+1]); got != cells {
			t.Fatalf("line %d: delimiter has %d cells, header %d", i+2, got, cells)
		}
		j := i + 2
		for ; j < len(lines) && strings.HasPrefix(lines[j], "|"); j++ {
			if got := cellCount(lines[j]); got != cells || !strings.HasSuffix(lines[j], "|") {
				t.Fatalf("line %d: %d cells, the header has %d: %q", j+1, got, cells, lines[j])
			}
		}
		i = j
	}
}

// cellCount counts the cells of a table row, honouring escaped pipes.
func cellCount(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

// TestJSONGolden: the JSON report is the diff.Result with stable field
// names, and it decodes back to the same result.
func TestJSONGolden(t *testing.T) {
	t.Parallel()
	for _, name := range []string{difftest.Regression, difftest.NoBaseline} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := difftest.Result(t, name)
			b, err := JSON(res)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".json", string(b))
			var back diff.Result
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&back, res) {
				t.Error("the JSON does not decode to the same result")
			}
		})
	}
}

// TestSizeCap shortens the huge report to several limits: it always fits,
// tables stay whole, the longest sections lose rows first, and the top rows
// (most shifted, largest change) are the ones kept.
func TestSizeCap(t *testing.T) {
	t.Parallel()
	res := difftest.Result(t, difftest.HugeFeatures)
	full, err := Markdown(res, Options{MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(full); n < 4*GitHubLimit {
		t.Fatalf("the huge scenario is only %d characters", n)
	}
	for _, max := range []int{DefaultMaxBytes, 40000, 20000, 12000} {
		md, err := Markdown(res, Options{MaxBytes: max})
		if err != nil {
			t.Fatalf("max %d: %v", max, err)
		}
		checkWellFormed(t, md, max)
		for _, want := range []string{"**Shortened**", "| `sensor_00000` |", "more features not shown", "| `rmse` ↓ |", "**Gates:"} {
			if !strings.Contains(md, want) {
				t.Errorf("max %d: %q is missing", max, want)
			}
		}
		// The drift table keeps the most shifted features: sensor_00000
		// has the largest PSI and must come before any other sensor.
		drift := md[strings.Index(md, "<summary>Drift"):]
		if i, j := strings.Index(drift, "sensor_00000"), strings.Index(drift, "sensor_00001"); i < 0 || (j >= 0 && j < i) {
			t.Errorf("max %d: the drift table does not start with the most shifted feature", max)
		}
	}
	if _, err := Markdown(res, Options{MaxBytes: 500}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("max 500: got %v, want ErrTooLarge", err)
	}
	// A report that fits is not touched.
	small := difftest.Result(t, difftest.Regression)
	a, _ := Markdown(small, Options{})
	b, _ := Markdown(small, Options{MaxBytes: utf8.RuneCountInString(a)})
	if a != b || strings.Contains(a, "Shortened") {
		t.Error("a report at exactly the limit was changed")
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	res := difftest.Result(t, difftest.Regression)
	md, err := Markdown(res, Options{Precision: 2, HideChart: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md, "```mermaid") {
		t.Error("HideChart left the chart in")
	}
	if !strings.Contains(md, "| `r2` ↑ | 0.95 | 0.98 |") {
		t.Errorf("precision 2 not applied:\n%s", md[:min(len(md), 1500)])
	}
}

func TestNum(t *testing.T) {
	t.Parallel()
	cases := []struct {
		v    float64
		sig  int
		want string
	}{
		{0, 4, "0"},
		{51234.56, 4, "51230"},
		{0.812345, 4, "0.8123"},
		{0.8, 4, "0.8"},
		{-2.38095, 4, "-2.381"},
		{99999.5, 4, "100000"},
		{1e-5, 4, "1e-5"},
		{-1.23456e-7, 3, "-1.23e-7"},
		{1.5e12, 4, "1.5e12"},
		{123456789, 4, "123500000"},
		{0.00012346, 4, "0.0001235"},
		{3.14159, 17, "3.1415899999999999"},
	}
	for _, c := range cases {
		if got := num(c.v, c.sig); got != c.want {
			t.Errorf("num(%g, %d) = %q, want %q", c.v, c.sig, got, c.want)
		}
	}
	if got := signed(0.5, 4); got != "+0.5" {
		t.Errorf("signed = %q", got)
	}
	if got := plain(1.23456e-7, 3); got != "0.000000123" {
		t.Errorf("plain = %q", got)
	}
	if got := count(1234567); got != "1,234,567" {
		t.Errorf("count = %q", got)
	}
}

func TestEscaping(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"price", "`price`"},
		{"a|b", "`a\\|b`"},
		{"we`ird", "`` we`ird ``"},
		{"two\nlines", "`two lines`"},
		{"", "` `"},
	}
	for _, c := range cases {
		if got := code(c.in); got != c.want {
			t.Errorf("code(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := text("<b>*x*</b> | [y]"); got != `&lt;b&gt;\*x\*&lt;/b&gt; \| \[y\]` {
		t.Errorf("text = %q", got)
	}
	if got := quoted(`say "hi"`); got != `"say 'hi'"` {
		t.Errorf("quoted = %q", got)
	}
	if got := Marker("house-prices"); got != "<!-- modelci:report name=house-prices -->" {
		t.Errorf("Marker = %q", got)
	}
	if got := Marker("a-->b"); strings.Count(got, "-->") != 1 {
		t.Errorf("Marker does not neutralise -->: %q", got)
	}
}
