"""The library against the naive reference (tests/reference.py) on random problems."""

import numpy as np
import pytest

import lovasz
from reference import reference


def random_problem(seed, loss, shape, ignore_index=None, classes_used=None):
    rng = np.random.default_rng(seed)
    scores = rng.normal(0, 2, size=shape).astype(np.float32)
    batch = shape[0]
    if loss == "softmax":
        channels = shape[1]
        pixel_shape = (batch,) + tuple(shape[2:])
        labels = rng.integers(0, classes_used or channels, size=pixel_shape)
    else:
        labels = rng.integers(0, 2, size=shape)
    if ignore_index is not None:
        labels = np.where(rng.random(labels.shape) < 0.2, ignore_index, labels)
    return scores, labels


CASES = [
    ("softmax", (2, 4, 3, 5), {}),
    ("softmax", (2, 4, 3, 5), {"per_image": True}),
    ("softmax", (3, 5, 7), {"classes": "all"}),
    ("softmax", (2, 4, 6), {"classes": [3, 0]}),
    ("softmax", (2, 4, 3, 3), {"class_weights": [0.5, 2.0, 1.0, 0.0], "classes": "all"}),
    ("softmax", (2, 3, 2, 2, 3), {"ignore_index": 255, "per_image": True}),
    ("softmax", (2, 3, 11), {"scores_are": "probabilities"}),
    ("hinge", (3, 13), {}),
    ("hinge", (2, 1, 4, 5), {"per_image": False}),
    ("hinge", (3, 4, 4), {"ignore_index": -1}),
    ("sigmoid", (3, 13), {}),
    ("sigmoid", (2, 5, 3), {"per_image": False, "ignore_index": 7}),
]


@pytest.mark.parametrize("seed, case", list(enumerate(CASES)))
def test_matches_the_naive_reference(engine, seed, case):
    loss, shape, options = case
    scores, labels = random_problem(
        seed, loss, shape, ignore_index=options.get("ignore_index"),
        classes_used=3 if "classes" in options and options["classes"] != "all" else None)
    if options.get("scores_are") == "probabilities":
        scores = np.abs(scores) / np.abs(scores).sum(axis=1, keepdims=True)
    value, grad = engine.compute(loss, scores, labels, **options)
    expected, expected_grad = reference(loss, scores, labels, **options)
    assert value == pytest.approx(expected, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("loss", ["softmax", "hinge", "sigmoid"])
def test_reference_gradient_is_the_finite_difference(loss):
    """The reference's chain rule checked by central differences (float64, away from ties)."""
    shape = (2, 3, 4) if loss == "softmax" else (2, 6)
    scores, labels = random_problem(5, loss, shape)
    scores = scores.astype(np.float64)
    _, grad = reference(loss, scores, labels)
    step = 1e-6
    numeric = np.zeros_like(scores)
    for index in np.ndindex(scores.shape):
        up, down = scores.copy(), scores.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = (reference(loss, up, labels)[0] - reference(loss, down, labels)[0]) / (2 * step)
    np.testing.assert_allclose(grad, numeric, atol=1e-6)


def test_one_valid_pixel_and_an_all_ignored_image(engine):
    scores = np.array([[[0.3, -1.0]], [[2.0, 0.5]]], dtype=np.float32).reshape(2, 2)
    labels = np.array([[1, 9], [9, 9]])
    value, grad = lovasz.hinge(scores, labels, ignore_index=9, engine=engine)
    expected, expected_grad = reference("hinge", scores, labels, ignore_index=9)
    assert value == pytest.approx(expected, abs=1e-6)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-6)
    assert not grad[1].any() and grad[0, 1] == 0
