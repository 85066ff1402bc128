package config

import (
	"fmt"
	"strings"

	units "github.com/docker/go-units"
)

// maxSize bounds a Size (1 EiB), far above any real limit, so that the
// arithmetic on it cannot overflow.
const maxSize = 1 << 60

// Size is a number of bytes, written as a plain number (1048576) or with a
// binary unit, case-insensitive, the "b" optional: "512KiB", "64 GiB",
// "1.5g", "2TB" (k, m, g, t and p are powers of 1024, whatever the
// spelling).
type Size struct {
	Bytes int64
	// text is the value as written; bad says it did not parse (reported
	// by Validate, which knows the field's line).
	text string
	bad  bool
}

// ParseSize parses a size as written in modelci.yaml.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	v, err := units.RAMInBytes(s)
	if err != nil || v < 0 || v > maxSize {
		return 0, fmt.Errorf("want a size such as 1048576, \"512MiB\" or \"64GiB\" (at most 1 EiB), got %q", s)
	}
	return v, nil
}

// UnmarshalYAML accepts a number or a string with a unit.
func (s *Size) UnmarshalYAML(b []byte) error {
	s.text = strings.Trim(strings.TrimSpace(string(b)), `"'`)
	v, err := ParseSize(s.text)
	s.Bytes, s.bad = v, err != nil
	return nil
}

// Limits returns data.max_bytes and data.max_rows, 0 for unset (the
// dataset package's defaults: 64 GiB and 100,000,000 rows).
func (d Data) Limits() (maxBytes int64, maxRows int) {
	if d.MaxBytes != nil {
		maxBytes = d.MaxBytes.Bytes
	}
	if d.MaxRows != nil {
		maxRows = *d.MaxRows
	}
	return maxBytes, maxRows
}

func (d Data) validateLimits() []error {
	var errs []error
	if d.MaxBytes != nil {
		if _, err := ParseSize(d.MaxBytes.text); d.MaxBytes.bad {
			errs = append(errs, &FieldError{Field: "data.max_bytes", Msg: err.Error()})
		} else if d.MaxBytes.Bytes < 1 {
			errs = append(errs, &FieldError{Field: "data.max_bytes", Msg: fmt.Sprintf("want a size of at least 1 byte, got %d", d.MaxBytes.Bytes)})
		}
	}
	if d.MaxRows != nil && *d.MaxRows < 1 {
		errs = append(errs, &FieldError{Field: "data.max_rows", Msg: fmt.Sprintf("want at least 1 row, got %d", *d.MaxRows)})
	}
	return errs
}
