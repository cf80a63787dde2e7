"""Finding and loading libLovaszC, and the ctypes declarations of include/lovasz.h."""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from pathlib import Path
from typing import List, Optional

API_VERSION = 1

# Status codes, backends, losses, label types and options of lovasz.h.
OK, ERROR_INTERNAL, ERROR_BAD_INPUT, ERROR_OPENCL, ERROR_OUT_OF_MEMORY = 0, 1, 2, 3, 4
BACKENDS = {"auto": 0, "cpu": 1, "opencl": 2}
BACKEND_NAMES = {1: "cpu", 2: "opencl"}
LOSSES = {"softmax": 0, "hinge": 1, "sigmoid": 2}
LABELS_INT32, LABELS_INT64, LABELS_UINT8 = 0, 1, 2
SCORES_ARE = {"logits": 0, "probabilities": 1}
CLASSES_PRESENT, CLASSES_ALL, CLASSES_LIST = 0, 1, 2
PER_IMAGE_DEFAULT = -1

if sys.platform == "darwin":
    LIBRARY_FILE = "libLovaszC.dylib"
elif sys.platform == "win32":
    LIBRARY_FILE = "LovaszC.dll"
else:
    LIBRARY_FILE = "libLovaszC.so"


class LibraryNotFound(OSError):
    """libLovaszC could not be found or loaded; the message lists where it was looked for."""


class Options(ctypes.Structure):
    """``lovasz_options``."""

    _fields_ = [
        ("scores_are", ctypes.c_int32),
        ("classes", ctypes.c_int32),
        ("class_list", ctypes.POINTER(ctypes.c_int32)),
        ("class_count", ctypes.c_int32),
        ("class_weight_count", ctypes.c_int32),
        ("class_weights", ctypes.POINTER(ctypes.c_float)),
        ("per_image", ctypes.c_int32),
        ("has_ignore_index", ctypes.c_int32),
        ("ignore_index", ctypes.c_int64),
    ]


def candidate_paths() -> List[Path]:
    """Where the library is looked for, in order.

    ``$LOVASZ_LIBRARY`` alone when it is set (the file, or a folder holding it); otherwise the
    package's own folder (an installed wheel bundles the library there), then ``.build/release``
    and ``.build/debug`` of the repository holding this package (a checkout or an editable
    install).
    """
    override = os.environ.get("LOVASZ_LIBRARY")
    if override:
        path = Path(override).expanduser()
        return [path / LIBRARY_FILE if path.is_dir() else path]
    package = Path(__file__).resolve().parent
    repository = package.parent.parent
    return [package / LIBRARY_FILE] + [
        repository / ".build" / configuration / LIBRARY_FILE for configuration in ("release", "debug")
    ]


def _declare(library: ctypes.CDLL) -> None:
    c_char_p, c_size_t, c_int32 = ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int32
    engine = ctypes.c_void_p
    library.lovasz_api_version.argtypes = []
    library.lovasz_api_version.restype = c_int32
    library.lovasz_options_init.argtypes = [ctypes.POINTER(Options)]
    library.lovasz_options_init.restype = None
    library.lovasz_engine_create.argtypes = [c_int32, ctypes.POINTER(engine), c_char_p, c_size_t]
    library.lovasz_engine_create.restype = c_int32
    if hasattr(library, "lovasz_engine_create_on_device"):  # absent from older libraries
        library.lovasz_engine_create_on_device.argtypes = [c_int32, c_int32, ctypes.POINTER(engine), c_char_p, c_size_t]
        library.lovasz_engine_create_on_device.restype = c_int32
    library.lovasz_engine_destroy.argtypes = [engine]
    library.lovasz_engine_destroy.restype = None
    library.lovasz_engine_backend.argtypes = [engine]
    library.lovasz_engine_backend.restype = c_int32
    for name in ("lovasz_engine_device", "lovasz_engine_fallback_reason"):
        function = getattr(library, name)
        function.argtypes = [engine, c_char_p, c_size_t]
        function.restype = c_size_t
    library.lovasz_compute.argtypes = [
        engine,  # engine
        c_int32,  # loss
        ctypes.c_void_p,  # scores
        ctypes.POINTER(ctypes.c_int64),  # shape
        c_int32,  # rank
        ctypes.c_void_p,  # labels
        c_int32,  # label type
        ctypes.POINTER(Options),  # options
        ctypes.c_void_p,  # gradient
        ctypes.POINTER(ctypes.c_double),  # loss out
        c_char_p,  # message
        c_size_t,  # message size
    ]
    library.lovasz_compute.restype = c_int32


_library: Optional[ctypes.CDLL] = None
_library_path: Optional[Path] = None
_lock = threading.Lock()


def library_path() -> str:
    """The path of the loaded libLovaszC (loading it if needed).

    Raises:
        LibraryNotFound: as :func:`library`.
    """
    library()
    return str(_library_path)


def library() -> ctypes.CDLL:
    """The loaded library (loaded once, on first use).

    Raises:
        LibraryNotFound: when no candidate path holds a loadable library of this API version.
    """
    global _library, _library_path
    with _lock:
        if _library is not None:
            return _library
        problems = []
        for path in candidate_paths():
            if not path.is_file():
                problems.append(f"{path}: not found")
                continue
            try:
                loaded = ctypes.CDLL(str(path))
            except OSError as error:
                problems.append(f"{path}: {error}")
                continue
            try:
                _declare(loaded)
            except AttributeError as error:  # a shared library, but not libLovaszC
                problems.append(f"{path}: not libLovaszC ({error})")
                continue
            version = loaded.lovasz_api_version()
            if version != API_VERSION:
                problems.append(f"{path}: API version {version}, this package needs {API_VERSION}")
                continue
            _library, _library_path = loaded, path
            return loaded
        raise LibraryNotFound(
            f"cannot load {LIBRARY_FILE}; build it with `swift build -c release --product LovaszC` "
            "in the swift-lovasz repository or set LOVASZ_LIBRARY to its path. Tried:\n  "
            + "\n  ".join(problems)
        )
