"""``LovaszLoss``: one criterion with segmentation_models_pytorch's and mmsegmentation's options."""

from __future__ import annotations

from typing import Optional

import torch

from ._engine import Classes
from ._errors import LovaszError
from ._op import apply_loss
from .torch import EngineLike, _checked, _EngineHolder, _weights

MODES = ("binary", "multiclass", "multilabel")
REDUCTIONS = ("mean", "sum", "none")


class LovaszLoss(_EngineHolder):
    """The Lovász loss in segmentation_models_pytorch's form: ``LovaszLoss(mode, per_image,
    ignore_index, from_logits)`` gives smp's results on the same inputs, with more options.

    Modes:
        ``"multiclass"``: Lovász-Softmax of scores ``[B, C, *spatial]`` and labels
        ``[B, *spatial]`` (or ``[B, 1, *spatial]``) in ``0..C-1``.
        ``"binary"``: Lovász hinge of logits ``[B, *spatial]`` or ``[B, 1, *spatial]`` and labels
        0/1 of the same spatial shape.
        ``"multilabel"``: scores and labels ``[B, C, *spatial]``; every channel is an independent
        binary problem (Lovász hinge) and the loss is the mean over channels. smp instead pools
        all channels of an image (or of the batch) into one binary problem; the two agree for one
        channel.

    Args:
        mode: ``"binary"``, ``"multiclass"`` or ``"multilabel"``.
        per_image: one loss per image, then their mean (an image whose pixels are all ignored
            counts as 0), instead of one loss over the batch.
        ignore_index: a label whose pixels are left out (no loss, zero gradient).
        from_logits: the scores are logits. ``False`` in multiclass mode means probabilities
            (smp ignores this option and always applies the softmax); the hinge modes take
            logits only, so ``False`` is an error there.
        classes: multiclass: ``"present"`` (classes with a pixel in the group), ``"all"``, or a
            list of class indices. multilabel: ``"present"``/``"all"`` (every channel) or a list
            of channels. binary: ``"present"`` only.
        class_weights: one weight per class (channel): the loss is the **weighted mean**
            ``sum(w_c L_c) / sum(w_c)`` over the counted classes.
        reduction: ``"mean"``; ``"sum"`` (per image: the sum over images; multilabel: over
            channels and images); ``"none"``: the per-image vector ``[B]`` when ``per_image``
            (a 0-d loss otherwise), for multilabel the per-channel losses ``[C]`` (``[B, C]``
            per image), weighted so that their mean is the ``"mean"`` loss.
        class_weight: mmsegmentation's ``class_weight``: the loss is ``mean(w_c L_c)`` over the
            counted classes (not a weighted mean; the two differ unless the weights average 1
            over the counted classes). Exclusive with ``class_weights``.
        loss_weight: mmsegmentation's ``loss_weight``: a factor on the loss.
        symmetric: binary and multilabel: the symmetric Lovász hinge
            ``(L(x, y) + L(-x, 1 - y)) / 2``.
        engine: an :class:`~lovasz.Engine` or a backend name (``"cpu"``, ``"opencl:1"``);
            ``None`` for :func:`lovasz.default_engine`.

    Raises:
        LovaszError: bad options (here), or bad inputs when called.
    """

    def __init__(
        self,
        mode: str,
        per_image: bool = False,
        ignore_index: Optional[int] = None,
        from_logits: bool = True,
        classes: Classes = "present",
        class_weights=None,
        reduction: str = "mean",
        *,
        class_weight=None,
        loss_weight: float = 1.0,
        symmetric: bool = False,
        engine: EngineLike = None,
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise LovaszError(f"invalid option: mode must be one of {', '.join(MODES)}; got {mode!r}")
        if reduction not in REDUCTIONS:
            raise LovaszError(f"invalid option: reduction must be one of {', '.join(REDUCTIONS)}; got {reduction!r}")
        if class_weights is not None and class_weight is not None:
            raise LovaszError("invalid option: give class_weights (a weighted mean) or class_weight "
                              "(mmsegmentation's mean of w_c * L_c), not both")
        if mode != "multiclass" and not from_logits:
            raise LovaszError(f"invalid option: the {mode} mode's Lovász hinge takes logits; from_logits=False "
                              "is for the multiclass mode (probabilities)")
        if mode == "binary" and (class_weights is not None or class_weight is not None or classes != "present"):
            raise LovaszError("invalid option: the binary mode has no classes or class weights")
        if symmetric and mode == "multiclass":
            raise LovaszError("invalid option: symmetric is an option of the binary and multilabel hinge")
        self.mode = mode
        self.per_image = bool(per_image)
        self.ignore_index = ignore_index
        self.from_logits = bool(from_logits)
        self.classes = classes
        self.class_weights = class_weights
        self.class_weight = class_weight
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self.symmetric = bool(symmetric)
        self._set_engine(engine)

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        if self.mode == "multiclass":
            value = self._multiclass(y_pred, y_true)
        elif self.mode == "binary":
            value = self._binary(y_pred, y_true)
        else:
            value = self._multilabel(y_pred, y_true)
        return value if self.loss_weight == 1.0 else value * self.loss_weight

    def _multiclass(self, scores, labels):
        scores, labels = _checked(scores, labels, "softmax")
        mmseg = self.class_weight is not None
        vector = self.per_image and self.reduction == "none"
        value = apply_loss(
            scores, labels, loss="softmax", classes=self.classes,
            class_weights=_weights(self.class_weight if mmseg else self.class_weights),
            weighting="mmseg" if mmseg else "weighted", per_image=self.per_image, per_image_values=vector,
            ignore_index=self.ignore_index, scores_are="logits" if self.from_logits else "probabilities",
            engine=self.engine_spec)
        return self._reduce_images(value, scores.shape[0])

    def _binary(self, scores, labels):
        scores, labels = _checked(scores, labels, "hinge")
        vector = self.per_image and self.reduction == "none"
        value = self._hinge(scores, labels, vector)
        return self._reduce_images(value, scores.shape[0])

    def _reduce_images(self, value, count):
        if self.per_image and self.reduction == "sum":
            return value * count
        return value

    def _hinge(self, scores, labels, vector):
        return apply_loss(
            scores, labels, loss="hinge", per_image=self.per_image or vector, per_image_values=vector,
            ignore_index=self.ignore_index, symmetric=self.symmetric, engine=self.engine_spec)

    def _multilabel(self, scores, labels):
        if not isinstance(labels, torch.Tensor):
            labels = torch.as_tensor(labels)
        if scores.dim() < 2 or tuple(labels.shape) != tuple(scores.shape):
            raise LovaszError(f"invalid shape: multilabel labels {list(labels.shape)} for scores "
                              f"{list(scores.shape)}; expected scores and labels [B, C, *spatial] of one shape")
        weights = self.class_weight if self.class_weight is not None else self.class_weights
        weights = _weights(weights)
        if not isinstance(self.classes, str):
            channels = torch.as_tensor(list(self.classes), dtype=torch.int64)
            scores, labels = scores[:, channels], labels[:, channels]
            weights = None if weights is None else weights.reshape(-1)[channels]
        count, channels = scores.shape[0], scores.shape[1]
        if self.per_image:
            flat_scores, flat_labels = scores.reshape(count * channels, -1), labels.reshape(count * channels, -1)
        else:
            flat_scores = scores.movedim(1, 0).reshape(channels, -1)
            flat_labels = labels.movedim(1, 0).reshape(channels, -1)
        flat_scores, flat_labels = _checked(flat_scores, flat_labels, "hinge")
        per_channel = self._vector_hinge(flat_scores, flat_labels)
        if self.per_image:
            per_channel = per_channel.reshape(count, channels)
        if weights is not None:
            weights = weights.to(device=per_channel.device, dtype=torch.float32).reshape(-1)
            if weights.numel() != channels:
                raise LovaszError(f"invalid option: {weights.numel()} class weights for {channels} channels")
            factor = weights if self.class_weight is not None else weights * (channels / weights.sum())
            per_channel = per_channel * factor
        if self.reduction == "none":
            return per_channel
        return per_channel.sum() if self.reduction == "sum" else per_channel.mean()

    def _vector_hinge(self, scores, labels):
        """One hinge loss per row of ``[G, N]`` scores."""
        return apply_loss(
            scores, labels, loss="hinge", per_image=True, per_image_values=True,
            ignore_index=self.ignore_index, symmetric=self.symmetric, engine=self.engine_spec)

    def extra_repr(self) -> str:
        return (f"mode={self.mode!r}, per_image={self.per_image}, ignore_index={self.ignore_index}, "
                f"reduction={self.reduction!r}")
