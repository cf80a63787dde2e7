"""Engines and the three losses on NumPy arrays."""

from __future__ import annotations

import ctypes
import os
import threading
import weakref
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from . import _library as capi
from . import _opencl
from ._errors import LovaszError, raise_for_status
from ._inputs import (  # noqa: F401  (expected_label_shape, _check_label_shape: used by the torch layer)
    LABEL_TYPES, _c_array, _check_label_shape, _label_count_shape, _labels_array, _scores_array,
    expected_label_shape)

Classes = Union[str, Sequence[int], np.ndarray]

_MESSAGE_SIZE = 1024


class Engine:
    """Computes Lovász losses and their gradients on the CPU or through OpenCL.

    An engine is created once and reused (the OpenCL backend keeps its compiled kernels and
    device buffers between calls). Every method may be called from many threads at once;
    the computation runs without the GIL.

    Engines pickle and deep-copy by their arguments: the copy is a new engine made with the same
    backend and device.

    Args:
        backend: ``"auto"`` (a GPU through OpenCL when usable, else the CPU, with the reason in
            :attr:`fallback_reason`), ``"cpu"``, or ``"opencl"`` (any OpenCL device).
        device: ``None`` (the automatic pick, or ``$LOVASZ_OPENCL_DEVICE``), or an OpenCL
            device index as ``lovasz devices`` prints them, used whatever its kind: in
            distributed training, typically the process's local rank. With ``"auto"``, an index
            that names no usable device falls back to the CPU (see :attr:`fallback_reason`);
            ``"cpu"`` ignores it.

    Raises:
        OpenCLUnavailable: ``"opencl"`` was asked for and cannot be used (on ``device``).
        LovaszError: a bad backend name or device index.
        LibraryNotFound: libLovaszC cannot be found or loaded.
    """

    def __init__(self, backend: str = "auto", device: Optional[int] = None) -> None:
        if backend not in capi.BACKENDS:
            raise LovaszError(f"invalid option: backend must be 'auto', 'cpu' or 'opencl'; got {backend!r}")
        if device is not None and (
            isinstance(device, bool) or not isinstance(device, (int, np.integer)) or not 0 <= device < 2**31
        ):
            raise LovaszError(f"invalid option: device must be None or an OpenCL device index >= 0; got {device!r}")
        self._lib = capi.library()
        self._lock = threading.Lock()
        handle = ctypes.c_void_p()
        message = ctypes.create_string_buffer(_MESSAGE_SIZE)
        if device is None:
            status = self._lib.lovasz_engine_create(
                capi.BACKENDS[backend], ctypes.byref(handle), message, _MESSAGE_SIZE)
        else:
            if not hasattr(self._lib, "lovasz_engine_create_on_device"):
                raise LovaszError(f"{capi.library_path()} predates device selection; rebuild libLovaszC")
            status = self._lib.lovasz_engine_create_on_device(
                capi.BACKENDS[backend], int(device), ctypes.byref(handle), message, _MESSAGE_SIZE)
        raise_for_status(status, message.value)
        self._handle: Optional[int] = handle.value
        self.requested = backend
        self.requested_device = None if device is None else int(device)
        _live_engines.setdefault(self.spec, self)

    @property
    def spec(self) -> str:
        """``backend`` or ``backend:device``, as given: how the PyTorch operator names an engine."""
        return self.requested if self.requested_device is None else f"{self.requested}:{self.requested_device}"

    def __reduce__(self):
        return (Engine, (self.requested, self.requested_device))

    # -- what the engine is --------------------------------------------------------------

    @property
    def backend(self) -> str:
        """``"cpu"`` or ``"opencl"``: what the engine computes with."""
        return capi.BACKEND_NAMES[self._lib.lovasz_engine_backend(self._live_handle())]

    @property
    def device(self) -> str:
        """The device the engine computes on, in words."""
        return self._text(self._lib.lovasz_engine_device)

    @property
    def fallback_reason(self) -> Optional[str]:
        """Why OpenCL is not used (auto chose the CPU, or a call fell back), else ``None``."""
        return self._text(self._lib.lovasz_engine_fallback_reason) or None

    def _text(self, function) -> str:
        handle = self._live_handle()
        length = function(handle, None, 0)
        buffer = ctypes.create_string_buffer(length + 1)
        function(handle, buffer, length + 1)
        return buffer.value.decode("utf-8", "replace")

    def __repr__(self) -> str:
        if self._handle is None:
            return "Engine(closed)"
        return f"Engine(backend={self.backend!r}, device={self.device!r})"

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Destroys the engine now (it is destroyed when collected otherwise). Idempotent;
        no call may be running on it."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            self._lib.lovasz_engine_destroy(handle)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None and getattr(self, "_lib", None) is not None:
            try:
                self.close()
            except Exception:  # the interpreter is shutting down: the process frees it anyway
                pass

    def _live_handle(self) -> int:
        handle = self._handle
        if handle is None:
            raise LovaszError("the engine is closed")
        return handle

    # -- the losses -----------------------------------------------------------------------

    def softmax(
        self,
        scores,
        labels,
        *,
        classes: Classes = "present",
        class_weights=None,
        per_image: bool = False,
        ignore_index: Optional[int] = None,
        scores_are: str = "logits",
        gradient: bool = True,
    ) -> Tuple[float, Optional[np.ndarray]]:
        """The Lovász-Softmax loss; see :func:`lovasz.softmax`."""
        return self.compute(
            "softmax", scores, labels, classes=classes, class_weights=class_weights,
            per_image=per_image, ignore_index=ignore_index, scores_are=scores_are, gradient=gradient)

    def hinge(
        self,
        scores,
        labels,
        *,
        per_image: bool = True,
        ignore_index: Optional[int] = None,
        gradient: bool = True,
    ) -> Tuple[float, Optional[np.ndarray]]:
        """The Lovász hinge; see :func:`lovasz.hinge`."""
        return self.compute(
            "hinge", scores, labels, per_image=per_image, ignore_index=ignore_index, gradient=gradient)

    def sigmoid(
        self,
        scores,
        labels,
        *,
        per_image: bool = True,
        ignore_index: Optional[int] = None,
        scores_are: str = "logits",
        gradient: bool = True,
    ) -> Tuple[float, Optional[np.ndarray]]:
        """The Lovász-Sigmoid loss; see :func:`lovasz.sigmoid`."""
        return self.compute(
            "sigmoid", scores, labels, per_image=per_image, ignore_index=ignore_index,
            scores_are=scores_are, gradient=gradient)

    def compute(
        self,
        loss: str,
        scores,
        labels,
        *,
        classes: Classes = "present",
        class_weights=None,
        per_image: Optional[bool] = None,
        ignore_index: Optional[int] = None,
        scores_are: str = "logits",
        gradient: bool = True,
    ) -> Tuple[float, Optional[np.ndarray]]:
        """Any of the three losses by name (``"softmax"``, ``"hinge"``, ``"sigmoid"``);
        ``per_image=None`` takes the loss's default.

        Returns:
            ``(loss, grad)``: the loss as a float and ``d loss / d scores`` as a float32 array
            shaped like ``scores`` (``None`` when ``gradient`` is false).

        Raises:
            LovaszError: bad shapes, non-finite scores, labels out of range, bad options.
            OpenCLUnavailable: an OpenCL engine failed.
        """
        if loss not in capi.LOSSES:
            raise LovaszError(f"invalid option: loss must be 'softmax', 'hinge' or 'sigmoid'; got {loss!r}")
        if _opencl.is_device_array(scores):
            # pyopencl arrays: computed in place on the arrays' queue (lovasz/_opencl.py).
            if not _opencl.is_device_array(labels):
                raise LovaszError("invalid option: pyopencl scores need pyopencl labels (on the same context)")
            _check_label_shape(loss, tuple(scores.shape), tuple(labels.shape))
            options, keep_alive = _options(loss, classes, class_weights, per_image, ignore_index, scores_are)
            result = _opencl.engine_for(scores.queue).compute(loss, scores, labels, options=options, gradient=gradient)
            del keep_alive
            return result
        scores = _scores_array(scores)
        labels = _labels_array(labels)
        _check_label_shape(loss, scores.shape, labels.shape)
        labels = labels.reshape(_label_count_shape(loss, scores.shape))
        options, keep_alive = _options(loss, classes, class_weights, per_image, ignore_index, scores_are)

        shape = (ctypes.c_int64 * max(scores.ndim, 1))(*scores.shape)
        grad = np.empty_like(scores) if gradient else None
        value = ctypes.c_double(0.0)
        message = ctypes.create_string_buffer(_MESSAGE_SIZE)
        status = self._lib.lovasz_compute(
            self._live_handle(),
            capi.LOSSES[loss],
            scores.ctypes.data,
            shape,
            scores.ndim,
            labels.ctypes.data,
            LABEL_TYPES[labels.dtype],
            ctypes.byref(options),
            grad.ctypes.data if grad is not None else None,
            ctypes.byref(value),
            message,
            _MESSAGE_SIZE,
        )
        del keep_alive
        raise_for_status(status, message.value)
        return float(value.value), grad


def _options(loss, classes, class_weights, per_image, ignore_index, scores_are):
    """The C options, and the arrays they point into (kept alive for the call)."""
    options = capi.Options()
    keep_alive = []
    if scores_are not in capi.SCORES_ARE:
        raise LovaszError(f"invalid option: scores_are must be 'logits' or 'probabilities'; got {scores_are!r}")
    options.scores_are = capi.SCORES_ARE[scores_are]
    if isinstance(classes, str):
        if classes == "present":
            options.classes = capi.CLASSES_PRESENT
        elif classes == "all":
            options.classes = capi.CLASSES_ALL
        else:
            raise LovaszError(
                f"invalid option: classes must be 'present', 'all' or a list of class indices; got {classes!r}")
    else:
        listed = np.asarray(classes)
        if listed.ndim != 1 or (listed.size and listed.dtype.kind not in "iu"):
            raise LovaszError(f"invalid option: the class list must be a flat list of integers; got {classes!r}")
        if listed.size and (listed.min() < np.iinfo(np.int32).min or listed.max() > np.iinfo(np.int32).max):
            raise LovaszError(f"invalid option: a class in {classes!r} is out of range")
        listed = _c_array(listed, np.int32)
        keep_alive.append(listed)
        options.classes = capi.CLASSES_LIST
        options.class_list = listed.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
        options.class_count = listed.size
    if class_weights is not None:
        weights = _c_array(np.asarray(class_weights, dtype=np.float32).ravel(), np.float32)
        if weights.size == 0:
            raise LovaszError("invalid option: the class weights are empty")
        keep_alive.append(weights)
        options.class_weights = weights.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        options.class_weight_count = weights.size
    options.per_image = capi.PER_IMAGE_DEFAULT if per_image is None else int(bool(per_image))
    if ignore_index is not None:
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
            raise LovaszError(f"invalid option: ignore_index must be an integer; got {ignore_index!r}")
        if not np.iinfo(np.int64).min <= int(ignore_index) <= np.iinfo(np.int64).max:
            raise LovaszError(f"invalid option: ignore_index {ignore_index} is out of range")
        options.has_ignore_index = 1
        options.ignore_index = int(ignore_index)
    return options, keep_alive


_default: Optional[Engine] = None
_default_lock = threading.Lock()
# One engine per spec for the PyTorch operator: the first made with that spec while it lives.
_live_engines: "weakref.WeakValueDictionary[str, Engine]" = weakref.WeakValueDictionary()
_made_engines = {}


def engine_for_spec(spec: str) -> Engine:
    """The engine the PyTorch operator computes with for ``spec`` (``""``: the default engine):
    a live, open engine made with that spec, else a new one kept for the process."""
    if not spec:
        return default_engine()
    with _default_lock:
        engine = _live_engines.get(spec)
        if engine is None or engine._handle is None:
            backend, _, device = spec.partition(":")
            engine = Engine(backend, int(device) if device else None)
            _live_engines[spec] = engine
            _made_engines[spec] = engine
        return engine


def default_engine() -> Engine:
    """The engine the module-level functions use: created on first use, with the backend
    named by ``$LOVASZ_BACKEND`` (``auto`` when unset)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Engine(os.environ.get("LOVASZ_BACKEND", "auto"))
        return _default


def _default_for(scores) -> "Engine":
    """The default engine, or for pyopencl arrays a CPU engine that only dispatches them to
    the engine on their queue (so that no default device is opened)."""
    if _opencl.is_device_array(scores):
        global _dispatcher
        with _default_lock:
            if _dispatcher is None:
                _dispatcher = Engine("cpu")
            return _dispatcher
    return default_engine()


_dispatcher: Optional[Engine] = None


def softmax(
    scores,
    labels,
    *,
    classes: Classes = "present",
    class_weights=None,
    per_image: bool = False,
    ignore_index: Optional[int] = None,
    scores_are: str = "logits",
    gradient: bool = True,
    engine: Optional[Engine] = None,
) -> Tuple[float, Optional[np.ndarray]]:
    """The Lovász-Softmax loss of scores ``[B, C, ...]`` and labels ``[B, ...]``.

    Args:
        scores: float scores (converted to C-contiguous float32), finite.
        labels: integer labels in ``0..C-1`` or equal to ``ignore_index``; int32, int64 and
            uint8 arrays are passed without a copy, other integer types are converted.
        classes: ``"present"`` (classes with a non-ignored pixel in the group), ``"all"``, or
            a list of class indices (always counted, even when absent).
        class_weights: ``None`` or ``C`` non-negative weights: a weighted mean over classes.
        per_image: one group per image, the loss being the mean over images.
        ignore_index: a label whose pixels are left out (no loss, zero gradient).
        scores_are: ``"logits"`` (the softmax is applied; the gradient is with respect to the
            logits) or ``"probabilities"``.
        gradient: whether to compute ``grad``.
        engine: the engine to use; :func:`default_engine` by default.

    Returns:
        ``(loss, grad)``: a float and a float32 array shaped like ``scores``.

    Raises:
        LovaszError: bad shapes, non-finite scores, labels out of range, bad options.
    """
    return (engine or _default_for(scores)).softmax(
        scores, labels, classes=classes, class_weights=class_weights, per_image=per_image,
        ignore_index=ignore_index, scores_are=scores_are, gradient=gradient)


def hinge(
    scores,
    labels,
    *,
    per_image: bool = True,
    ignore_index: Optional[int] = None,
    gradient: bool = True,
    engine: Optional[Engine] = None,
) -> Tuple[float, Optional[np.ndarray]]:
    """The binary Lovász hinge of logits ``[B, ...]`` (or ``[B, 1, ...]``) and labels 0/1.

    ``per_image`` is true by default, as in the reference implementation. Other arguments,
    the result and errors as :func:`softmax`.
    """
    return (engine or _default_for(scores)).hinge(
        scores, labels, per_image=per_image, ignore_index=ignore_index, gradient=gradient)


def sigmoid(
    scores,
    labels,
    *,
    per_image: bool = True,
    ignore_index: Optional[int] = None,
    scores_are: str = "logits",
    gradient: bool = True,
    engine: Optional[Engine] = None,
) -> Tuple[float, Optional[np.ndarray]]:
    """The binary Lovász-Sigmoid loss of scores ``[B, ...]`` (or ``[B, 1, ...]``) and labels 0/1.

    ``per_image`` is true by default. Other arguments, the result and errors as :func:`softmax`.
    """
    return (engine or _default_for(scores)).sigmoid(
        scores, labels, per_image=per_image, ignore_index=ignore_index, scores_are=scores_are,
        gradient=gradient)
