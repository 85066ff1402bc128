package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// num formats v with sig significant digits: plain decimal notation for
// magnitudes from 1e-4 to below 1e9, scientific otherwise, without trailing
// zeros ("51230", "0.8123", "1.5e-07").
func num(v float64, sig int) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case v == 0:
		return "0"
	}
	e := strconv.FormatFloat(v, 'e', sig-1, 64) // e.g. "-5.123e+04"
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 9 {
		return trimZeros(mant) + "e" + strconv.Itoa(exp)
	}
	rounded, _ := strconv.ParseFloat(e, 64)
	return trimZeros(strconv.FormatFloat(rounded, 'f', max(sig-1-exp, 0), 64))
}

// signed is num with an explicit "+" for positive values.
func signed(v float64, sig int) string {
	s := num(v, sig)
	if v > 0 && s != "0" {
		return "+" + s
	}
	return s
}

// plain formats v for Mermaid, whose grammar has no exponents: rounded to
// sig significant digits, in decimal notation.
func plain(v float64, sig int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return "0"
	}
	rounded, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'e', sig-1, 64), 64)
	return strconv.FormatFloat(rounded, 'f', -1, 64)
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// count formats an integer with thousands separators: 65536 → "65,536".
func count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// code renders s as an inline code span that is safe inside a table cell:
// pipes are escaped, line breaks become spaces and backticks in s get a
// longer fence. Text that opens an HTML comment (as a report marker does)
// is rendered as an HTML <code> element with every punctuation character
// as an entity, so the raw body never holds "<!--" from data.
func code(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	if strings.Contains(s, "<!--") {
		return htmlCode(s)
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	if s == "" {
		return "` `"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if fence != "`" || strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// htmlCode is s as <code>…</code> with ASCII punctuation as numeric
// entities: Markdown, HTML and table syntax all read it as plain text.
func htmlCode(s string) string {
	var b strings.Builder
	b.WriteString("<code>")
	for _, r := range s {
		if r < utf8.RuneSelf && (unicode.IsPunct(r) || unicode.IsSymbol(r)) {
			fmt.Fprintf(&b, "&#%d;", r)
			continue
		}
		b.WriteRune(r)
	}
	b.WriteString("</code>")
	return b.String()
}

// text escapes s for Markdown prose and table cells.
func text(s string) string {
	return strings.NewReplacer(
		"\r\n", " ", "\n", " ", "\r", " ",
		`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`,
		"[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "#", `\#`,
	).Replace(s)
}

// quoted makes s safe inside a double-quoted Mermaid string. The chart is
// raw text in the comment body, so an HTML comment opener becomes "‹!--".
func quoted(s string) string {
	return `"` + strings.NewReplacer(`"`, "'", "\n", " ", "\r", " ", "\\", "/", "<!--", "‹!--").Replace(s) + `"`
}
