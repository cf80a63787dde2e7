"""One engine called from many threads at once gives each caller its own, correct result."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import lovasz


def problems():
    rng = np.random.default_rng(7)
    cases = []
    for i in range(24):
        loss = ("softmax", "hinge", "sigmoid")[i % 3]
        if loss == "softmax":
            scores = rng.normal(size=(2, 5, 16, 16)).astype(np.float32)
            labels = rng.integers(0, 5, size=(2, 16, 16), dtype=np.int64)
        else:
            scores = rng.normal(size=(2, 16, 16)).astype(np.float32)
            labels = rng.integers(0, 2, size=(2, 16, 16)).astype(np.uint8)
        cases.append((loss, scores, labels))
    return cases


def test_concurrent_calls_on_one_engine(engine):
    cases = problems()
    serial = [engine.compute(loss, scores, labels) for loss, scores, labels in cases]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            concurrent = list(pool.map(lambda case: engine.compute(*case), cases))
            for (value, grad), (expected, expected_grad) in zip(concurrent, serial):
                assert value == expected
                np.testing.assert_array_equal(grad, expected_grad)


def test_the_default_engine_is_created_once_under_contention():
    with ThreadPoolExecutor(max_workers=8) as pool:
        engines = list(pool.map(lambda _: lovasz.default_engine(), range(16)))
    assert all(e is engines[0] for e in engines)
