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
	"github.com/modelci/modelci/internal/model"
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
also the probability of the positive class (binary) or of every class
(multiclass, in the order of the model's classes, as scikit-learn's
predict_proba). A row that cannot be scored
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
			header = append(header, probabilityColumns(m)...)
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
						probs := res.Probs[k*res.Classes : (k+1)*res.Classes]
						if res.Classes == 2 {
							probs = probs[1:]
						}
						for j, q := range probs {
							pred[1+j] = strconv.FormatFloat(q, 'g', -1, 64)
						}
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

// probabilityColumns are the probability columns of a classifier's
// predictions: the positive class's of a binary model (probability_<class
// 1>), every class's of a multiclass one, in the model's class order, as
// scikit-learn's predict_proba orders them.
func probabilityColumns(m *model.Model) []string {
	if !m.IsClassifier() {
		return nil
	}
	classes := m.Classes
	if len(classes) == 2 {
		classes = classes[1:]
	}
	out := make([]string, len(classes))
	for i, c := range classes {
		out[i] = "probability_" + c
	}
	return out
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
