// Command gencsv writes a deterministic synthetic regression data set as CSV.
//
// The output has the header x1,…,xN,y. Every feature is drawn from N(0,1) and
// written with 6–9 significant digits; the target is
//
//	y = 3 + Σ β_j·x_j + ε,  ε ~ N(0, 0.5²)
//
// with fixed coefficients β_j = ((7j) mod 11 − 5)/2 (see internal/synthetic,
// which the Go benchmarks share). The same flags always produce
// byte-identical output, so the file can be used for benchmarks and golden
// tests:
//
//	go run ./bench/gencsv -rows 1000000 -features 20 -seed 1 -out /tmp/big.csv
package main

import (
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/modelci/modelci/internal/synthetic"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "gencsv:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake on the command line (exit code 2); other errors
// are failures (exit code 1).
type usageError struct{ error }

// params are the generator settings.
type params struct {
	rows, features int
	seed           uint64
	gzip           bool
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gencsv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p params
	var out string
	fs.IntVar(&p.rows, "rows", 1000, "number of data rows")
	fs.IntVar(&p.features, "features", 20, "number of feature columns")
	fs.Uint64Var(&p.seed, "seed", 1, "random seed")
	fs.StringVar(&out, "out", "-", "output path (- for stdout)")
	fs.BoolVar(&p.gzip, "gzip", false, "gzip-compress the output")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if p.rows < 0 || p.features < 1 {
		return usageError{fmt.Errorf("need -rows >= 0 and -features >= 1, got %d and %d", p.rows, p.features)}
	}
	if out == "-" {
		return generate(stdout, p)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := generate(f, p); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", out, err)
	}
	return nil
}

// generate writes the data set described by p to w.
func generate(w io.Writer, p params) error {
	var gz *gzip.Writer
	if p.gzip {
		var err error
		gz, err = gzip.NewWriterLevel(w, gzip.BestSpeed)
		if err != nil {
			return err
		}
		w = gz
	}
	if err := synthetic.RegressionCSV(w, p.rows, p.features, p.seed); err != nil {
		return err
	}
	if gz != nil {
		return gz.Close()
	}
	return nil
}
