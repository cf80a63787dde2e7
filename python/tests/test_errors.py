"""Bad input raises LovaszError with a message naming the problem; nothing crashes."""

import numpy as np
import pytest

import lovasz

SCORES = np.zeros((2, 3, 4), dtype=np.float32)
LABELS = np.zeros((2, 4), dtype=np.int64)


@pytest.mark.parametrize("bad, message", [(np.nan, "non-finite score nan at position [1, 2, 3]"),
                                          (np.inf, "non-finite score inf at position [1, 2, 3]")])
def test_non_finite_score(engine, bad, message):
    scores = SCORES.copy()
    scores[1, 2, 3] = bad
    with pytest.raises(lovasz.LovaszError, match=message.replace("[", r"\[").replace("]", r"\]")):
        lovasz.softmax(scores, LABELS, engine=engine)


def test_label_out_of_range(engine):
    labels = LABELS.copy()
    labels[1, 2] = 3
    with pytest.raises(lovasz.LovaszError, match=r"label 3 at position \[1, 2\] is outside 0..<3"):
        lovasz.softmax(SCORES, labels, engine=engine)


def test_binary_label_out_of_range(engine):
    with pytest.raises(lovasz.LovaszError, match=r"label 2 at position \[0, 1\] is outside 0 or 1"):
        lovasz.hinge(np.zeros((1, 3)), np.array([[0, 2, 1]]), engine=engine)


def test_huge_unsigned_label(engine):
    labels = np.zeros((2, 4), dtype=np.uint64)
    labels[0, 1] = 2**64 - 1
    with pytest.raises(lovasz.LovaszError, match=r"label 18446744073709551615 at position \[0, 1\]"):
        lovasz.softmax(SCORES, labels, engine=engine)


@pytest.mark.parametrize("labels", [np.zeros((2, 5)), np.zeros((8,)), np.zeros((4, 2)), np.zeros(())])
def test_label_shape_mismatch(engine, labels):
    with pytest.raises(lovasz.LovaszError, match=r"invalid shape: labels .* for scores \[2, 3, 4\]; expected \[2, 4\]"):
        lovasz.softmax(SCORES, labels.astype(np.int64), engine=engine)


@pytest.mark.parametrize(
    "scores, message",
    [
        (np.zeros(4), "softmax scores must be \\[B, C, ...\\]"),
        (np.zeros(()), "rank 0"),
        (np.zeros((0, 3, 4)), "the batch dimension is 0"),
        (np.zeros((2, 0, 4)), "the class dimension is 0"),
    ],
)
def test_bad_score_shapes(engine, scores, message):
    with pytest.raises(lovasz.LovaszError, match=message):
        lovasz.softmax(scores, np.zeros((2, 4), dtype=np.int64), engine=engine)


def test_non_integer_labels(engine):
    with pytest.raises(lovasz.LovaszError, match=r"label 0.5 at position \[0, 1\] is not an integer"):
        lovasz.hinge(np.zeros((1, 3)), np.array([[0, 0.5, 1]]), engine=engine)
    with pytest.raises(lovasz.LovaszError, match="labels must be integers"):
        lovasz.hinge(np.zeros((1, 3)), np.array([["a", "b", "c"]]), engine=engine)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"classes": "some"}, "classes must be 'present', 'all' or a list"),
        ({"classes": [0, 5]}, "class 5 is outside 0..<3"),
        ({"classes": []}, "the class list is empty"),
        ({"classes": [1, 1]}, "names a class twice"),
        ({"classes": [[0, 1]]}, "flat list of integers"),
        ({"class_weights": [1, 2]}, "2 class weights for 3 classes"),
        ({"class_weights": [1, -2, 1]}, "class weight -2.0 of class 1 is negative"),
        ({"class_weights": []}, "the class weights are empty"),
        ({"scores_are": "odds"}, "scores_are must be 'logits' or 'probabilities'"),
        ({"ignore_index": 2.5}, "ignore_index must be an integer"),
        ({"ignore_index": 2**70}, "out of range"),
    ],
)
def test_bad_options(engine, options, message):
    with pytest.raises(lovasz.LovaszError, match=message):
        lovasz.softmax(SCORES, LABELS, engine=engine, **options)


def test_options_of_the_wrong_loss(engine):
    with pytest.raises(lovasz.LovaszError, match="the hinge loss takes logits"):
        engine.compute("hinge", np.zeros((1, 3)), np.zeros((1, 3), dtype=np.int64), scores_are="probabilities")
    with pytest.raises(lovasz.LovaszError, match="class weights apply to the softmax loss only"):
        engine.compute("sigmoid", np.zeros((1, 3)), np.zeros((1, 3), dtype=np.int64), class_weights=[1, 1])
    with pytest.raises(lovasz.LovaszError, match="loss must be 'softmax', 'hinge' or 'sigmoid'"):
        engine.compute("dice", np.zeros((1, 3)), np.zeros((1, 3), dtype=np.int64))


def test_bad_backend_and_closed_engine():
    with pytest.raises(lovasz.LovaszError, match="backend must be 'auto', 'cpu' or 'opencl'"):
        lovasz.Engine("gpu")
    engine = lovasz.Engine("cpu")
    engine.close()
    engine.close()
    assert repr(engine) == "Engine(closed)"
    with pytest.raises(lovasz.LovaszError, match="the engine is closed"):
        lovasz.hinge(np.zeros((1, 3)), np.zeros((1, 3), dtype=np.int64), engine=engine)


def test_errors_are_value_errors():
    assert issubclass(lovasz.LovaszError, ValueError)
    assert issubclass(lovasz.OpenCLUnavailable, lovasz.LovaszError)
    assert issubclass(lovasz.OpenCLUnavailable, RuntimeError)


@pytest.mark.parametrize("labels", [np.zeros((2, 5, 4)), np.zeros((2, 20)), np.zeros((1, 2, 4, 5))])
def test_labels_of_the_right_count_but_another_layout(engine, labels):
    scores = np.zeros((2, 3, 4, 5), dtype=np.float32)
    with pytest.raises(lovasz.LovaszError, match=r"invalid shape: labels .* expected \[2, 4, 5\] or \[2, 1, 4, 5\]"):
        engine.softmax(scores, labels.astype(np.int64))
    engine.softmax(scores, np.zeros((2, 1, 4, 5), dtype=np.int64))  # [B, 1, H, W] is fine


@pytest.mark.parametrize("scores, message", [
    (np.zeros((1, 4), dtype=np.complex64), "complex numbers"),
    (np.zeros((1, 4), dtype=np.int32), "integers"),
    (np.zeros((1, 4), dtype=bool), "booleans"),
    ("0.5 0.2", "got a str"),
    ({"a": 1.0}, "got a dict"),
    ([["a", "b"]], "floating-point"),
    ([[1.0, [2.0]]], "floating-point"),
])
def test_scores_that_are_not_real_numbers(engine, scores, message):
    with pytest.raises(lovasz.LovaszError, match=message):
        engine.hinge(scores, np.zeros((1, 4), dtype=np.int64))


def test_out_of_memory_status_is_memory_error():
    from lovasz._errors import raise_for_status
    with pytest.raises(MemoryError, match="cannot allocate"):
        raise_for_status(4, b"cannot allocate 12 GB for the scores")
