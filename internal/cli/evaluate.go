package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/evaluate"
	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/revision"
)

// evaluation is the JSON form of `modelci evaluate --json`.
type evaluation struct {
	Model           string             `json:"model"`
	Task            string             `json:"task"`
	Data            string             `json:"data"`
	DataSHA256      string             `json:"data_sha256"`
	Rows            int                `json:"rows"`
	Split           string             `json:"split"`
	Scored          int                `json:"scored"`
	DroppedMissing  int                `json:"dropped_missing_features"`
	Metrics         map[string]float64 `json:"metrics"`
	Directions      map[string]string  `json:"directions"`
	Skipped         map[string]string  `json:"skipped,omitempty"`
	ConfusionMatrix [][]int            `json:"confusion_matrix,omitempty"`
	Unseen          map[string]int     `json:"unseen_categories,omitempty"`
}

func newEvaluateCmd(env Env) *cobra.Command {
	var (
		modelDir  string
		dataPath  string
		names     []string
		asJSON    bool
		delimiter string
		splitName string
	)
	cmd := &cobra.Command{
		Use:   "evaluate",
		Short: "Score an existing model on a dataset",
		Long: `Loads a model directory, scores every row of --data that has a target,
and prints the metrics of the model's task.

--split test scores only the test rows of the split the model was trained
with (its test_size and seed), which needs the training data file itself;
--split all (the default) scores every row.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, f, rows, err := loadModelAndData(cmd.Context(), "evaluate", modelDir, dataPath, delimiter)
			if err != nil {
				return err
			}
			m := p.Model()
			switch splitName {
			case "all":
			case "test":
				if rows, err = evaluate.TestRows(m, f); err != nil {
					return exitcode.AsUsage(err)
				}
			default:
				return usageError("--split: want all or test, got %q", splitName)
			}
			res, err := evaluate.Evaluate(p, f, rows, names)
			if err != nil {
				return err
			}
			ev := evaluation{
				Model: m.Name, Task: m.Task, Data: dataPath, DataSHA256: f.SHA256,
				Rows: f.Rows, Split: splitName, Scored: len(res.Rows), DroppedMissing: res.DroppedMissing,
				ConfusionMatrix: res.Confusion, Unseen: res.Unseen,
			}
			if len(ev.Unseen) == 0 {
				ev.Unseen = nil
			}
			ev.Metrics, ev.Directions, ev.Skipped = res.Maps()
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ev)
			}
			scope := fmt.Sprintf("scored all %d rows", len(res.Rows))
			if splitName == "test" {
				scope = fmt.Sprintf("scored the %d test rows of the split (test_size %g, seed %d)", len(res.Rows), m.Training.TestSize, m.Training.Seed)
			}
			fmt.Fprintf(env.Stdout, "model %s (%s) on %s: %s; %d of %d rows scored, sha256 %s\n\n", m.Name, m.Algorithm, dataPath, scope, len(res.Rows), f.Rows, revision.Short(f.SHA256))
			printMetrics(env.Stdout, res.Metrics, ev.Skipped)
			if len(res.Unseen) > 0 {
				fmt.Fprintf(env.Stdout, "\nunseen categories (encoded as all zeros): %s\n", formatCounts(res.Unseen))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&modelDir, "model", "m", "", "model directory (from modelci train)")
	cmd.Flags().StringVarP(&dataPath, "data", "d", "", "CSV file to score (.csv or .csv.gz), with the target column")
	cmd.Flags().StringSliceVar(&names, "metrics", nil, "metrics to compute (default: all of the task)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	cmd.Flags().StringVar(&delimiter, "delimiter", "", "field delimiter (default: sniffed)")
	cmd.Flags().StringVar(&splitName, "split", "all", "rows to score: all, or test (the model's test split of its training data)")
	return cmd
}
