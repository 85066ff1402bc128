package cli

import (
	"github.com/modelci/modelci/internal/dataset"
	"github.com/modelci/modelci/internal/revision"

	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelci/modelci/internal/atomicfile"
	"github.com/modelci/modelci/internal/metrics"
	"github.com/modelci/modelci/internal/model"
	"github.com/modelci/modelci/internal/train"
)

func newTrainCmd(env Env) *cobra.Command {
	var (
		cfgPath string
		out     string
		workers int
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Prepare the data, train the model and evaluate it on the held-out split",
		Long: `Reads modelci.yaml, loads the data, splits it exactly as scikit-learn's
train_test_split does, fits the model and evaluates it on the test rows.
Writes model.json, metrics.json and profile.json to --out atomically.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			// Refuse an --out that is not ours before spending the training.
			if err := atomicfile.Replaceable(out, atomicfile.ModelDir); err != nil {
				return err
			}
			start := time.Now()
			budget, err := memoryBudget(env)
			if err != nil {
				return err
			}
			res, err := train.Train(cmd.Context(), cfg, train.Options{Workers: workers, MemoryBudget: budget})
			if err != nil {
				return err
			}
			// A signal that arrived after the fit still means: write nothing.
			if err := cmd.Context().Err(); err != nil {
				return err
			}
			if err := train.Write(out, res); err != nil {
				return err
			}
			printTrainResult(env.Stdout, res, out, time.Since(start))
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "modelci.yaml", "path to modelci.yaml")
	cmd.Flags().StringVarP(&out, "out", "o", "dist/model", "directory to write the model to")
	workersFlag(cmd, &workers)
	return cmd
}

func printTrainResult(w io.Writer, res *train.Result, out string, took time.Duration) {
	m := res.Model
	mf := res.Metrics
	fit := m.Training.Solver + " solver"
	if b := m.Training.Boosting; b != nil {
		trees, leaves := m.Predictor.Trees.Leaves()
		fit = fmt.Sprintf("%s, %d trees, %d leaves", b.Loss, trees, leaves)
		if b.EarlyStopping {
			fit += fmt.Sprintf(", early stopping after %d iterations", m.Training.Iterations)
		}
	}
	fmt.Fprintf(w, "model %s: %s (%s), %d features → %d columns\n", m.Name, m.Algorithm, fit, len(m.Features), len(m.Columns))
	fmt.Fprintf(w, "data  %s: %d rows, sha256 %s\n", mf.Data.Path, mf.Data.Rows, revision.Short(mf.Data.SHA256))
	if mf.Data.DroppedMissingTarget > 0 {
		fmt.Fprintf(w, "      dropped %d row(s) with a missing target\n", mf.Data.DroppedMissingTarget)
	}
	if mf.Data.DroppedMissingFeatures > 0 {
		fmt.Fprintf(w, "      dropped %d row(s) with a missing feature (data.missing: drop)\n", mf.Data.DroppedMissingFeatures)
	}
	if n := len(mf.Data.Imputed); n > 0 {
		fmt.Fprintf(w, "      imputed missing values in %d feature(s): %s\n", n, formatCounts(mf.Data.Imputed))
	}
	fmt.Fprintf(w, "split %d train / %d test rows (test_size %g, seed %d)\n", mf.Split.TrainRows, mf.Split.TestRows, mf.Split.TestSize, mf.Split.Seed)
	if m.Training.Solver == "gd" || m.Training.Solver == "lbfgs" {
		state := "converged"
		if !m.Training.Converged {
			state = "did NOT converge"
		}
		fmt.Fprintf(w, "fit   %s in %d iterations, loss %s\n", state, m.Training.Iterations, formatValue(m.Training.Loss, 6))
	}
	fmt.Fprintln(w)
	printMetrics(w, res.Test.Metrics, mf.Skipped)
	if k := len(mf.ConfusionMatrix); k >= 2 && k <= 12 && len(mf.Classes) == k {
		fmt.Fprintf(w, "\nconfusion matrix (rows: true, columns: predicted; classes %s)\n", dataset.QuoteList(mf.Classes))
		for _, row := range mf.ConfusionMatrix {
			fmt.Fprint(w, " ")
			for _, v := range row {
				fmt.Fprintf(w, " %8d", v)
			}
			fmt.Fprintln(w)
		}
	}
	for _, warn := range mf.Warnings {
		fmt.Fprintf(w, "\nwarning: %s\n", warn)
	}
	var stages []string
	for _, s := range res.Stages {
		stages = append(stages, fmt.Sprintf("%s %s", s.Name, s.Duration.Round(time.Millisecond)))
	}
	fmt.Fprintf(w, "\nwrote %s (%s, %s, %s) in %s [%s]\n", out, model.FileModel, model.FileMetrics, model.FileProfile, took.Round(time.Millisecond), strings.Join(stages, ", "))
}

// printMetrics prints a metric table with each metric's better direction.
func printMetrics(w io.Writer, values []metrics.Value, skipped map[string]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tvalue\tbetter")
	for _, v := range values {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, formatValue(v.Value, 6), arrow(string(v.Direction)))
	}
	names := make([]string, 0, len(skipped))
	for n := range skipped {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t–\t(%s)\n", n, skipped[n])
	}
	_ = tw.Flush()
}

func arrow(direction string) string {
	if direction == string(metrics.Lower) {
		return "↓ lower"
	}
	return "↑ higher"
}

func formatValue(v float64, digits int) string {
	return strconv.FormatFloat(v, 'g', digits, 64)
}

func formatCounts(m map[string]int) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s (%d)", n, m[n])
	}
	return strings.Join(parts, ", ")
}
