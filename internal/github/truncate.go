package github

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// truncateBudget is the size a too-long body is cut to: 64,000 bytes. A
// byte count bounds every way of counting characters (code points and
// UTF-16 units alike are never more than the UTF-8 bytes), so the result
// fits GitHub's 65,536-character limit with room for the closing note.
const truncateBudget = 64000

// truncateTarget is the size to cut body to after GitHub refused it: the
// budget, or half the body when the body is already below the budget (a
// server with a smaller limit).
func truncateTarget(body string) int {
	if len(body) > truncateBudget {
		return truncateBudget
	}
	return len(body) / 2
}

// TruncationNote ends a report cut to fit a PR comment.
const TruncationNote = "> [!NOTE]\n> This report was cut to fit GitHub's limit of 65,536 characters per comment. The full report is in the job summary and in the report file of the run."

// Truncate cuts a Markdown body to at most maxBytes bytes at a clean
// boundary: after a blank line if there is one in the last half, else after
// a line break, else at a character boundary. It closes a code fence and
// <details> elements left open by the cut, keeps the marker (putting it
// first if the cut removed it) and appends note (e.g. TruncationNote).
func Truncate(body, marker string, maxBytes int, note string) string {
	if len(body) <= maxBytes {
		return body
	}
	reserve := len(note) + len("\n```\n") + 4*len("</details>\n") + len(marker) + 8
	limit := maxBytes - reserve
	if limit < 0 {
		limit = 0
	}
	for limit > 0 && !utf8.RuneStart(body[limit]) {
		limit--
	}
	kept := body[:limit]
	if i := strings.LastIndex(kept, "\n\n"); i >= limit/2 {
		kept = kept[:i+1]
	} else if i := strings.LastIndexByte(kept, '\n'); i >= limit/2 {
		kept = kept[:i+1]
	}
	var b strings.Builder
	// A report body starts with its marker line (sticky.Carries), so the
	// cut keeps it there; a job summary has notes above it, where it stays.
	if marker != "" && !strings.Contains(kept, marker) {
		b.WriteString(marker)
		b.WriteString("\n")
	}
	b.WriteString(kept)
	if !strings.HasSuffix(kept, "\n") {
		b.WriteString("\n")
	}
	if f := openFence(kept); f != "" {
		b.WriteString(f + "\n")
	}
	opened := strings.Count(kept, "<details") - strings.Count(kept, "</details>")
	for i := 0; i < opened && i < 4; i++ {
		b.WriteString("</details>\n")
	}
	b.WriteString("\n")
	b.WriteString(note)
	b.WriteString("\n")
	out := b.String()
	if len(out) > maxBytes {
		// Only when maxBytes is smaller than the note itself.
		return fmt.Sprintf("%s\n%s\n", marker, note)
	}
	return out
}

// openFence returns the ``` or ~~~ fence the text ends inside, or "".
func openFence(s string) string {
	open := ""
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimLeft(line, " ")
		for _, f := range []string{"```", "~~~"} {
			if strings.HasPrefix(t, f) {
				switch {
				case open == "":
					open = f
				case open == f && strings.TrimSpace(strings.TrimLeft(t, f[:1])) == "":
					open = ""
				}
			}
		}
	}
	return open
}
