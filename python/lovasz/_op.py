"""The Lovász losses as a PyTorch operator, ``torch.ops.lovasz.loss``, and its autograd.

The operator (``torch.library.custom_op``, with a fake implementation for ``torch.compile``)
copies the scores to the host as float32, computes the loss and ``d loss / d scores`` there
(through OpenCL or on the CPU), and returns both as float32 on the scores' device. The backward
pass multiplies the float32 gradient by ``grad_output`` in float32 and casts the product once
to the scores' dtype: float16 and bfloat16 scores get the gradients of float32 scores of the same
values, rounded once, whatever the loss scale. The saved gradient is freed by the backward
pass (a second backward without ``retain_graph=True`` raises, as for any op).

:func:`apply_loss` goes through an ``autograd.Function`` with ``setup_context`` and a ``vmap``
rule around the operator, so that ``torch.func.grad`` and ``torch.func.vmap`` work as well as
``loss.backward()`` and ``torch.compile(fullgraph=True)``; the operator also carries the same formula through
``register_autograd`` for direct calls.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np
import torch

from ._engine import engine_for_spec, expected_label_shape

Tensor = torch.Tensor


@torch.library.custom_op("lovasz::loss", mutates_args=())
def loss_op(
    scores: Tensor,
    labels: Tensor,
    class_weights: Optional[Tensor],
    loss: str,
    classes: str,
    class_list: Optional[List[int]],
    weighting: str,
    per_image: bool,
    per_image_values: bool,
    ignore_index: Optional[int],
    symmetric: bool,
    scores_are: str,
    engine: str,
    gradient: bool,
) -> Tuple[Tensor, Tensor]:
    """The loss (float32; ``[B]`` per image when ``per_image_values``, else 0-d) and, when
    ``gradient``, ``d loss / d scores`` (float32, shaped like the scores; ``[0]`` otherwise).

    ``weighting``: ``"weighted"`` (the class weights give the weighted mean of the class losses,
    the C interface's definition) or ``"mmseg"`` (``mean(w_c * L_c)`` over the counted classes,
    mmsegmentation's ``class_weight``). ``symmetric`` (hinge): ``(L(x, y) + L(-x, 1 - y)) / 2``
    in one call, so that its gradient, too, is rounded once. ``engine``: an engine spec (``""``
    is the default).
    """
    host_scores = scores.detach().to(device="cpu", dtype=torch.float32).contiguous().numpy()
    host_labels = host_label_array(labels)
    weights = None if class_weights is None else class_weights.detach().to("cpu", torch.float32).numpy().ravel()
    compute = _Computation(
        engine_for_spec(engine), loss, classes if class_list is None else list(class_list), weights, weighting,
        ignore_index, symmetric, scores_are, gradient)
    if per_image_values or (per_image and weighting == "mmseg" and weights is not None):
        values, grad = compute.each_image(host_scores, host_labels)
        if not per_image_values:
            count = max(len(values), 1)
            values = np.asarray(values.sum() / count, dtype=np.float32)
            if grad is not None:
                grad /= count
    else:
        values, grad = compute.group(host_scores, host_labels, per_image)
        values = np.asarray(values, dtype=np.float32)
    value_tensor = torch.from_numpy(np.array(values, dtype=np.float32)).to(scores.device)
    if grad is None:
        return value_tensor, scores.new_empty(0, dtype=torch.float32)
    return value_tensor, torch.from_numpy(grad).to(scores.device)


@loss_op.register_fake
def _(scores, labels, class_weights, loss, classes, class_list, weighting, per_image, per_image_values,
      ignore_index, symmetric, scores_are, engine, gradient):
    value_shape = (scores.shape[0],) if per_image_values else ()
    value = scores.new_empty(value_shape, dtype=torch.float32)
    grad = scores.new_empty(scores.shape if gradient else (0,), dtype=torch.float32)
    return value, grad


_NUMPY_INTEGERS = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def host_label_array(labels: Tensor) -> np.ndarray:
    """The labels as a NumPy array on the host (booleans as uint8, half floats as float32: the
    NumPy layer checks that floats are integral)."""
    labels = labels.detach().cpu()
    if labels.dtype == torch.bool:
        labels = labels.to(torch.uint8)
    elif labels.dtype in (torch.float16, torch.bfloat16):
        labels = labels.to(torch.float32)
    elif not labels.dtype.is_floating_point and labels.dtype not in _NUMPY_INTEGERS:
        labels = labels.to(torch.int64)
    return labels.contiguous().numpy()


class _Computation:
    """One loss computation on the host, whole or image by image."""

    def __init__(self, engine, loss, classes, weights, weighting, ignore_index, symmetric, scores_are, gradient):
        self.engine, self.loss, self.classes = engine, loss, classes
        self.weights, self.weighting, self.ignore_index = weights, weighting, ignore_index
        self.symmetric, self.scores_are, self.gradient = symmetric, scores_are, gradient

    def group(self, scores: np.ndarray, labels: np.ndarray, per_image: bool):
        """The loss of the batch (per image: their mean) and its gradient."""
        if self.symmetric and self.loss == "hinge":
            value, grad = self._one(scores, labels, per_image)
            labels = np.asarray(labels).astype(np.int64)
            flipped = 1 - labels
            if self.ignore_index is not None:
                flipped = np.where(labels == self.ignore_index, labels, flipped)
            other, other_grad = self._one(-scores, flipped, per_image)
            if grad is not None:
                grad = (grad - other_grad) * np.float32(0.5)  # d L(-x) / dx = -L'(-x)
            return (value + other) / 2, grad
        return self._one(scores, labels, per_image)

    def _one(self, scores: np.ndarray, labels: np.ndarray, per_image: bool):
        options = dict(per_image=per_image, ignore_index=self.ignore_index, gradient=self.gradient)
        if self.loss == "softmax":
            options.update(classes=self.classes, class_weights=self.weights, scores_are=self.scores_are)
        elif self.loss == "sigmoid":
            options.update(scores_are=self.scores_are)
        value, grad = self.engine.compute(self.loss, scores, labels, **options)
        if self.loss == "softmax" and self.weighting == "mmseg" and self.weights is not None:
            factor = self._mmseg_factor(scores.shape, labels)
            value *= factor
            if grad is not None:
                grad *= np.float32(factor)
        return value, grad

    def each_image(self, scores: np.ndarray, labels: np.ndarray):
        """The loss of every image (a vector) and the gradient of each image's loss with respect
        to its own scores."""
        count = scores.shape[0]
        values = np.zeros(count, dtype=np.float32)
        grad = np.zeros_like(scores) if self.gradient else None
        labels = labels.reshape((count, -1)) if count else labels
        image_labels = (1,) + expected_label_shape(self.loss, scores.shape)[1:]
        for b in range(count):
            value, image_grad = self.group(scores[b:b + 1], labels[b:b + 1].reshape(image_labels), False)
            values[b] = value
            if grad is not None:
                grad[b:b + 1] = image_grad
        return values, grad

    def _mmseg_factor(self, shape, labels) -> float:
        """``mean(w_c L_c) / weighted_mean(L_c) = sum(w_c) / n`` over the counted classes."""
        class_count = shape[1]
        if isinstance(self.classes, str) and self.classes == "all":
            counted = np.arange(class_count)
        elif isinstance(self.classes, str):
            flat = np.asarray(labels).ravel()
            if self.ignore_index is not None:
                flat = flat[flat != self.ignore_index]
            counted = np.unique(flat.astype(np.int64))
            counted = counted[(counted >= 0) & (counted < class_count)]
        else:
            counted = np.asarray(self.classes, dtype=np.int64)
        if counted.size == 0:
            return 0.0
        return float(self.weights[counted].astype(np.float64).sum() / counted.size)


def _setup_context(ctx, inputs, output):
    _, grad = output
    ctx.save_for_backward(grad)
    ctx.scores_dtype = inputs[0].dtype
    ctx.set_materialize_grads(False)


def _scores_gradient(ctx, grad_value):
    """``grad_output * d loss / d scores`` in float32, cast once to the scores' dtype (``None``
    when there is nothing to propagate)."""
    (grad,) = ctx.saved_tensors
    if grad_value is None or grad.numel() == 0:
        return None
    factor = grad_value.to(torch.float32)
    if factor.dim() == 1:  # one loss per image: each scales its own image's gradient
        factor = factor.reshape(factor.shape + (1,) * (grad.dim() - 1))
    return (factor * grad).to(ctx.scores_dtype)


def _backward(ctx, grad_value, _grad_of_grad):
    return (_scores_gradient(ctx, grad_value),) + (None,) * 13


loss_op.register_autograd(_backward, setup_context=_setup_context)


class _LossFunction(torch.autograd.Function):
    """The operator under autograd, in the form ``torch.func`` transforms accept
    (``setup_context`` separate from ``forward``)."""

    @staticmethod
    def forward(scores, labels, class_weights, arguments):
        return loss_op(scores, labels, class_weights, *arguments)

    @staticmethod
    def setup_context(ctx, inputs, output):
        _setup_context(ctx, inputs, output)
        ctx.mark_non_differentiable(output[1])

    @staticmethod
    def backward(ctx, grad_value, _grad_of_grad):
        return _scores_gradient(ctx, grad_value), None, None, None

    @staticmethod
    def vmap(info, in_dims, scores, labels, class_weights, arguments):
        """Under ``torch.func.vmap``: one operator call per mapped problem, stacked."""
        scores_dim, labels_dim, weights_dim, _ = in_dims

        def take(tensor, dim, index):
            return tensor if tensor is None or dim is None else tensor.select(dim, index)

        results = [
            loss_op(take(scores, scores_dim, i), take(labels, labels_dim, i), take(class_weights, weights_dim, i),
                    *arguments)
            for i in range(info.batch_size)
        ]
        values = torch.stack([value for value, _ in results])
        grads = torch.stack([grad for _, grad in results])
        return (values, grads), (0, 0)


def apply_loss(
    scores: Tensor,
    labels: Tensor,
    *,
    loss: str,
    classes="present",
    class_weights: Optional[Tensor] = None,
    weighting: str = "weighted",
    per_image: bool = False,
    per_image_values: bool = False,
    ignore_index: Optional[int] = None,
    symmetric: bool = False,
    scores_are: str = "logits",
    engine: str = "",
) -> Tensor:
    """The loss (float32) with autograd; the inputs are checked by the caller."""
    if isinstance(classes, str):
        class_name, class_list = classes, None
    else:
        class_name, class_list = "list", [int(c) for c in classes]
    gradient = torch.is_grad_enabled() and scores.requires_grad
    arguments = (
        loss, class_name, class_list, weighting, bool(per_image), bool(per_image_values),
        None if ignore_index is None else int(ignore_index), bool(symmetric), scores_are, engine, gradient)
    value, _ = _LossFunction.apply(scores, labels, class_weights, arguments)
    return value
