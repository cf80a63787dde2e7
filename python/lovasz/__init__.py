"""Lovász losses (Lovász-Softmax, Lovász hinge, Lovász-Sigmoid) and their gradients.

A ctypes binding of swift-lovasz's C interface (libLovaszC): the losses run on a GPU through
OpenCL when one is usable and on the CPU otherwise, with the same numbers.

    >>> import lovasz
    >>> loss, grad = lovasz.softmax(logits, labels, ignore_index=255)   # NumPy in, NumPy out

With PyTorch installed, ``lovasz.LovaszLoss`` (segmentation_models_pytorch's options),
``LovaszSoftmax``, ``LovaszHinge``, ``LovaszSigmoid`` and ``lovasz_softmax``, ... from
:mod:`lovasz.torch` run as the PyTorch operator ``torch.ops.lovasz.loss``: autograd,
mixed precision, ``torch.compile`` and ``torch.func.grad`` work. ``lovasz.ConfusionMatrix``
accumulates dataset IoU counts that sum across processes.

``pyopencl.array.Array`` scores and labels are computed in place on their command queue,
and the gradient comes back as a pyopencl array (zero-copy; see :mod:`lovasz._opencl`).
"""

from ._engine import Engine, default_engine, hinge, sigmoid, softmax
from ._errors import InternalError, LovaszError, OpenCLUnavailable
from ._library import LibraryNotFound, library_path
from ._metrics import ConfusionMatrix
from ._opencl import QueueEngine, engine_for

__version__ = "0.1.0"

__all__ = [
    "ConfusionMatrix",
    "Engine",
    "InternalError",
    "LibraryNotFound",
    "LovaszError",
    "OpenCLUnavailable",
    "QueueEngine",
    "default_engine",
    "engine_for",
    "hinge",
    "library_path",
    "sigmoid",
    "softmax",
]

_TORCH_NAMES = {
    "LovaszLoss", "LovaszSoftmax", "LovaszHinge", "LovaszSigmoid", "lovasz_softmax", "lovasz_hinge",
    "lovasz_sigmoid",
}


def __getattr__(name):
    # The PyTorch wrappers are imported on first use, so that `import lovasz` needs no torch.
    if name in _TORCH_NAMES or name == "torch":
        import importlib

        module = importlib.import_module(".torch", __name__)
        return module if name == "torch" else getattr(module, name)
    raise AttributeError(f"module 'lovasz' has no attribute {name!r}")
