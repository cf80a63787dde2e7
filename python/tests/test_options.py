"""Every option reaches the library and changes the result where it should."""

import numpy as np
import pytest

import lovasz
from reference import reference

RNG = np.random.default_rng(42)
SCORES = RNG.normal(0, 1.5, size=(2, 4, 3, 3)).astype(np.float32)
# Class 3 is absent; class 2 only in image 1.
LABELS = np.array([[[0, 1, 0], [1, 1, 0], [0, 0, 1]], [[2, 2, 0], [1, 0, 2], [2, 1, 1]]])


def softmax(engine, **options):
    return lovasz.softmax(SCORES, LABELS, engine=engine, **options)


def test_classes_all_counts_the_absent_class(engine):
    present, _ = softmax(engine)
    everything, _ = softmax(engine, classes="all")
    assert present != pytest.approx(everything)
    assert everything == pytest.approx(reference("softmax", SCORES, LABELS, classes="all")[0], rel=1e-5)


def test_class_list(engine):
    listed, grad = softmax(engine, classes=[1, 3])
    assert listed == pytest.approx(reference("softmax", SCORES, LABELS, classes=[1, 3])[0], rel=1e-5)
    assert listed != pytest.approx(softmax(engine)[0])
    assert np.array_equal(softmax(engine, classes=np.array([1, 3]))[1], grad)


def test_class_weights(engine):
    weighted, _ = softmax(engine, class_weights=[1, 1, 4, 1])
    assert weighted != pytest.approx(softmax(engine)[0])
    assert weighted == pytest.approx(
        reference("softmax", SCORES, LABELS, class_weights=[1, 1, 4, 1])[0], rel=1e-5)


def test_per_image(engine):
    per_image, _ = softmax(engine, per_image=True)
    assert per_image != pytest.approx(softmax(engine)[0])
    assert per_image == pytest.approx(reference("softmax", SCORES, LABELS, per_image=True)[0], rel=1e-5)


def test_ignore_index_removes_pixels(engine):
    value, grad = softmax(engine, ignore_index=2)
    assert value != pytest.approx(softmax(engine)[0])
    ignored = LABELS == 2
    assert ignored.any()
    assert not grad.transpose(0, 2, 3, 1)[ignored].any()


def test_scores_are_probabilities(engine):
    probabilities = np.exp(SCORES) / np.exp(SCORES).sum(axis=1, keepdims=True)
    from_logits, logit_grad = softmax(engine)
    from_probabilities, probability_grad = lovasz.softmax(
        probabilities, LABELS, scores_are="probabilities", engine=engine)
    assert from_probabilities == pytest.approx(from_logits, rel=1e-5)
    assert not np.allclose(logit_grad, probability_grad)


def test_binary_defaults_are_per_image(engine):
    scores = SCORES[:, 0]
    labels = LABELS % 2
    for loss in (lovasz.hinge, lovasz.sigmoid):
        default, _ = loss(scores, labels, engine=engine)
        assert default == pytest.approx(loss(scores, labels, per_image=True, engine=engine)[0])
        assert default != pytest.approx(loss(scores, labels, per_image=False, engine=engine)[0])
    assert engine.compute("hinge", scores, labels)[0] == pytest.approx(lovasz.hinge(scores, labels, engine=engine)[0])


def test_gradient_false_returns_no_gradient(engine):
    value, grad = softmax(engine, gradient=False)
    assert grad is None
    assert value == softmax(engine)[0]


def test_inputs_are_converted(engine):
    expected = softmax(engine)
    as_float64 = lovasz.softmax(SCORES.astype(np.float64), LABELS, engine=engine)
    fortran = lovasz.softmax(np.asfortranarray(SCORES), np.asfortranarray(LABELS), engine=engine)
    big_endian = lovasz.softmax(SCORES.astype(">f4"), LABELS.astype(">i4"), engine=engine)
    nested = lovasz.softmax(SCORES.tolist(), LABELS.tolist(), engine=engine)
    labels_with_channel = lovasz.softmax(SCORES, LABELS[:, None], engine=engine)
    for value, grad in (as_float64, fortran, big_endian, nested, labels_with_channel):
        assert value == expected[0]
        np.testing.assert_array_equal(grad, expected[1])
