"""A confusion matrix for dataset IoU metrics, summable across data-parallel processes."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ._errors import LovaszError


class ConfusionMatrix:
    """Counts of (label, prediction) pairs over the pixels of a dataset: the basis of the IoU
    metrics, with the semantics of the Swift library's ``ConfusionMatrix``.

    Every process of a data-parallel run keeps its own matrix; summing their :attr:`counts`
    (``torch.distributed.all_reduce``, see :func:`lovasz.torch.all_reduce_confusion_matrix`)
    gives exactly the matrix of the whole dataset, in any order.

        >>> matrix = lovasz.ConfusionMatrix(21, ignore_index=255)
        >>> matrix.update(scores.argmax(1), labels)      # predictions, labels [B, H, W]
        >>> matrix.miou()

    Args:
        classes: the number of classes ``C >= 1``; labels and predictions are in ``0..C-1``.
        ignore_index: pixels with this label are not counted at all; when it is a class index
            (``0..C-1``), that class is left out of every mean.

    Raises:
        LovaszError: ``classes < 1``.
    """

    def __init__(self, classes: int, ignore_index: Optional[int] = None) -> None:
        if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 1:
            raise LovaszError(f"invalid option: classes must be an integer >= 1; got {classes!r}")
        self.classes = int(classes)
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        #: ``counts[label, prediction]``: int64 ``[C, C]``, rows are labels.
        self.counts = np.zeros((self.classes, self.classes), dtype=np.int64)

    def update(self, predictions, labels) -> "ConfusionMatrix":
        """Counts a batch: ``predictions`` (class indices) and ``labels`` of one shape (NumPy
        arrays or tensors, on any device). Either every pixel is counted or, on an error, none.

        Raises:
            LovaszError: shapes that differ, a label outside ``0..C-1`` that is not the ignore
                index, a prediction outside ``0..C-1`` at a counted pixel.
        """
        predictions, labels = _host(predictions), _host(labels)
        if predictions.shape != labels.shape:
            raise LovaszError(f"invalid shape: predictions {list(predictions.shape)} and labels {list(labels.shape)} differ")
        for name, array in (("predictions", predictions), ("labels", labels)):
            if array.dtype.kind not in "iub":
                raise LovaszError(f"{name} must be integers (class indices); got {array.dtype}")
        labels, predictions = labels.ravel().astype(np.int64), predictions.ravel().astype(np.int64)
        if self.ignore_index is not None:
            counted = labels != self.ignore_index
            labels, predictions = labels[counted], predictions[counted]
        for name, array in (("label", labels), ("prediction", predictions)):
            bad = (array < 0) | (array >= self.classes)
            if bad.any():
                raise LovaszError(f"{name} {array[np.argmax(bad)]} is outside 0..{self.classes - 1}")
        pairs = np.bincount(labels * self.classes + predictions, minlength=self.classes**2)
        self.counts += pairs.reshape(self.classes, self.classes)
        return self

    def reset(self) -> None:
        """Sets every count to zero."""
        self.counts[...] = 0

    def iou(self) -> np.ndarray:
        """The IoU of every class (float64 ``[C]``): ``|label = c and prediction = c|`` over
        ``|label = c or prediction = c|``; NaN where the class appears in neither (0/0) and for
        the ignore index."""
        intersection = np.diag(self.counts).astype(np.float64)
        union = self.counts.sum(0) + self.counts.sum(1) - np.diag(self.counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(union > 0, intersection / np.maximum(union, 1), np.nan)
        if self.ignore_index is not None and 0 <= self.ignore_index < self.classes:
            values[self.ignore_index] = np.nan
        return values

    def miou(self) -> float:
        """The mean IoU over the classes that appear in the labels or the predictions (the
        dataset mIoU); NaN when nothing was counted."""
        values = self.iou()
        defined = values[~np.isnan(values)]
        return float(defined.mean()) if defined.size else float("nan")

    def __repr__(self) -> str:
        return f"ConfusionMatrix(classes={self.classes}, ignore_index={self.ignore_index}, counted={int(self.counts.sum())})"


def _host(values) -> np.ndarray:
    if hasattr(values, "detach") and hasattr(values, "cpu"):  # a torch tensor, without importing torch
        values = values.detach().cpu()
        if str(values.dtype) == "torch.bool":
            values = values.to(dtype=__import__("torch").uint8)
        values = values.numpy()
    return np.asarray(values)
