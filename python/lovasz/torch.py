"""PyTorch losses over the Lovász operator ``torch.ops.lovasz.loss``.

The scores are copied to the host as float32; the loss and its gradient are computed there (on
the engine's GPU through OpenCL, or the CPU) and come back as float32 on the scores' device.
The loss is always float32, as PyTorch's own losses are under ``torch.autocast``; the backward
pass multiplies ``grad_output`` (the loss scale of a ``GradScaler``) by the float32 gradient and
casts once to the scores' dtype, so float16 and bfloat16 scores get the gradients of float32
scores of the same values. float64 scores are rounded to float32 (every backend computes in
float32); their gradient comes back as float64. Integer scores are an error.

Labels have the scores' spatial layout: ``[B, *spatial]`` or ``[B, 1, *spatial]``
(``[B, C, *spatial]`` for the multilabel mode); the same number of labels in another layout is
an error. Everything here works with ``torch.compile(fullgraph=True)`` and ``torch.func.grad``.

    >>> criterion = lovasz.torch.LovaszLoss("multiclass", ignore_index=255)
    >>> loss = criterion(model(images), labels)      # logits [B, C, H, W], labels [B, H, W]
    >>> loss.backward()
"""

from __future__ import annotations

from typing import Optional, Union

import numpy as np
import torch

from ._engine import Classes, Engine, _check_label_shape
from ._errors import LovaszError
from ._op import apply_loss

__all__ = [
    "LovaszHinge",
    "LovaszLoss",
    "LovaszSigmoid",
    "LovaszSoftmax",
    "all_reduce_confusion_matrix",
    "lovasz_hinge",
    "lovasz_sigmoid",
    "lovasz_softmax",
]

EngineLike = Union[Engine, str, None]


def _engine_spec(engine: EngineLike) -> str:
    """``""`` (the default engine), or the spec of an engine or backend name."""
    if engine is None:
        return ""
    if isinstance(engine, Engine):
        return engine.spec
    if isinstance(engine, str) and engine.partition(":")[0] in ("auto", "cpu", "opencl"):
        return engine
    raise LovaszError(f"invalid option: engine must be an Engine, 'auto', 'cpu', 'opencl' or 'opencl:<device>'; got {engine!r}")


def _checked(scores, labels, loss: str):
    """The scores (a floating-point tensor) and the labels as a tensor of their layout."""
    if not isinstance(scores, torch.Tensor):
        raise LovaszError(f"scores must be a torch.Tensor; got {type(scores).__name__}")
    if not scores.is_floating_point():
        raise LovaszError(
            f"scores must be floating-point (float16, bfloat16, float32 or float64); got {scores.dtype}. "
            "Integer scores are not logits: convert them explicitly if they are.")
    if not isinstance(labels, torch.Tensor):
        labels = torch.as_tensor(np.asarray(labels))
    if labels.is_complex():
        raise LovaszError(f"labels must be integers; got {labels.dtype}")
    _check_label_shape(loss, tuple(scores.shape), tuple(labels.shape))
    return scores, labels


def _weights(class_weights) -> Optional[torch.Tensor]:
    if class_weights is None:
        return None
    if not isinstance(class_weights, torch.Tensor):
        class_weights = torch.as_tensor(np.asarray(class_weights, dtype=np.float32))
    return class_weights.detach()


def lovasz_softmax(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    classes: Classes = "present",
    class_weights=None,
    per_image: bool = False,
    ignore_index: Optional[int] = None,
    scores_are: str = "logits",
    engine: EngineLike = None,
) -> torch.Tensor:
    """The Lovász-Softmax loss of scores ``[B, C, ...]`` and labels ``[B, ...]`` as a float32
    0-d tensor with a gradient. Options as :func:`lovasz.softmax` (``class_weights``: the
    weighted mean of the class losses)."""
    scores, labels = _checked(scores, labels, "softmax")
    return apply_loss(
        scores, labels, loss="softmax", classes=classes, class_weights=_weights(class_weights),
        per_image=per_image, ignore_index=ignore_index, scores_are=scores_are, engine=_engine_spec(engine))


def lovasz_hinge(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    per_image: bool = True,
    ignore_index: Optional[int] = None,
    symmetric: bool = False,
    engine: EngineLike = None,
) -> torch.Tensor:
    """The binary Lovász hinge of logits ``[B, ...]`` (or ``[B, 1, ...]``) and labels 0/1 as a
    float32 0-d tensor with a gradient. ``symmetric``: ``(L(x, y) + L(-x, 1 - y)) / 2``, the
    hinge of the foreground and of the background averaged. Options as :func:`lovasz.hinge`."""
    scores, labels = _checked(scores, labels, "hinge")
    return apply_loss(
        scores, labels, loss="hinge", per_image=per_image, ignore_index=ignore_index, symmetric=symmetric,
        engine=_engine_spec(engine))


def lovasz_sigmoid(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    per_image: bool = True,
    ignore_index: Optional[int] = None,
    scores_are: str = "logits",
    engine: EngineLike = None,
) -> torch.Tensor:
    """The binary Lovász-Sigmoid loss of scores ``[B, ...]`` (or ``[B, 1, ...]``) and labels
    0/1 as a float32 0-d tensor with a gradient. Options as :func:`lovasz.sigmoid`."""
    scores, labels = _checked(scores, labels, "sigmoid")
    return apply_loss(
        scores, labels, loss="sigmoid", per_image=per_image, ignore_index=ignore_index,
        scores_are=scores_are, engine=_engine_spec(engine))


class _EngineHolder(torch.nn.Module):
    """A criterion's engine: kept as a spec (``backend[:device]``), so that criteria pickle and
    deep-copy; the operator finds or makes the engine on first use in each process."""

    def _set_engine(self, engine: EngineLike) -> None:
        self.engine_spec = _engine_spec(engine)
        # Keeps an explicitly given engine alive, so that the operator uses that very engine.
        self._engine = engine if isinstance(engine, Engine) else None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_engine"] = None
        return state


from ._modes import LovaszLoss  # noqa: E402  (uses the functions above)
from ._metrics_torch import all_reduce_confusion_matrix  # noqa: E402


class LovaszSoftmax(_EngineHolder):
    """The Lovász-Softmax loss as a module: ``criterion(logits, labels)``.

    Options as :func:`lovasz.softmax`; ``engine`` (an :class:`~lovasz.Engine`, or a backend name
    such as ``"cpu"`` or ``"opencl:1"``) defaults to :func:`lovasz.default_engine`.
    """

    def __init__(
        self,
        *,
        classes: Classes = "present",
        class_weights=None,
        per_image: bool = False,
        ignore_index: Optional[int] = None,
        scores_are: str = "logits",
        engine: EngineLike = None,
    ) -> None:
        super().__init__()
        self.classes = classes
        self.class_weights = class_weights
        self.per_image = per_image
        self.ignore_index = ignore_index
        self.scores_are = scores_are
        self._set_engine(engine)

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return lovasz_softmax(
            scores, labels, classes=self.classes, class_weights=self.class_weights,
            per_image=self.per_image, ignore_index=self.ignore_index, scores_are=self.scores_are,
            engine=self.engine_spec)

    def extra_repr(self) -> str:
        return f"classes={self.classes!r}, per_image={self.per_image}, ignore_index={self.ignore_index}"


class LovaszHinge(_EngineHolder):
    """The binary Lovász hinge as a module: ``criterion(logits, labels)``; per image by default."""

    def __init__(
        self, *, per_image: bool = True, ignore_index: Optional[int] = None, symmetric: bool = False,
        engine: EngineLike = None,
    ) -> None:
        super().__init__()
        self.per_image = per_image
        self.ignore_index = ignore_index
        self.symmetric = symmetric
        self._set_engine(engine)

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return lovasz_hinge(
            scores, labels, per_image=self.per_image, ignore_index=self.ignore_index,
            symmetric=self.symmetric, engine=self.engine_spec)

    def extra_repr(self) -> str:
        return f"per_image={self.per_image}, ignore_index={self.ignore_index}, symmetric={self.symmetric}"


class LovaszSigmoid(_EngineHolder):
    """The binary Lovász-Sigmoid loss as a module: ``criterion(scores, labels)``; per image by
    default."""

    def __init__(
        self,
        *,
        per_image: bool = True,
        ignore_index: Optional[int] = None,
        scores_are: str = "logits",
        engine: EngineLike = None,
    ) -> None:
        super().__init__()
        self.per_image = per_image
        self.ignore_index = ignore_index
        self.scores_are = scores_are
        self._set_engine(engine)

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return lovasz_sigmoid(
            scores, labels, per_image=self.per_image, ignore_index=self.ignore_index,
            scores_are=self.scores_are, engine=self.engine_spec)

    def extra_repr(self) -> str:
        return f"per_image={self.per_image}, ignore_index={self.ignore_index}"
