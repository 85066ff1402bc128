#!/usr/bin/python3
"""Golden files for internal/split (numpy legacy RandomState + sklearn train_test_split).

Run from the repository root with the Debian Python (scikit-learn 1.2.1, numpy 1.24.2):

    /usr/bin/python3 scripts/goldens/split.py

It overwrites internal/split/testdata/random_state.json and
internal/split/testdata/train_test_split.json. The output is deterministic
(fixed seeds, sorted keys), so re-running it must not change the files.
The Go tests only read the JSON; they never run Python.
"""

import hashlib
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldenjson  # noqa: E402  (the shared writer next to this script)

import numpy as np
import sklearn
from sklearn.model_selection import train_test_split
from sklearn.model_selection._split import _validate_shuffle_split

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "internal", "split", "testdata")

SEEDS = [0, 1, 42, 1234, 2**31, 2**32 - 1]
TEST_SIZES = [0.1, 0.2, 0.25, 0.3, 0.33, 0.5, 0.9, 3]
SMALL_N = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 17, 19, 20]
BIG_N = [100, 101, 999, 1000, 12345, 2**16 + 3, 100000]
# Fractions whose float product with n lands just above (or below) an integer.
CEIL_EXTRA = [(100, 0.07), (200, 0.07), (50, 0.14), (100, 0.55), (100, 0.29), (100, 0.57), (10000, 0.17)]
FULL_ARRAYS_MAX_N = 1000
HEAD_TAIL = 50


def sha256_int64(a):
    return hashlib.sha256(np.asarray(a, dtype="<i8").tobytes()).hexdigest()


def legacy_raw(seed, k):
    """Raw MT19937 outputs of RandomState(seed), by two independent routes."""
    a = np.random.RandomState(seed).randint(0, 2**32, size=k, dtype=np.uint32)
    bg = np.random.MT19937()
    bg._legacy_seeding(seed)
    b = bg.random_raw(k)
    assert np.array_equal(a.astype(np.uint64), b.astype(np.uint64)), seed
    return [int(v) for v in a]


def split_case(n, t, seed):
    case = {"n": n, "test_size": t, "test_size_is_int": isinstance(t, int), "seed": seed}
    try:
        train, test = train_test_split(np.arange(n), test_size=t, random_state=seed)
    except ValueError as e:
        case["error"] = str(e)
        return case
    test = [int(v) for v in test]
    train = [int(v) for v in train]
    case["n_test"] = len(test)
    case["n_train"] = len(train)
    case["test_sha256"] = sha256_int64(test)
    case["train_sha256"] = sha256_int64(train)
    if n <= FULL_ARRAYS_MAX_N:
        case["test"] = test
        case["train"] = train
    else:
        case["test_head"] = test[:HEAD_TAIL]
        case["test_tail"] = test[-HEAD_TAIL:]
        case["train_head"] = train[:HEAD_TAIL]
        case["train_tail"] = train[-HEAD_TAIL:]
    return case


def count_case(n, t):
    case = {"n": n, "test_size": t, "test_size_is_int": isinstance(t, int)}
    try:
        n_train, n_test = _validate_shuffle_split(n, t, None, default_test_size=0.25)
    except ValueError as e:
        case["error"] = str(e)
        return case
    case["n_test"] = n_test
    case["n_train"] = n_train
    case["product"] = t * n if isinstance(t, float) else None
    return case


def split_golden():
    cases = []
    for n in SMALL_N + BIG_N:
        for t in TEST_SIZES:
            for seed in SEEDS:
                cases.append(split_case(n, t, seed))
    for n, t in CEIL_EXTRA:
        for seed in (0, 42):
            cases.append(split_case(n, t, seed))

    counts = []
    for n in [0, 1, 2, 3, 7, 10, 50, 100, 200, 1000, 10000, 123457]:
        for k in range(1, 100):
            counts.append(count_case(n, k / 100))
        for t in [1, 2, 3, 9, 10, 11, 100]:
            counts.append(count_case(n, t))
    for t in [0.0, -0.1, 1.0, 1.5, -3, 0]:
        counts.append(count_case(10, t))
    return {
        "generator": "scripts/goldens/split.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "full_arrays_max_n": FULL_ARRAYS_MAX_N,
        "cases": cases,
        "counts": counts,
    }


def rng_golden():
    streams = []
    for seed in SEEDS + [5489]:
        streams.append({
            "seed": seed,
            # 1300 > 2*624: crosses two regenerations of the state.
            "uint32": legacy_raw(seed, 1300),
            "random_sample": [float(v) for v in np.random.RandomState(seed).random_sample(20)],
        })

    randint = []
    ns = [1, 2, 3, 7, 10, 100, 1000, 12345, 2**31, 2**31 + 1, 2**32 - 1, 2**32,
          2**32 + 1, 2**40, 2**53 + 7, 2**62 + 12345, 2**63 - 1]
    for seed in [0, 42, 2**32 - 1]:
        for n in ns:
            k = 25
            vals = np.random.RandomState(seed).randint(0, n, size=k)
            one = np.random.RandomState(seed)
            single = [int(one.randint(0, n)) for _ in range(k)]
            # size=k draws exactly like k single calls, in the same order.
            assert [int(v) for v in vals] == single, (seed, n)
            randint.append({"seed": seed, "n": n, "values": single})

    permutations = []
    for seed in [0, 42, 2**32 - 1]:
        for n in [0, 1, 2, 3, 10, 31]:
            permutations.append({"seed": seed, "n": n,
                                 "values": [int(v) for v in np.random.RandomState(seed).permutation(n)]})

    # Interleaved operations on one generator: checks that every operation
    # consumes exactly as many 32-bit draws as numpy does.
    sequences = []
    for seed in [7, 2**31]:
        rs = np.random.RandomState(seed)
        ops = []

        def op(kind, arg, values):
            ops.append({"op": kind, "arg": arg, "values": values})

        op("randint", 10, [int(v) for v in rs.randint(0, 10, size=5)])
        op("random_sample", 3, [float(v) for v in rs.random_sample(3)])
        op("randint", 1, [int(rs.randint(0, 1))])  # consumes nothing
        op("interval", 2**40 - 1, [int(v) for v in rs.randint(0, 2**40, size=4)])
        op("permutation", 9, [int(v) for v in rs.permutation(9)])
        op("uint32", 2, [int(v) for v in rs.randint(0, 2**32, size=2, dtype=np.uint32)])
        op("interval", 6, [int(v) for v in rs.randint(0, 7, size=6)])
        op("interval", 2**32, [int(v) for v in rs.randint(0, 2**32 + 1, size=3)])
        op("random_sample", 2, [float(v) for v in rs.random_sample(2)])
        op("randint", 1000, [int(v) for v in rs.randint(0, 1000, size=700)])  # crosses a twist
        op("uint32", 3, [int(v) for v in rs.randint(0, 2**32, size=3, dtype=np.uint32)])
        sequences.append({"seed": seed, "ops": ops})

    return {
        "generator": "scripts/goldens/split.py",
        "numpy": np.__version__,
        "streams": streams,
        "randint": randint,
        "permutations": permutations,
        "sequences": sequences,
    }


def write(name, obj):
    goldenjson.write(ROOT, OUT, name, obj)


def main():
    os.makedirs(OUT, exist_ok=True)
    write("random_state.json", rng_golden())
    write("train_test_split.json", split_golden())


if __name__ == "__main__":
    main()
