"""Checking and converting the inputs of the losses: scores, labels and their shapes."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from . import _library as capi
from ._errors import LovaszError

LABEL_TYPES = {
    np.dtype(np.int32): capi.LABELS_INT32,
    np.dtype(np.int64): capi.LABELS_INT64,
    np.dtype(np.uint8): capi.LABELS_UINT8,
}


def _c_array(values, dtype) -> np.ndarray:
    """`values` as a C-contiguous, aligned, native-order NumPy array of `dtype` (a copy only
    when needed)."""
    return np.require(np.asarray(values), dtype=dtype, requirements=["C", "A"])


def _scores_array(scores) -> np.ndarray:
    """Scores as a C-contiguous float32 array. Floating-point input only: float64 is rounded to
    float32 (the precision every backend computes in), integers, booleans, complex numbers,
    strings and other objects are a LovaszError."""
    if isinstance(scores, (str, bytes, dict, set)):
        raise LovaszError(f"scores must be an array of floating-point numbers; got a {type(scores).__name__}")
    try:
        array = np.asarray(scores)
    except (TypeError, ValueError) as error:
        raise LovaszError(f"scores must be an array of floating-point numbers: {error}") from None
    if array.dtype.kind != "f":
        kinds = {"i": "integers", "u": "integers", "b": "booleans", "c": "complex numbers"}
        what = kinds.get(array.dtype.kind, f"{array.dtype}")
        raise LovaszError(
            f"scores must be floating-point (float16, float32 or float64); got {what} ({array.dtype}). "
            "Integer scores are not logits: convert them explicitly if they are.")
    return _c_array(array, np.float32)


def _labels_array(labels) -> np.ndarray:
    """Labels as a C-contiguous native-order int32, int64 or uint8 array (other integer types,
    booleans and integral floats are converted; anything else is a LovaszError)."""
    labels = np.asarray(labels)
    dtype = labels.dtype
    if dtype.kind == "b":
        return _c_array(labels, np.bool_).view(np.uint8)
    if dtype.kind in "iu":
        native = dtype.newbyteorder("=")
        if native in LABEL_TYPES:
            return _c_array(labels, native)
        if dtype.kind == "u" and dtype.itemsize == 8 and labels.size and labels.max() > np.iinfo(np.int64).max:
            position = np.unravel_index(int(np.argmax(labels > np.iinfo(np.int64).max)), labels.shape)
            raise LovaszError(
                f"label {labels[position]} at position {_format(position)} is outside the range of the losses")
        return _c_array(labels, np.int64)
    if dtype.kind == "f":
        bad = ~np.isfinite(labels) | (labels != np.round(labels)) | (np.abs(labels) > 2.0**62)
        if bad.any():
            position = np.unravel_index(int(np.argmax(bad)), labels.shape)
            raise LovaszError(
                f"label {labels[position]} at position {_format(position)} is not an integer")
        return _c_array(labels, np.int64)
    raise LovaszError(f"labels must be integers; got an array of {dtype}")


def expected_label_shape(loss: str, scores: Tuple[int, ...]) -> Tuple[int, ...]:
    """The labels' shape for scores of shape `scores`: ``[B, *spatial]``, the scores' shape
    without the class axis (softmax) or without a channel axis of 1 (binary losses, whose
    scores are ``[B, *spatial]`` or ``[B, 1, *spatial]``). ``[B, 1, *spatial]`` is taken too."""
    if loss == "softmax" or (len(scores) >= 2 and scores[1] == 1):
        return (scores[0],) + tuple(scores[2:])
    return tuple(scores)


def _check_label_shape(loss: str, scores: Tuple[int, ...], labels: Tuple[int, ...]) -> None:
    """Labels have the scores' spatial layout, as the command line requires: ``[B, *spatial]``
    or ``[B, 1, *spatial]``; the same number of labels in another layout (``[B, W, H]`` for
    scores ``[B, C, H, W]``) is an error. The C layer checks the scores' shape itself."""
    if len(scores) == 0 or (loss == "softmax" and len(scores) < 2) or 0 in scores:
        return  # the library names the problem without reading any label
    expected = expected_label_shape(loss, scores)
    with_channel = (expected[0], 1) + tuple(expected[1:])
    if tuple(labels) not in (expected, with_channel):
        raise LovaszError(
            f"invalid shape: labels {_format(labels)} for scores {_format(scores)}; "
            f"expected {_format(expected)} or {_format(with_channel)} (the scores' spatial layout)")


def _label_count_shape(loss: str, scores: Tuple[int, ...]) -> Tuple[int, ...]:
    """The shape the C layer reads the labels in (their count is what matters)."""
    if len(scores) == 0 or (loss == "softmax" and len(scores) < 2) or 0 in scores:
        return (-1,)
    return expected_label_shape(loss, scores)


def _format(position) -> str:
    return "[" + ", ".join(str(int(p)) for p in position) + "]"
