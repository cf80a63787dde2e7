"""Values worked out by hand (the derivations are in the comments)."""

import numpy as np
import pytest

import lovasz

# Hinge: F = [2, -1, 0.5, 0.2], y = [1, 0, 1, 0], one image. Errors m = 1 - F(2y - 1) =
# [-1, 0, 0.5, 1.2]; in decreasing order 1.2, 0.5, 0, -1 with foreground 0, 1, 0, 1, the Jaccard
# losses are 1/3, 2/3, 3/4, 1, so g = 1/3, 1/3, 1/12, 1/4; loss = 1.2/3 + 0.5/3 = 0.5666667
# and d loss / d F = [0, 0, -1/3, 1/3].
HINGE_SCORES = np.array([[2.0, -1.0, 0.5, 0.2]], dtype=np.float32)
HINGE_LABELS = [1, 0, 1, 0]


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.int8, np.int16, np.uint16,
                                   np.uint32, np.uint64, np.bool_, np.float32])
def test_hinge_known_value_for_every_label_type(engine, dtype):
    loss, grad = lovasz.hinge(HINGE_SCORES, np.array([HINGE_LABELS], dtype=dtype), engine=engine)
    assert loss == pytest.approx(0.5666667, abs=1e-6)
    assert grad.dtype == np.float32 and grad.shape == (1, 4)
    np.testing.assert_allclose(grad, [[0, 0, -1 / 3, 1 / 3]], atol=1e-6)


def test_hinge_with_a_channel_axis(engine):
    loss, grad = lovasz.hinge(HINGE_SCORES.reshape(1, 1, 4), np.array([HINGE_LABELS]), engine=engine)
    assert loss == pytest.approx(0.5666667, abs=1e-6)
    assert grad.shape == (1, 1, 4)


# Softmax on probabilities: 2 classes, 2 pixels, both labelled 0, f(class 0) = [0.8, 0.3].
# Class 0: errors 1 - f = [0.2, 0.7], both foreground: Jaccard losses 1/2, 1, g = 1/2, 1/2,
# loss 0.45, d loss / d f = -1/2. Class 1 (absent): errors [0.2, 0.7], no foreground: Jaccard
# losses 1, 1, g = 1, 0 on the larger error, loss 0.7.
SOFTMAX_PROBABILITIES = np.array([0.8, 0.3, 0.2, 0.7], dtype=np.float32).reshape(1, 2, 1, 2)
SOFTMAX_LABELS = np.zeros((1, 1, 2), dtype=np.int64)


@pytest.mark.parametrize(
    "options, expected",
    [
        ({}, 0.45),
        ({"classes": "all"}, (0.45 + 0.7) / 2),
        ({"classes": "all", "class_weights": [1, 3]}, (0.45 + 3 * 0.7) / 4),
        ({"classes": [1]}, 0.7),
        ({"classes": [0, 1]}, 0.575),
        ({"ignore_index": 0}, 0.0),
    ],
)
def test_softmax_known_values(engine, options, expected):
    loss, _ = lovasz.softmax(SOFTMAX_PROBABILITIES, SOFTMAX_LABELS, scores_are="probabilities",
                             engine=engine, **options)
    assert loss == pytest.approx(expected, abs=1e-6)


def test_softmax_known_gradient(engine):
    _, grad = lovasz.softmax(SOFTMAX_PROBABILITIES, SOFTMAX_LABELS, scores_are="probabilities", engine=engine)
    np.testing.assert_allclose(grad.reshape(2, 2), [[-0.5, -0.5], [0, 0]], atol=1e-6)


# Sigmoid: p = [0.9, 0.4], y = [1, 0]. Errors |y - p| = [0.1, 0.4]; in decreasing order 0.4
# (background), 0.1 (foreground): Jaccard losses 1/2, 1, g = 1/2, 1/2; loss 0.25.
# d loss / d p = [-1/2, 1/2]; through the sigmoid, times p(1 - p) = [0.09, 0.24]:
# d loss / d F = [-0.045, 0.12].
SIGMOID_P = np.array([[0.9, 0.4]])
SIGMOID_LABELS = np.array([[1, 0]])


def test_sigmoid_known_value_on_probabilities(engine):
    loss, grad = lovasz.sigmoid(SIGMOID_P, SIGMOID_LABELS, scores_are="probabilities", engine=engine)
    assert loss == pytest.approx(0.25, abs=1e-6)
    np.testing.assert_allclose(grad, [[-0.5, 0.5]], atol=1e-6)


def test_sigmoid_known_value_on_logits(engine):
    logits = np.log(SIGMOID_P / (1 - SIGMOID_P))
    loss, grad = lovasz.sigmoid(logits, SIGMOID_LABELS, engine=engine)
    assert loss == pytest.approx(0.25, abs=1e-6)
    np.testing.assert_allclose(grad, [[-0.045, 0.12]], atol=1e-6)


def test_module_functions_use_the_default_engine():
    loss, _ = lovasz.hinge(HINGE_SCORES, [HINGE_LABELS])
    assert loss == pytest.approx(0.5666667, abs=1e-6)
    assert lovasz.default_engine() is lovasz.default_engine()
    assert lovasz.default_engine().backend in ("cpu", "opencl")
