package split

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidSplit is wrapped by every error TestCount and TrainTest return for
// a test size that cannot split the rows, so callers can map it to a usage
// error with errors.Is.
var ErrInvalidSplit = errors.New("invalid train/test split")

// TestCount returns how many of n rows go to the test split (the other
// n - nTest rows are the train split), following scikit-learn's
// _validate_shuffle_split with train_size unset:
//
//   - 0 < testSize < 1 is a fraction: nTest = ceil(testSize * n), with the
//     product rounded to float64 exactly as Python does, so e.g. 0.07 * 100 =
//     7.000000000000001 gives 8 test rows, not 7.
//   - an integral testSize >= 1 is an absolute row count and must be smaller
//     than n. (scikit-learn distinguishes int from float; a float64 cannot, so
//     1.0 here means one row where Python's test_size=1.0 is rejected.)
//
// It fails when testSize is not finite, <= 0, a non-integral value >= 1, or
// when either split would be empty.
func TestCount(n int, testSize float64) (int, error) {
	var nTest int
	if n < 0 {
		return 0, fmt.Errorf("%w: negative row count %d", ErrInvalidSplit, n)
	}
	switch {
	case math.IsNaN(testSize) || math.IsInf(testSize, 0):
		return 0, fmt.Errorf("%w: test_size=%v is not a finite number", ErrInvalidSplit, testSize)
	case testSize <= 0:
		return 0, fmt.Errorf("%w: test_size=%v must be positive (a fraction in (0, 1) or a row count)", ErrInvalidSplit, testSize)
	case testSize < 1:
		// Python: ceil(test_size * n_samples) on floats.
		nTest = int(math.Ceil(testSize * float64(n)))
	case testSize != math.Trunc(testSize):
		return 0, fmt.Errorf("%w: test_size=%v must be a fraction in (0, 1) or a whole number of rows", ErrInvalidSplit, testSize)
	case testSize >= float64(n):
		return 0, fmt.Errorf("%w: test_size=%v rows must be smaller than the number of rows %d", ErrInvalidSplit, testSize, n)
	default:
		nTest = int(testSize)
	}
	nTrain := n - nTest
	switch {
	case nTest == 0:
		return 0, fmt.Errorf("%w: test split would have 0 rows: test_size=%v of %d rows", ErrInvalidSplit, testSize, n)
	case nTest > n:
		return 0, fmt.Errorf("%w: test split of %d rows is larger than the %d rows available", ErrInvalidSplit, nTest, n)
	case nTrain == 0:
		return 0, fmt.Errorf("%w: train split would have 0 rows: test_size=%v takes all %d rows (ceil(%v * %d) = %d)",
			ErrInvalidSplit, testSize, n, testSize, n, nTest)
	}
	return nTest, nil
}

// TrainTest returns the row indices scikit-learn's
//
//	train_test_split(np.arange(n), test_size=testSize, random_state=seed)
//
// selects: perm = RandomState(seed).permutation(n), test = perm[:nTest],
// train = perm[nTest:]. Both slices are in scikit-learn's order (not sorted)
// and have their own capacity, so appending to one never changes the other.
func TrainTest(n int, testSize float64, seed uint32) (test, train []int, err error) {
	nTest, err := TestCount(n, testSize)
	if err != nil {
		return nil, nil, fmt.Errorf("split %d rows: %w", n, err)
	}
	var rs RandomState
	rs.Seed(seed)
	perm := rs.Permutation(n)
	return perm[:nTest:nTest], perm[nTest:], nil
}
