package boost

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// validationSplit holds out ceil(ValidationFraction·n) rows, as
// train_test_split(test_size=validation_fraction) counts them: drawn at
// random from Seed, stratified by class for log_loss (each class gives its
// share of the held-out rows, rounded as scikit-learn's _approximate_mode
// rounds, ties to the lower class). The rows are not scikit-learn's. Both
// lists are ascending.
func validationSplit(d Data, p Params) (train, val []int, err error) {
	n := len(d.Y)
	nVal := int(math.Ceil(p.ValidationFraction * float64(n)))
	if nVal < 1 || n-nVal < 1 {
		return nil, nil, fmt.Errorf("%w data: %d rows cannot be split into training and validation_fraction %v", ErrInvalid, n, p.ValidationFraction)
	}
	rng := rand.New(rand.NewPCG(uint64(p.Seed), 0x5851f42d4c957f2d))
	isVal := make([]bool, n)
	if p.Loss == LogLoss {
		byClass := make([][]int, d.Classes)
		for i, y := range d.Y {
			byClass[int(y)] = append(byClass[int(y)], i)
		}
		take := allocate(byClass, n, nVal)
		for c, rows := range byClass {
			rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
			for _, r := range rows[:take[c]] {
				isVal[r] = true
			}
		}
	} else {
		perm := rng.Perm(n)
		for _, r := range perm[:nVal] {
			isVal[r] = true
		}
	}
	for i, v := range isVal {
		if v {
			val = append(val, i)
		} else {
			train = append(train, i)
		}
	}
	return train, val, nil
}

// allocate splits draws over the classes in proportion to their sizes:
// the floor of each share, then one more to the classes with the largest
// remainders.
func allocate(byClass [][]int, n, draws int) []int {
	take := make([]int, len(byClass))
	rem := make([]float64, len(byClass))
	left := draws
	for c, rows := range byClass {
		share := float64(draws) * float64(len(rows)) / float64(n)
		take[c] = int(math.Floor(share))
		rem[c] = share - float64(take[c])
		left -= take[c]
	}
	order := make([]int, len(byClass))
	for c := range order {
		order[c] = c
	}
	sort.SliceStable(order, func(a, b int) bool { return rem[order[a]] > rem[order[b]] })
	for _, c := range order {
		if left == 0 {
			break
		}
		if take[c] < len(byClass[c]) {
			take[c]++
			left--
		}
	}
	return slices.Clip(take)
}
