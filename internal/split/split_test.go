package split

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// splitGolden mirrors testdata/train_test_split.json (scripts/goldens/split.py).
type splitGolden struct {
	Sklearn        string      `json:"sklearn"`
	FullArraysMaxN int         `json:"full_arrays_max_n"`
	Cases          []splitCase `json:"cases"`
	Counts         []struct {
		N        int     `json:"n"`
		TestSize float64 `json:"test_size"`
		IsInt    bool    `json:"test_size_is_int"`
		Error    string  `json:"error"`
		NTest    int     `json:"n_test"`
		NTrain   int     `json:"n_train"`
	} `json:"counts"`
}

type splitCase struct {
	N           int     `json:"n"`
	TestSize    float64 `json:"test_size"`
	IsInt       bool    `json:"test_size_is_int"`
	Seed        uint32  `json:"seed"`
	Error       string  `json:"error"`
	NTest       int     `json:"n_test"`
	NTrain      int     `json:"n_train"`
	Test        []int   `json:"test"`
	Train       []int   `json:"train"`
	TestHead    []int   `json:"test_head"`
	TestTail    []int   `json:"test_tail"`
	TrainHead   []int   `json:"train_head"`
	TrainTail   []int   `json:"train_tail"`
	TestSHA256  string  `json:"test_sha256"`
	TrainSHA256 string  `json:"train_sha256"`
}

func loadSplitGolden(t *testing.T) *splitGolden {
	t.Helper()
	var g splitGolden
	loadJSON(t, "train_test_split.json", &g)
	if len(g.Cases) == 0 || len(g.Counts) == 0 {
		t.Fatal("train_test_split.json has no cases")
	}
	return &g
}

// sha256Int64 hashes indices as little-endian int64, as the golden script does.
func sha256Int64(a []int) string {
	h := sha256.New()
	var buf [8]byte
	for _, v := range a {
		binary.LittleEndian.PutUint64(buf[:], uint64(int64(v)))
		h.Write(buf[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// floatIntegralDeviation reports a test_size that Python treats as an invalid
// float (e.g. 1.0) but TestCount, which cannot tell 1.0 from 1, treats as a
// row count. Documented on TestCount.
func floatIntegralDeviation(testSize float64, isInt bool) bool {
	return !isInt && testSize >= 1 && testSize == math.Trunc(testSize)
}

func TestTrainTestGolden(t *testing.T) {
	t.Parallel()
	g := loadSplitGolden(t)
	var nErr, nOK int
	for _, c := range g.Cases {
		if c.Error != "" {
			nErr++
		} else {
			nOK++
		}
		t.Run(fmt.Sprintf("n=%d/t=%v/seed=%d", c.N, c.TestSize, c.Seed), func(t *testing.T) {
			t.Parallel()
			test, train, err := TrainTest(c.N, c.TestSize, c.Seed)
			if c.Error != "" {
				if err == nil {
					t.Fatalf("scikit-learn raised %q, TrainTest returned no error", c.Error)
				}
				if !errors.Is(err, ErrInvalidSplit) {
					t.Fatalf("error %v does not wrap ErrInvalidSplit", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("TrainTest: %v", err)
			}
			if len(test) != c.NTest || len(train) != c.NTrain {
				t.Fatalf("sizes test=%d train=%d, want %d/%d", len(test), len(train), c.NTest, c.NTrain)
			}
			// Exact match: these are row indices.
			if c.Test != nil || c.N <= g.FullArraysMaxN {
				if !equalInts(test, c.Test) || !equalInts(train, c.Train) {
					t.Fatalf("test=%v train=%v, want test=%v train=%v", test, train, c.Test, c.Train)
				}
			} else {
				k := len(c.TestHead)
				if !equalInts(test[:k], c.TestHead) || !equalInts(test[len(test)-len(c.TestTail):], c.TestTail) {
					t.Fatalf("test head/tail differ: got %v...%v", test[:k], test[len(test)-len(c.TestTail):])
				}
				k = len(c.TrainHead)
				if !equalInts(train[:k], c.TrainHead) || !equalInts(train[len(train)-len(c.TrainTail):], c.TrainTail) {
					t.Fatalf("train head/tail differ")
				}
			}
			if got := sha256Int64(test); got != c.TestSHA256 {
				t.Fatalf("test sha256 %s, want %s", got, c.TestSHA256)
			}
			if got := sha256Int64(train); got != c.TrainSHA256 {
				t.Fatalf("train sha256 %s, want %s", got, c.TrainSHA256)
			}
		})
	}
	if nErr == 0 || nOK == 0 {
		t.Fatalf("golden should cover both errors and splits: %d errors, %d splits", nErr, nOK)
	}
}

func TestTestCountGolden(t *testing.T) {
	t.Parallel()
	g := loadSplitGolden(t)
	for _, c := range g.Counts {
		t.Run(fmt.Sprintf("n=%d/t=%v", c.N, c.TestSize), func(t *testing.T) {
			t.Parallel()
			got, err := TestCount(c.N, c.TestSize)
			wantErr := c.Error != ""
			if wantErr && floatIntegralDeviation(c.TestSize, c.IsInt) && c.TestSize < float64(c.N) {
				// Python rejects the float 1.0; we read it as one row.
				if err != nil || got != int(c.TestSize) {
					t.Fatalf("TestCount = %d, %v; want %d rows", got, err, int(c.TestSize))
				}
				return
			}
			if wantErr {
				if err == nil {
					t.Fatalf("scikit-learn raised %q, TestCount returned %d", c.Error, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("TestCount: %v (scikit-learn: %d test rows)", err, c.NTest)
			}
			if got != c.NTest || c.N-got != c.NTrain {
				t.Fatalf("TestCount = %d (train %d), want %d (train %d)", got, c.N-got, c.NTest, c.NTrain)
			}
		})
	}
}

func TestTestCountErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		n        int
		testSize float64
		want     int
		wantErr  string
	}{
		{"fraction", 10, 0.25, 3, ""},
		{"ceil above integer", 100, 0.07, 8, ""},  // 0.07*100 = 7.000000000000001
		{"ceil below integer", 100, 0.57, 57, ""}, // 0.57*100 = 56.99999999999999
		{"count", 10, 3, 3, ""},
		{"count one as float", 10, 1.0, 1, ""},
		{"zero rows", 0, 0.25, 0, "test split would have 0 rows: test_size=0.25 of 0 rows"},
		{"negative rows", -1, 0.25, 0, "negative row count -1"},
		{"all rows to test", 5, 0.9, 0, "train split would have 0 rows"},
		{"single row", 1, 0.5, 0, "train split would have 0 rows"},
		{"count equals n", 5, 5, 0, "must be smaller than the number of rows 5"},
		{"count above n", 5, 7, 0, "must be smaller than the number of rows 5"},
		{"zero", 10, 0, 0, "must be positive"},
		{"negative", 10, -0.2, 0, "must be positive"},
		{"non-integral above one", 10, 1.5, 0, "whole number of rows"},
		{"NaN", 10, math.NaN(), 0, "not a finite number"},
		{"Inf", 10, math.Inf(1), 0, "not a finite number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := TestCount(tc.n, tc.testSize)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("TestCount(%d, %v) = %d, %v; want %d", tc.n, tc.testSize, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("TestCount(%d, %v) = %d, want error containing %q", tc.n, tc.testSize, got, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalidSplit) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q: want ErrInvalidSplit containing %q", err, tc.wantErr)
			}
			if _, _, err2 := TrainTest(tc.n, tc.testSize, 0); err2 == nil || !errors.Is(err2, ErrInvalidSplit) {
				t.Fatalf("TrainTest error %v, want wrapped ErrInvalidSplit", err2)
			}
		})
	}
}

func TestTrainTestSlicesIndependent(t *testing.T) {
	t.Parallel()
	test, train, err := TrainTest(10, 0.3, 42)
	if err != nil {
		t.Fatal(err)
	}
	first := train[0]
	_ = append(test, -1)
	if train[0] != first {
		t.Fatal("appending to test overwrote train")
	}
}
