package cli

import (
	"bytes"
	"encoding/csv"

	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/evaluate"
)

func newPredictCmd(env Env) *cobra.Command {
	var (
		modelDir  string
		dataPath  string
		out       string
		delimiter string
		keep      []string
	)
	cmd := &cobra.Command{
		Use:   "predict",
		Short: "Predict every row of a CSV file",
		Long: `Writes one output row per input row: the prediction, and for a classifier
also the probability of the positive class. A row that cannot be scored
(a missing value under data.missing: drop) gets empty cells.

--keep COL (repeatable) copies input columns, such as an ID, into the
output before the prediction, as written in the input (numeric features
as their parsed value).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, f, rows, err := loadModelAndData(cmd.Context(), "predict", modelDir, dataPath, delimiter, keep...)
			if err != nil {
				return err
			}
			kept := make([]*dataset.Column, len(keep))
			for i, name := range keep {
				c, ok := f.Column(name)
				if !ok {
					return usageError("--keep: column %q is not in %s; the columns are %s", name, dataPath, strings.Join(f.Header, ", "))
				}
				kept[i] = c
			}
			m := p.Model()
			s, err := evaluate.NewScorer(p, f)
			if err != nil {
				return err
			}
			res, err := s.Score(rows)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			header := append(slices.Clone(keep), "prediction")
			if m.IsClassifier() {
				header = append(header, "probability_"+m.Classes[1])
			}
			if err := w.Write(header); err != nil {
				return err
			}
			k := 0
			rec := make([]string, len(header))
			for r := 0; r < f.Rows; r++ {
				clear(rec)
				for i, c := range kept {
					rec[i] = cellText(c, r)
				}
				pred := rec[len(kept):]
				if k < len(res.Rows) && res.Rows[k] == r {
					if m.IsClassifier() {
						pred[0] = m.Classes[int(res.Pred[k])]
						pred[1] = strconv.FormatFloat(res.Proba[k], 'g', -1, 64)
					} else {
						pred[0] = strconv.FormatFloat(res.Pred[k], 'g', -1, 64)
					}
					k++
				}
				if err := w.Write(rec); err != nil {
					return err
				}
			}
			w.Flush()
			if err := w.Error(); err != nil {
				return err
			}
			if res.DroppedMissing > 0 {
				fmt.Fprintf(env.Stderr, "modelci: %d row(s) had a missing value under data.missing: drop and were left empty\n", res.DroppedMissing)
			}
			if len(res.Unseen) > 0 {
				fmt.Fprintf(env.Stderr, "modelci: unseen categories (encoded as all zeros): %s\n", formatCounts(res.Unseen))
			}
			if err := writeOut(env, out, buf.Bytes(), "the predictions"); err != nil {
				return err
			}
			if out == "" || out == "-" {
				return nil
			}
			fmt.Fprintf(env.Stderr, "modelci: wrote %d predictions to %s\n", f.Rows, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&modelDir, "model", "m", "", "model directory (from modelci train)")
	cmd.Flags().StringVarP(&dataPath, "data", "d", "", "CSV file to predict (.csv or .csv.gz)")
	cmd.Flags().StringVarP(&out, "out", "o", "-", "output CSV file (- for stdout)")
	cmd.Flags().StringVar(&delimiter, "delimiter", "", "field delimiter (default: sniffed)")
	cmd.Flags().StringArrayVar(&keep, "keep", nil, "copy this input column (such as an ID) into the output; repeatable")
	return cmd
}

// cellText is the text of row r of c: the raw value of a text column, the
// shortest round-tripping form of a number, "" when missing.
func cellText(c *dataset.Column, r int) string {
	if c.Kind == dataset.Numeric {
		if math.IsNaN(c.Floats[r]) {
			return ""
		}
		return strconv.FormatFloat(c.Floats[r], 'g', -1, 64)
	}
	if c.Codes[r] < 0 {
		return ""
	}
	return c.Levels[c.Codes[r]]
}

func parseDelimiterFlag(s string) (rune, error) {
	switch s {
	case "":
		return 0, nil
	case "tab", `\t`:
		return '\t', nil
	}
	if utf8.RuneCountInString(s) != 1 {
		return 0, usageError("--delimiter: want one character, got %q", s)
	}
	r, _ := utf8.DecodeRuneInString(s)
	if r == '"' || r == '\n' || r == '\r' {
		return 0, usageError("--delimiter: %q cannot be a delimiter", s)
	}
	return r, nil
}
