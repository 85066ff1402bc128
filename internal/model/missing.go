package model

import "strings"

// The missing-value rule. Training (the CSV reader), prediction (the
// encoder) and serving (V2 and MLflow inputs) all decide with these
// functions, so a value missing for one is missing for all:
//
//   - A value is first trimmed of surrounding spaces and tabs (TrimSpace),
//     as the CSV reader has always trimmed cells. Any other character, a CR
//     or LF inside a quoted cell or U+00A0 included, is part of the value,
//     so "NA\r" is a category, not a missing value, everywhere.
//   - It is missing when the trimmed value is exactly one of
//     ""  "NA"  "N/A"  "NaN"  "nan"  "NULL"  "null"  "None"  (IsMissingBytes).
//   - In a numeric feature, any other spelling that strconv.ParseFloat reads
//     as NaN ("nan" in any case, such as "NAN" or "nAn") is missing too
//     (IsNaNSpelling); in a categorical feature it is a category.
//   - A JSON null is missing.

// TrimSpace returns b without surrounding spaces and tabs.
func TrimSpace(b []byte) []byte { return trimSpace(b) }

func trimSpace[T string | []byte](b T) T {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t'
}

// IsMissingBytes reports whether value b, already trimmed with TrimSpace,
// is a missing-value token. It does not allocate.
func IsMissingBytes(b []byte) bool { return isMissingToken(b) }

func isMissingToken[T string | []byte](b T) bool {
	switch len(b) {
	case 0:
		return true
	case 2:
		return b[0] == 'N' && b[1] == 'A'
	case 3:
		s := string(b) // does not allocate: compared against constants
		return s == "N/A" || s == "NaN" || s == "nan"
	case 4:
		s := string(b)
		return s == "NULL" || s == "null" || s == "None"
	}
	return false
}

// IsNaNSpelling reports whether trimmed value b is a spelling of NaN that
// strconv.ParseFloat accepts: "nan" in any case, without a sign.
func IsNaNSpelling(b []byte) bool { return isNaNSpelling(b) }

func isNaNSpelling[T string | []byte](b T) bool {
	return len(b) == 3 && (b[0]|0x20) == 'n' && (b[1]|0x20) == 'a' && (b[2]|0x20) == 'n'
}

// IsMissing reports whether a text value counts as missing (see the rule
// above): its trimmed form is a missing-value token.
func IsMissing(s string) bool {
	return isMissingToken(trimSpace(s))
}

// IsMissingNumber reports whether a text value of a numeric feature counts
// as missing: a missing-value token or a NaN spelling.
func IsMissingNumber(s string) bool {
	b := trimSpace(s)
	return isMissingToken(b) || isNaNSpelling(b)
}

// missingTokens lists the tokens IsMissingBytes accepts, for messages and
// tests.
var missingTokens = [...]string{"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"}

// MissingTokens returns the missing-value tokens, quoted and comma
// separated, for messages.
func MissingTokens() string {
	q := make([]string, len(missingTokens))
	for i, t := range missingTokens {
		q[i] = `"` + t + `"`
	}
	return strings.Join(q, ", ")
}
