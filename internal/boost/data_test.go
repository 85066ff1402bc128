package boost

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// readCSV reads a testdata CSV written by scripts/goldens/boost.py:
// feature columns, then y; an empty cell is missing.
func readCSV(t testing.TB, name string) (cols [][]float64, y []float64) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	p := len(recs[0]) - 1
	cols = make([][]float64, p)
	for _, rec := range recs[1:] {
		for j := range p {
			v := math.NaN()
			if rec[j] != "" {
				if v, err = strconv.ParseFloat(rec[j], 64); err != nil {
					t.Fatal(err)
				}
			}
			cols[j] = append(cols[j], v)
		}
		v, err := strconv.ParseFloat(rec[p], 64)
		if err != nil {
			t.Fatal(err)
		}
		y = append(y, v)
	}
	return cols, y
}

type goldenCase struct {
	Name      string  `json:"name"`
	Task      string  `json:"task"`
	Classes   int     `json:"classes"`
	RMSE      float64 `json:"rmse"`
	Accuracy  float64 `json:"accuracy"`
	LogLoss   float64 `json:"log_loss"`
	RowsTrain int     `json:"rows_train"`
}

type goldenTiny struct {
	Baseline  float64   `json:"baseline"`
	Feature   []int     `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int     `json:"left"`
	Right     []int     `json:"right"`
	Missing   []bool    `json:"missing_go_to_left"`
	Value     []float64 `json:"value"`
	Gain      []float64 `json:"gain"`
	Count     []int     `json:"count"`
}

type golden struct {
	Cases []goldenCase `json:"cases"`
	Tiny  goldenTiny   `json:"tiny"`
}

func readGolden(t testing.TB) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// synthetic returns n rows of p features (a tenth missing) and a target:
// a regression target, or a class index of classes classes.
func synthetic(n, p, classes int, seed uint64) Data {
	rng := rand.New(rand.NewPCG(seed, 1))
	cols := make([][]float64, p)
	for j := range cols {
		cols[j] = make([]float64, n)
	}
	y := make([]float64, n)
	for i := range n {
		var s float64
		for j := range p {
			v := rng.NormFloat64()
			if j%3 == 2 {
				v = math.Round(v * 4) // few distinct values
			}
			s += v * float64(j%4+1) / 4
			if j < 3 {
				s += v * v / 2
			}
			if rng.Float64() < 0.1 {
				v = math.NaN()
			}
			cols[j][i] = v
		}
		s += rng.NormFloat64()
		if classes == 0 {
			y[i] = s
		} else {
			c := int(math.Floor(s/2)) + classes/2
			y[i] = float64(min(max(c, 0), classes-1))
		}
	}
	return Data{Columns: cols, Y: y, Classes: classes}
}
