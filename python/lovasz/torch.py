"""PyTorch wrappers: autograd functions and modules over the Lovász losses.

The forward pass copies the scores to the host (``.detach().cpu()``), computes the loss and
its gradient there (on the engine's GPU through OpenCL, or the CPU), and keeps the gradient;
the backward pass returns ``grad_output * grad`` on the scores' device and dtype.

    >>> criterion = lovasz.LovaszSoftmax(ignore_index=255)
    >>> loss = criterion(model(images), labels)      # logits [B, C, H, W], labels [B, H, W]
    >>> loss.backward()
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from ._engine import Classes, Engine, default_engine

__all__ = [
    "LovaszHinge",
    "LovaszSigmoid",
    "LovaszSoftmax",
    "lovasz_hinge",
    "lovasz_sigmoid",
    "lovasz_softmax",
]


class _LovaszFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores: torch.Tensor, labels: torch.Tensor, loss: str, options: dict, engine):
        host_scores = scores.detach().to(device="cpu", dtype=torch.float32).numpy()
        host_labels = _host_labels(labels)
        wants_gradient = bool(ctx.needs_input_grad[0])
        value, grad = (engine or default_engine()).compute(
            loss, host_scores, host_labels, gradient=wants_gradient, **options)
        ctx.grad = torch.from_numpy(grad).to(device=scores.device, dtype=scores.dtype) if wants_gradient else None
        return torch.tensor(value, dtype=scores.dtype, device=scores.device)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output: torch.Tensor):
        grad = None if ctx.grad is None else grad_output * ctx.grad
        return grad, None, None, None, None


def _host_labels(labels) -> np.ndarray:
    if not isinstance(labels, torch.Tensor):
        return np.asarray(labels)
    labels = labels.detach().cpu()
    if labels.dtype == torch.bool:
        labels = labels.to(torch.uint8)
    elif labels.dtype in (torch.float16, torch.bfloat16):
        labels = labels.to(torch.float32)
    return labels.numpy()


def lovasz_softmax(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    classes: Classes = "present",
    class_weights=None,
    per_image: bool = False,
    ignore_index: Optional[int] = None,
    scores_are: str = "logits",
    engine: Optional[Engine] = None,
) -> torch.Tensor:
    """The Lovász-Softmax loss of scores ``[B, C, ...]`` and labels ``[B, ...]`` as a 0-d
    tensor with a gradient. Options as :func:`lovasz.softmax`."""
    if isinstance(class_weights, torch.Tensor):
        class_weights = class_weights.detach().cpu().numpy()
    options = dict(
        classes=classes, class_weights=class_weights, per_image=per_image,
        ignore_index=ignore_index, scores_are=scores_are)
    return _LovaszFunction.apply(scores, labels, "softmax", options, engine)


def lovasz_hinge(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    per_image: bool = True,
    ignore_index: Optional[int] = None,
    engine: Optional[Engine] = None,
) -> torch.Tensor:
    """The binary Lovász hinge of logits ``[B, ...]`` (or ``[B, 1, ...]``) and labels 0/1 as
    a 0-d tensor with a gradient. Options as :func:`lovasz.hinge`."""
    options = dict(per_image=per_image, ignore_index=ignore_index)
    return _LovaszFunction.apply(scores, labels, "hinge", options, engine)


def lovasz_sigmoid(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    per_image: bool = True,
    ignore_index: Optional[int] = None,
    scores_are: str = "logits",
    engine: Optional[Engine] = None,
) -> torch.Tensor:
    """The binary Lovász-Sigmoid loss of scores ``[B, ...]`` (or ``[B, 1, ...]``) and labels
    0/1 as a 0-d tensor with a gradient. Options as :func:`lovasz.sigmoid`."""
    options = dict(per_image=per_image, ignore_index=ignore_index, scores_are=scores_are)
    return _LovaszFunction.apply(scores, labels, "sigmoid", options, engine)


class LovaszSoftmax(torch.nn.Module):
    """The Lovász-Softmax loss as a module: ``criterion(logits, labels)``.

    Options as :func:`lovasz.softmax`; ``engine`` defaults to :func:`lovasz.default_engine`.
    """

    def __init__(
        self,
        *,
        classes: Classes = "present",
        class_weights=None,
        per_image: bool = False,
        ignore_index: Optional[int] = None,
        scores_are: str = "logits",
        engine: Optional[Engine] = None,
    ) -> None:
        super().__init__()
        self.classes = classes
        self.class_weights = class_weights
        self.per_image = per_image
        self.ignore_index = ignore_index
        self.scores_are = scores_are
        self.engine = engine

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return lovasz_softmax(
            scores, labels, classes=self.classes, class_weights=self.class_weights,
            per_image=self.per_image, ignore_index=self.ignore_index, scores_are=self.scores_are,
            engine=self.engine)

    def extra_repr(self) -> str:
        return f"classes={self.classes!r}, per_image={self.per_image}, ignore_index={self.ignore_index}"


class LovaszHinge(torch.nn.Module):
    """The binary Lovász hinge as a module: ``criterion(logits, labels)``; per image by default."""

    def __init__(
        self, *, per_image: bool = True, ignore_index: Optional[int] = None, engine: Optional[Engine] = None
    ) -> None:
        super().__init__()
        self.per_image = per_image
        self.ignore_index = ignore_index
        self.engine = engine

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return lovasz_hinge(
            scores, labels, per_image=self.per_image, ignore_index=self.ignore_index, engine=self.engine)

    def extra_repr(self) -> str:
        return f"per_image={self.per_image}, ignore_index={self.ignore_index}"


class LovaszSigmoid(torch.nn.Module):
    """The binary Lovász-Sigmoid loss as a module: ``criterion(scores, labels)``; per image by
    default."""

    def __init__(
        self,
        *,
        per_image: bool = True,
        ignore_index: Optional[int] = None,
        scores_are: str = "logits",
        engine: Optional[Engine] = None,
    ) -> None:
        super().__init__()
        self.per_image = per_image
        self.ignore_index = ignore_index
        self.scores_are = scores_are
        self.engine = engine

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return lovasz_sigmoid(
            scores, labels, per_image=self.per_image, ignore_index=self.ignore_index,
            scores_are=self.scores_are, engine=self.engine)

    def extra_repr(self) -> str:
        return f"per_image={self.per_image}, ignore_index={self.ignore_index}"
