"""Zero-copy from OpenCL code: the losses on ``pyopencl.array.Array`` scores and labels.

The scores, labels and gradient stay on the device: the library enqueues its kernels on the
arrays' command queue (through its own OpenCL loader; handles from pyopencl's bundled loader
work there too) and reads back only a few bytes of counts and the loss.

    >>> import pyopencl as cl, pyopencl.array as cla, lovasz
    >>> loss, grad = lovasz.softmax(scores_cl, labels_cl, ignore_index=255)  # grad: a cla.Array

pyopencl is imported only when such arrays are passed.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Dict, Optional, Tuple

import numpy as np

from . import _library as capi
from ._errors import LovaszError, raise_for_status

_MESSAGE_SIZE = 1024
_DEVICE_LABEL_TYPES = {
    np.dtype(np.int32): capi.LABELS_INT32,
    np.dtype(np.int64): capi.LABELS_INT64,
    np.dtype(np.uint8): capi.LABELS_UINT8,
}

# LOVASZ_SCORES_FLOAT32 and LOVASZ_SCORES_FLOAT16 (NumPy has no bfloat16).
_DEVICE_SCORE_TYPES = {
    np.dtype(np.float32): 0,
    np.dtype(np.float16): 1,
}


def is_device_array(value) -> bool:
    """Whether `value` is a ``pyopencl.array.Array`` (checked without importing pyopencl)."""
    module = type(value).__module__ or ""
    return module.startswith("pyopencl") and hasattr(value, "base_data") and hasattr(value, "queue")


def _declare(library: ctypes.CDLL) -> None:
    if getattr(library, "_lovasz_opencl_declared", False):
        return
    c_size_t, c_int32, c_void_p = ctypes.c_size_t, ctypes.c_int32, ctypes.c_void_p
    library.lovasz_engine_create_opencl.argtypes = [c_void_p, ctypes.POINTER(c_void_p), ctypes.c_char_p, c_size_t]
    library.lovasz_engine_create_opencl.restype = c_int32
    library.lovasz_compute_device_typed.argtypes = [
        c_void_p, c_int32,  # engine, loss
        c_void_p, c_size_t, c_int32,  # scores, offset, score type
        ctypes.POINTER(ctypes.c_int64), c_int32,  # shape, rank
        c_void_p, c_size_t, c_int32,  # labels, offset, type
        ctypes.POINTER(capi.Options),
        c_void_p, c_size_t, c_int32,  # gradient, offset, gradient in the scores' type
        ctypes.c_uint32, ctypes.POINTER(c_void_p), ctypes.POINTER(c_void_p),  # wait events, completion
        ctypes.POINTER(ctypes.c_double), ctypes.c_char_p, c_size_t,
    ]
    library.lovasz_compute_device_typed.restype = c_int32
    library._lovasz_opencl_declared = True


class QueueEngine:
    """An engine on a ``pyopencl.CommandQueue`` (in order): every call enqueues its kernels on
    that queue, after the commands already there, and computes on device arrays in place.

    The engine retains the queue and its context (the library's references) until
    :meth:`close` or collection. Use one engine per queue; engines on different queues may be
    used from different threads at once.

    Raises:
        OpenCLUnavailable: the queue is out of order or the kernels cannot be built.
    """

    def __init__(self, queue) -> None:
        from ._engine import Engine  # noqa: F401  (the library loads through the same path)

        self._lib = capi.library()
        _declare(self._lib)
        self.queue = queue
        handle = ctypes.c_void_p()
        message = ctypes.create_string_buffer(_MESSAGE_SIZE)
        status = self._lib.lovasz_engine_create_opencl(
            ctypes.c_void_p(queue.int_ptr), ctypes.byref(handle), message, _MESSAGE_SIZE)
        raise_for_status(status, message.value)
        self._handle: Optional[int] = handle.value
        self._lock = threading.Lock()

    def close(self) -> None:
        """Destroys the engine now (releasing the library's references to the queue)."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            self._lib.lovasz_engine_destroy(handle)

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None:
            try:
                self.close()
            except Exception:
                pass

    def __repr__(self) -> str:
        return f"QueueEngine(queue={self.queue!r})"

    def softmax(self, scores, labels, *, classes="present", class_weights=None, per_image: bool = False,
                ignore_index: Optional[int] = None, scores_are: str = "logits", gradient: bool = True):
        """The Lovász-Softmax loss of device arrays; arguments as :func:`lovasz.softmax`."""
        return self._loss("softmax", scores, labels, classes, class_weights, per_image, ignore_index, scores_are,
                          gradient)

    def hinge(self, scores, labels, *, per_image: bool = True, ignore_index: Optional[int] = None,
              gradient: bool = True):
        """The Lovász hinge of device arrays; arguments as :func:`lovasz.hinge`."""
        return self._loss("hinge", scores, labels, "present", None, per_image, ignore_index, "logits", gradient)

    def sigmoid(self, scores, labels, *, per_image: bool = True, ignore_index: Optional[int] = None,
                scores_are: str = "logits", gradient: bool = True):
        """The Lovász-Sigmoid loss of device arrays; arguments as :func:`lovasz.sigmoid`."""
        return self._loss("sigmoid", scores, labels, "present", None, per_image, ignore_index, scores_are, gradient)

    def _loss(self, loss, scores, labels, classes, class_weights, per_image, ignore_index, scores_are, gradient):
        from ._engine import _options

        if not is_device_array(scores) or not is_device_array(labels):
            raise LovaszError("invalid option: a QueueEngine takes pyopencl arrays for scores and labels")
        options, keep_alive = _options(loss, classes, class_weights, per_image, ignore_index, scores_are)
        result = self.compute(loss, scores, labels, options=options, gradient=gradient)
        del keep_alive
        return result

    def compute(self, loss: str, scores, labels, *, options, gradient: bool = True) -> Tuple[float, object]:
        """`loss` of device arrays with the C options `options`; see :func:`lovasz.softmax`.

        Returns:
            ``(loss, grad)``: a float and a ``pyopencl.array.Array`` on the engine's queue
            shaped like ``scores``, of the scores' dtype (float32, or float16 widened exactly on
            the device and the gradient rounded once), ``None`` when ``gradient`` is false.
        """
        import pyopencl.array as cl_array

        handle = self._handle
        if handle is None:
            raise LovaszError("the engine is closed")
        _check_array(scores, "scores", list(_DEVICE_SCORE_TYPES))
        _check_array(labels, "labels", list(_DEVICE_LABEL_TYPES))
        from ._engine import _check_label_shape

        _check_label_shape(loss, tuple(scores.shape), tuple(labels.shape))
        grad = cl_array.empty(self.queue, scores.shape, scores.dtype) if gradient else None
        waits = [event.int_ptr for event in list(scores.events) + list(labels.events)]
        wait_array = (ctypes.c_void_p * max(len(waits), 1))(*waits)
        shape = (ctypes.c_int64 * max(len(scores.shape), 1))(*scores.shape)
        value = ctypes.c_double(0.0)
        message = ctypes.create_string_buffer(_MESSAGE_SIZE)
        status = self._lib.lovasz_compute_device_typed(
            handle, capi.LOSSES[loss],
            ctypes.c_void_p(scores.base_data.int_ptr), scores.offset, _DEVICE_SCORE_TYPES[scores.dtype],
            shape, len(scores.shape),
            ctypes.c_void_p(labels.base_data.int_ptr), labels.offset, _DEVICE_LABEL_TYPES[labels.dtype],
            ctypes.byref(options),
            ctypes.c_void_p(grad.base_data.int_ptr) if grad is not None else None, grad.offset if grad is not None else 0, 1,
            len(waits), wait_array, None,
            ctypes.byref(value), message, _MESSAGE_SIZE)
        raise_for_status(status, message.value)
        return float(value.value), grad


def _check_array(array, role: str, dtypes) -> None:
    if array.dtype not in dtypes:
        names = ", ".join(str(d) for d in dtypes)
        raise LovaszError(f"invalid option: the {role} array is {array.dtype}; expected {names} on the device")
    if not array.flags.c_contiguous:
        raise LovaszError(f"invalid shape: the {role} array is not C-contiguous")
    if array.queue is None:
        raise LovaszError(f"invalid option: the {role} array has no command queue")


_engines: Dict[int, QueueEngine] = {}
_engines_lock = threading.Lock()


def engine_for(queue) -> QueueEngine:
    """The shared engine on `queue` (by its ``cl_command_queue``), created on first use.

    It keeps the queue alive for the life of the process (pyopencl queues take no weak
    references); make a :class:`QueueEngine` yourself and :meth:`~QueueEngine.close` it to
    control that.
    """
    with _engines_lock:
        engine = _engines.get(queue.int_ptr)
        if engine is None:
            engine = QueueEngine(queue)
            _engines[queue.int_ptr] = engine
        return engine
