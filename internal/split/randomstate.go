// Package split reproduces numpy's legacy random number generator
// (np.random.RandomState, MT19937) and scikit-learn's train_test_split row
// selection, so that a seed gives exactly the same train and test rows, in the
// same order, as
//
//	train_test_split(X, y, test_size=t, random_state=seed)
//
// with scikit-learn 1.2 and numpy 1.24.
package split

import (
	"fmt"
	"math"
)

// MT19937 parameters.
const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// MaxSeed is the largest seed numpy's legacy RandomState accepts (2^32 - 1).
const MaxSeed = math.MaxUint32

// RandomState is numpy's legacy np.random.RandomState: a Mersenne Twister
// (MT19937) seeded with init_genrand, plus the legacy bounded-integer,
// shuffle and uniform-double algorithms built on top of it.
//
// Create one with NewRandomState or call Seed. The zero value behaves like
// NewRandomState(0). A RandomState is not safe for concurrent use; draws do
// not allocate.
type RandomState struct {
	key [mtN]uint32
	// posx is the index of the next output in key, XOR mtN, so that the zero
	// value (posx == 0, i.e. index mtN) triggers a twist, which seeds an
	// unseeded generator.
	posx   uint
	seeded bool
}

// NewRandomState returns the generator np.random.RandomState(seed) would be.
func NewRandomState(seed uint32) *RandomState {
	r := &RandomState{}
	r.Seed(seed)
	return r
}

// SeedFromInt converts an integer seed to the uint32 numpy uses, rejecting
// values outside [0, 2^32-1] as np.random.RandomState does.
func SeedFromInt(seed int64) (uint32, error) {
	if seed < 0 || seed > MaxSeed {
		return 0, fmt.Errorf("seed %d out of range: numpy's RandomState requires 0 <= seed <= %d", seed, uint64(MaxSeed))
	}
	return uint32(seed), nil
}

// Seed resets the generator to the state of np.random.RandomState(seed)
// (MT19937 init_genrand).
func (r *RandomState) Seed(seed uint32) {
	s := seed
	for i := 0; i < mtN; i++ {
		r.key[i] = s
		s = 1812433253*(s^(s>>30)) + uint32(i) + 1
	}
	r.posx = 0 // index mtN (posx is the index XOR mtN): twist before the first output
	r.seeded = true
}

// twist refills the state array (the MT19937 generation step) and returns
// the index of the next output, 0; the caller updates posx.
func (r *RandomState) twist() uint {
	if !r.seeded {
		r.Seed(0)
	}
	k := &r.key
	var i int
	for i = 0; i < mtN-mtM; i++ {
		y := (k[i] & mtUpperMask) | (k[i+1] & mtLowerMask)
		k[i] = k[i+mtM] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
	}
	for ; i < mtN-1; i++ {
		y := (k[i] & mtUpperMask) | (k[i+1] & mtLowerMask)
		k[i] = k[i+mtM-mtN] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
	}
	y := (k[mtN-1] & mtUpperMask) | (k[0] & mtLowerMask)
	k[mtN-1] = k[mtM-1] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
	return 0
}

// Uint32 returns the next tempered 32-bit output (genrand_int32).
func (r *RandomState) Uint32() uint32 {
	p := r.posx ^ mtN
	if p >= mtN {
		p = r.twist()
	}
	r.posx = (p + 1) ^ mtN
	y := r.key[p]
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	return y ^ (y >> 18)
}

// Uint64 returns numpy's next_uint64 for MT19937: the first 32-bit draw is
// the high word, the second the low word.
func (r *RandomState) Uint64() uint64 {
	hi := uint64(r.Uint32())
	lo := uint64(r.Uint32())
	return hi<<32 | lo
}

// mask returns the smallest 2^k-1 >= v.
func mask(v uint64) uint64 {
	v |= v >> 1
	v |= v >> 2
	v |= v >> 4
	v |= v >> 8
	v |= v >> 16
	v |= v >> 32
	return v
}

// Interval returns a uniform integer in [0, max] using numpy's
// random_interval: masked rejection sampling on 32-bit draws when
// max <= 2^32-1 and on 64-bit draws (Uint64) otherwise. Interval(0) returns 0
// without consuming any randomness.
func (r *RandomState) Interval(max uint64) uint64 {
	if max == 0 {
		return 0
	}
	m := mask(max)
	if max <= math.MaxUint32 {
		m32, max32 := uint32(m), uint32(max)
		for {
			if v := r.Uint32() & m32; v <= max32 {
				return uint64(v)
			}
		}
	}
	for {
		if v := r.Uint64() & m; v <= max {
			return v
		}
	}
}

// RandInt returns the value numpy's legacy RandomState.randint(0, n) would
// draw: masked rejection sampling of a value in [0, n-1] (32-bit draws when
// n-1 fits in 32 bits, 64-bit draws otherwise). Drawing k values with k calls
// consumes the generator exactly as randint(0, n, size=k) does.
//
// numpy raises for n <= 0; RandInt returns 0 without consuming randomness.
// n == 1 also returns 0 without consuming randomness, as numpy does.
func (r *RandomState) RandInt(n int) int {
	if n <= 1 {
		return 0
	}
	return int(r.Interval(uint64(n) - 1))
}

// Float64 returns numpy's random_sample(): a uniform double in [0, 1) built
// from two 32-bit draws with 53 bits of precision.
func (r *RandomState) Float64() float64 {
	a := r.Uint32() >> 5
	b := r.Uint32() >> 6
	// float64(a)*2^26 is exact, so the explicit conversion (which forbids a
	// fused multiply-add) changes nothing but documents the intent.
	return (float64(float64(a)*67108864.0) + float64(b)) / 9007199254740992.0
}

// Shuffle permutes a in place with numpy's legacy shuffle (Fisher-Yates from
// the end): for i from len(a)-1 down to 1, swap a[i] with a[Interval(i)].
func (r *RandomState) Shuffle(a []int) {
	// The swap targets are drawn in batches before the swaps are done: the
	// draws do not depend on the contents of a, and issuing a batch of
	// independent random-access swaps lets the CPU overlap their cache
	// misses, which dominate for large slices.
	const batch = 64
	var js [batch]int
	i := len(a) - 1
	for i > 0 {
		m := min(i, batch)
		for k := 0; k < m; k++ {
			js[k] = int(r.Interval(uint64(i - k)))
		}
		for k := 0; k < m; k++ {
			a[i], a[js[k]] = a[js[k]], a[i]
			i--
		}
	}
}

// Permutation returns numpy's RandomState.permutation(n): arange(n) shuffled
// with Shuffle. It returns an empty slice for n <= 0 (numpy raises for n < 0).
func (r *RandomState) Permutation(n int) []int {
	if n <= 0 {
		return []int{}
	}
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	r.Shuffle(a)
	return a
}
