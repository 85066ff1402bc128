package config

import (
	"errors"
	"strings"
	"testing"
)

func TestDataLimits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		yaml      string
		maxBytes  int64
		maxRows   int
		allowFIFO bool
		err       string
	}{
		{"defaults", "", 0, 0, false, ""},
		{"plain numbers", "  max_bytes: 1048576\n  max_rows: 5000\n", 1 << 20, 5000, false, ""},
		{"units", "  max_bytes: 64GiB\n", 64 << 30, 0, false, ""},
		{"quoted with a space", "  max_bytes: \"1.5 MiB\"\n", 1572864, 0, false, ""},
		{"short unit", "  max_bytes: 2g\n", 2 << 30, 0, false, ""},
		{"fifo", "  allow_fifo: true\n", 0, 0, true, ""},
		{"bad unit", "  max_bytes: 3 parsecs\n", 0, 0, false, "max_bytes"},
		{"negative", "  max_bytes: -1\n", 0, 0, false, "max_bytes"},
		{"zero bytes", "  max_bytes: 0\n", 0, 0, false, "data.max_bytes: want a size of at least 1 byte"},
		{"too large", "  max_bytes: 2EiB\n", 0, 0, false, "max_bytes"},
		{"zero rows", "  max_rows: 0\n", 0, 0, false, "data.max_rows: want at least 1 row"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := "data:\n  path: d.csv\n  target: y\n" + tc.yaml
			c, err := Parse([]byte(src), "modelci.yaml", "/p")
			if tc.err != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "modelci.yaml:4:") {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, r := c.Data.Limits()
			if b != tc.maxBytes || r != tc.maxRows || c.Data.AllowFIFO != tc.allowFIFO {
				t.Errorf("limits %d, %d, fifo %v; want %d, %d, %v", b, r, c.Data.AllowFIFO, tc.maxBytes, tc.maxRows, tc.allowFIFO)
			}
		})
	}
}

// FuzzParseSize: ParseSize never panics and accepts only sizes in
// [0, 1 EiB].
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1", "64GiB", "1.5 MiB", "2g", "-1", "1e400k", "9223372036854775807", "1e18p", " kb", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s)
		if err == nil && (v < 0 || v > maxSize) {
			t.Fatalf("ParseSize(%q) = %d", s, v)
		}
	})
}
