"""lovasz.ConfusionMatrix against a naive per-pixel count."""

import numpy as np
import pytest

import lovasz


def naive(predictions, labels, classes, ignore):
    counts = np.zeros((classes, classes), dtype=np.int64)
    for p, l in zip(np.ravel(predictions), np.ravel(labels)):
        if l != ignore:
            counts[l, p] += 1
    return counts


def test_counts_iou_and_miou_match_a_naive_count():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=(3, 5, 6))
    predictions = rng.integers(0, 4, size=(3, 5, 6))
    labels[0, 0] = 255
    predictions[0, 0] = 99  # not checked at ignored pixels
    matrix = lovasz.ConfusionMatrix(4, ignore_index=255)
    matrix.update(predictions[:2], labels[:2]).update(predictions[2:], labels[2:])
    expected = naive(predictions, labels, 4, 255)
    np.testing.assert_array_equal(matrix.counts, expected)
    for c in range(4):
        union = expected[c].sum() + expected[:, c].sum() - expected[c, c]
        assert matrix.iou()[c] == pytest.approx(expected[c, c] / union)
    assert matrix.miou() == pytest.approx(np.mean([expected[c, c] / (expected[c].sum() + expected[:, c].sum() - expected[c, c]) for c in range(4)]))


def test_absent_classes_and_an_ignored_class_are_left_out_of_the_mean():
    matrix = lovasz.ConfusionMatrix(4, ignore_index=3)
    matrix.update(np.array([0, 0, 1, 3]), np.array([0, 1, 1, 3]))
    iou = matrix.iou()
    assert iou[0] == 0.5 and iou[1] == 0.5 and np.isnan(iou[2]) and np.isnan(iou[3])
    assert matrix.miou() == 0.5
    matrix.reset()
    assert matrix.counts.sum() == 0 and np.isnan(matrix.miou())


def test_bad_input_changes_nothing():
    matrix = lovasz.ConfusionMatrix(3)
    for predictions, labels, message in (
        (np.zeros(4, int), np.zeros(5, int), "invalid shape"),
        (np.zeros(2, int), np.array([0, 3]), "label 3"),
        (np.array([0, -1]), np.zeros(2, int), "prediction -1"),
        (np.zeros(2), np.zeros(2, int), "must be integers"),
    ):
        with pytest.raises(lovasz.LovaszError, match=message):
            matrix.update(predictions, labels)
    assert matrix.counts.sum() == 0
    with pytest.raises(lovasz.LovaszError):
        lovasz.ConfusionMatrix(0)
