// Command boost times boost.Fit on a data set that bench/boost.sh wrote:
// raw little-endian float64 files, column-major (train_x.f64 holds
// feature 0 of every training row, then feature 1, …), with train_y.f64,
// test_x.f64 and test_y.f64 beside them and meta.txt ("rows features
// test_rows"). It prints one line of key=value pairs: the seconds spent
// loading and fitting, and the test metric (rmse, or accuracy and
// log_loss).
//
//	go run ./bench/boost -dir DIR -task regression|binary
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/modelci/modelci/internal/boost"
	"github.com/modelci/modelci/internal/model"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/boost:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("dir", "", "directory of the data set")
	task := flag.String("task", "regression", "regression or binary")
	workers := flag.Int("workers", 0, "boost.Params.Workers")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var n, p, nt int
	meta, err := os.ReadFile(filepath.Join(*dir, "meta.txt"))
	if err != nil {
		return fmt.Errorf("read meta: %w", err)
	}
	if _, err := fmt.Sscan(string(meta), &n, &p, &nt); err != nil {
		return fmt.Errorf("parse meta: %w", err)
	}
	res, load, fit, err := loadAndFit(*dir, *task, *workers, n, p)
	if err != nil {
		return err
	}

	tx, err := readColumns(filepath.Join(*dir, "test_x.f64"), nt, p)
	if err != nil {
		return err
	}
	ty, err := readColumns(filepath.Join(*dir, "test_y.f64"), nt, 1)
	if err != nil {
		return err
	}
	t2 := time.Now()
	raw := predict(res.Ensemble, tx)
	pred := time.Since(t2)
	fmt.Printf("tool=modelci load_s=%.3f fit_s=%.3f predict_s=%.3f trees=%d", load.Seconds(), fit.Seconds(), pred.Seconds(), len(res.Ensemble.Trees))
	if *task == "binary" {
		var correct, ll float64
		for i, v := range ty[0] {
			q := model.Sigmoid(raw[i])
			if float64(model.ClassIndex(raw[i])) == v {
				correct++
			}
			if v == 1 {
				ll -= math.Log(max(q, 1e-15))
			} else {
				ll -= math.Log(max(1-q, 1e-15))
			}
		}
		fmt.Printf(" accuracy=%.5f log_loss=%.5f\n", correct/float64(nt), ll/float64(nt))
		return nil
	}
	var se float64
	for i, v := range ty[0] {
		se += (raw[i] - v) * (raw[i] - v)
	}
	fmt.Printf(" rmse=%.5f\n", math.Sqrt(se/float64(nt)))
	return nil
}

// loadAndFit loads the training data and fits it; the data is garbage once
// it returns, before the test data is read.
func loadAndFit(dir, task string, workers, n, p int) (*boost.Result, time.Duration, time.Duration, error) {
	t0 := time.Now()
	x, err := readColumns(filepath.Join(dir, "train_x.f64"), n, p)
	if err != nil {
		return nil, 0, 0, err
	}
	y, err := readColumns(filepath.Join(dir, "train_y.f64"), n, 1)
	if err != nil {
		return nil, 0, 0, err
	}
	load := time.Since(t0)
	params := boost.DefaultParams(boost.SquaredError)
	// Fit may drop each float64 column once binned: x is not used again.
	d := boost.Data{Columns: x, Y: y[0], ReleaseColumns: true}
	if task == "binary" {
		params = boost.DefaultParams(boost.LogLoss)
		d.Classes = 2
	}
	params.Workers = workers
	t1 := time.Now()
	res, err := boost.Fit(context.Background(), d, params)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("fit: %w", err)
	}
	return res, load, time.Since(t1), nil
}

// readColumns reads p columns of n float64 each.
func readColumns(path string, n, p int) ([][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open data: %w", err)
	}
	defer f.Close()
	cols := make([][]float64, p)
	buf := make([]byte, 8<<16)
	for j := range cols {
		col := make([]float64, n)
		for i := 0; i < n; {
			m := min(n-i, len(buf)/8)
			if _, err := io.ReadFull(f, buf[:m*8]); err != nil {
				return nil, fmt.Errorf("read %s: %w", path, err)
			}
			for k := range m {
				col[i+k] = math.Float64frombits(binary.LittleEndian.Uint64(buf[k*8:]))
			}
			i += m
		}
		cols[j] = col
	}
	return cols, nil
}

// predict walks the ensemble for every row (raw scores of output 0).
func predict(e *model.TreeEnsemble, cols [][]float64) []float64 {
	n := len(cols[0])
	out := make([]float64, n)
	for _, t := range e.Trees {
		for i := range n {
			j := 0
			for t.Feature[j] >= 0 {
				v := cols[t.Feature[j]][i]
				switch {
				case math.IsNaN(v):
					if t.MissingLeft[j] {
						j = t.Left[j]
					} else {
						j = t.Right[j]
					}
				case v <= t.Threshold[j]:
					j = t.Left[j]
				default:
					j = t.Right[j]
				}
			}
			out[i] += t.Value[j]
		}
	}
	for i := range out {
		out[i] += e.BaseScore[0]
	}
	return out
}
