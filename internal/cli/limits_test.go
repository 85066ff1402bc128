package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
)

// TestTrainDataLimits: data.max_bytes and data.max_rows bound the read of
// `modelci train` (a gzip bomb among them) with exit code 2, an error that
// names the key, and no model directory.
func TestTrainDataLimits(t *testing.T) {
	t.Parallel()
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write([]byte("x1,x2,city,y\n"))
	_, _ = zw.Write(bytes.Repeat([]byte("0,0,a,0\n"), 10<<20/8)) // 10 MiB
	_ = zw.Close()
	cases := []struct {
		name   string
		config string
		data   []byte
		file   string
		want   string
	}{
		{"gzip bomb", "data:\n  path: data.csv.gz\n  target: y\n  max_bytes: 1MiB\n", bomb.Bytes(), "data.csv.gz", "data.max_bytes"},
		{"too many rows", "data:\n  path: data.csv\n  target: y\n  max_rows: 59\n", []byte(regressionCSV(60)), "data.csv", "more than 59 data rows"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := project(t, map[string]string{"modelci.yaml": tc.config})
			if err := os.WriteFile(filepath.Join(dir, tc.file), tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out")
			env, _, stderr := testEnv()
			err := Run(context.Background(), env, []string{"train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", out})
			if got := exitcode.Of(err); got != exitcode.Usage || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit code %d, stderr %s", got, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written", out)
			}
		})
	}
}
