// Package report renders a diff.Result: as Markdown for a pull request
// comment, a job summary or a merge request note (GitHub and GitLab render
// it, including a Mermaid chart, without any image upload), and as JSON for
// machines.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/diff"
	"github.com/modelci/modelci/internal/sticky"
)

// GitHubLimit is the longest comment body GitHub accepts, in characters.
const GitHubLimit = 65536

// FooterHeadroom is left free for text the comment poster appends.
const FooterHeadroom = 1024

// DefaultMaxBytes is the default size cap of the Markdown report.
const DefaultMaxBytes = GitHubLimit - FooterHeadroom

// DefaultPrecision is the default number of significant digits.
const DefaultPrecision = 4

// ErrTooLarge means the report cannot be shortened below the size cap.
var ErrTooLarge = errors.New("report too large")

// Options tune the Markdown report. The zero value is ready to use.
type Options struct {
	// Precision is the number of significant digits of numbers; 0 means
	// DefaultPrecision.
	Precision int
	// HideChart leaves out the Mermaid chart.
	HideChart bool
	// MaxBytes caps the report's length in characters (Unicode code
	// points, as GitHub counts them), not bytes despite the name; 0 means
	// DefaultMaxBytes. Long sections are shortened, longest first, by whole
	// table rows, and the report says so.
	MaxBytes int
}

// OptionsFromConfig reads the report section of a config.
func OptionsFromConfig(r config.Report) Options {
	o := Options{}
	if r.Precision != nil {
		o.Precision = *r.Precision
	}
	if r.Chart != nil {
		o.HideChart = !*r.Chart
	}
	return o
}

func (o Options) withDefaults() Options {
	if o.Precision <= 0 {
		o.Precision = DefaultPrecision
	}
	if o.Precision > 17 {
		o.Precision = 17
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return o
}

// Marker is the hidden line that identifies the report of a model, so a
// comment can be found and updated in place: sticky.Marker, the one the
// comment clients look for.
func Marker(name string) string { return sticky.Marker(name) }

// JSON renders the result as indented JSON with a trailing newline: the
// diff.Result itself, with stable snake_case field names.
func JSON(res *diff.Result) ([]byte, error) {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return append(b, '\n'), nil
}

// Markdown renders the result for a pull request comment. The text stays
// within opts.MaxBytes characters: the longest tables are cut first, by
// whole rows, with a note saying what was left out; it fails with
// ErrTooLarge only if even the report without those rows is too long.
func Markdown(res *diff.Result, opts Options) (string, error) {
	if res == nil {
		return "", errors.New("render report: no result")
	}
	opts = opts.withDefaults()
	d := build(res, opts)
	return d.fit(opts.MaxBytes)
}

// piece is literal text or a table that can be shortened.
type piece struct {
	text  string
	table *table
}

// table is a Markdown table whose rows can be cut from the end.
type table struct {
	// title names the section in the "shortened" notice.
	title string
	// head is the header and delimiter rows, ending with a newline.
	head string
	rows []string
	// noun and order describe the rows in the note: "features", "most
	// shifted first".
	noun, order string
	limit       int
	// capped counts rows left out before fitting: the section shows only
	// its first rows by design (see capNote).
	capped int
	// capNote follows the number of capped rows in the line that says
	// they are missing: "more … not shown (why)".
	capNote string
}

// newTable starts a table; align has one letter per column, l (left) or
// r (right).
func newTable(title, noun, order, align string, header ...string) *table {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for i := range header {
		if i < len(align) && align[i] == 'r' {
			b.WriteString("--:|")
		} else {
			b.WriteString(":--|")
		}
	}
	b.WriteString("\n")
	return &table{title: title, head: b.String(), noun: noun, order: order, limit: -1}
}

func (t *table) add(cells ...string) {
	t.rows = append(t.rows, "| "+strings.Join(cells, " | ")+" |")
}

func (t *table) shown() int {
	if t.limit < 0 || t.limit > len(t.rows) {
		return len(t.rows)
	}
	return t.limit
}

func (t *table) render() string {
	var b strings.Builder
	n := t.shown()
	if n > 0 {
		b.WriteString(t.head)
		for _, r := range t.rows[:n] {
			b.WriteString(r)
			b.WriteByte('\n')
		}
	}
	total := t.total()
	switch cut := total - n; {
	case n < len(t.rows):
		if n > 0 {
			b.WriteByte('\n')
		}
		order := ""
		if t.order != "" && n > 0 {
			order = ", " + t.order
		}
		fmt.Fprintf(&b, "_✂️ %s more %s not shown (%s of %s shown%s) to keep this comment under GitHub's %s-character limit; `modelci diff --format json` lists them all._\n",
			count(cut), t.noun, count(n), count(total), order, count(GitHubLimit))
	case cut > 0:
		b.WriteString("\n_" + count(cut) + " " + t.capNote + "; `modelci diff --format json` lists them all._\n")
	}
	return b.String()
}

// total is the number of rows of the full table, capped ones included.
func (t *table) total() int { return len(t.rows) + t.capped }

// doc is the report as pieces; notice is the index of the piece that says
// which sections were shortened.
type doc struct {
	pieces []piece
	notice int
}

func (d *doc) text(s string)            { d.pieces = append(d.pieces, piece{text: s}) }
func (d *doc) table(t *table)           { d.pieces = append(d.pieces, piece{table: t}) }
func (d *doc) placeNotice()             { d.notice = len(d.pieces); d.text("") }
func (d *doc) textf(f string, a ...any) { d.text(fmt.Sprintf(f, a...)) }

func (d *doc) render() string {
	var cut []string
	for _, p := range d.pieces {
		if t := p.table; t != nil && t.shown() < len(t.rows) {
			cut = append(cut, fmt.Sprintf("%s (%s of %s %s)", t.title, count(t.shown()), count(t.total()), t.noun))
		}
	}
	if len(cut) > 0 {
		d.pieces[d.notice].text = fmt.Sprintf("> ✂️ **Shortened** to fit GitHub's %s-character comment limit: %s. `modelci diff --format json` has everything.\n\n", count(GitHubLimit), strings.Join(cut, "; "))
	} else {
		d.pieces[d.notice].text = ""
	}
	var b strings.Builder
	for _, p := range d.pieces {
		if p.table != nil {
			b.WriteString(p.table.render())
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// fit renders the document within limit characters. When it is too long,
// the tables are capped at a common length (in characters) so that the
// longest are cut first and short ones stay whole; the largest cap that
// fits is found by bisection. Rows are cut whole, from the end of a table
// (tables are sorted most important first).
func (d *doc) fit(limit int) (string, error) {
	s := d.render()
	if utf8.RuneCountInString(s) <= limit {
		return s, nil
	}
	var tables []*table
	var cum [][]int // cum[t][k]: characters of the first k rows
	hi := 0
	for _, p := range d.pieces {
		if t := p.table; t != nil && len(t.rows) > 0 {
			c := make([]int, len(t.rows)+1)
			for k, r := range t.rows {
				c[k+1] = c[k] + utf8.RuneCountInString(r) + 1
			}
			tables = append(tables, t)
			cum = append(cum, c)
			hi = max(hi, c[len(t.rows)])
		}
	}
	apply := func(capChars int) string {
		for i, t := range tables {
			k := sort.SearchInts(cum[i], capChars+1) - 1 // rows that fit under the cap
			t.limit = k
		}
		return d.render()
	}
	s = apply(0)
	if n := utf8.RuneCountInString(s); n > limit {
		return "", fmt.Errorf("%w: %d characters even with every long section cut, the limit is %d", ErrTooLarge, n, limit)
	}
	lo := 0 // fits
	for lo < hi-1 {
		mid := lo + (hi-lo)/2
		if utf8.RuneCountInString(apply(mid)) <= limit {
			lo = mid
		} else {
			hi = mid
		}
	}
	return apply(lo), nil
}
