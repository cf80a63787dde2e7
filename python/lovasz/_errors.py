"""The exceptions raised for the status codes of the C interface."""


class LovaszError(ValueError):
    """Input the losses cannot compute a number for (status 2): a bad shape, a non-finite
    score, a label out of range, a bad option. The message names the problem and, for scores
    and labels, the first bad position."""


class OpenCLUnavailable(LovaszError, RuntimeError):
    """OpenCL was asked for and cannot be used, or failed (status 3). The message says why."""


class InternalError(RuntimeError):
    """An unexpected failure inside the library (status 1)."""


def raise_for_status(status: int, message: bytes) -> None:
    """Raises the exception for a non-zero status of a C call, with its message: status 4
    (``LOVASZ_ERROR_OUT_OF_MEMORY``, an allocation failed) is Python's :class:`MemoryError`;
    the process stays usable."""
    if status == 0:
        return
    text = message.decode("utf-8", "replace") or f"status {status}"
    if status == 2:
        raise LovaszError(text)
    if status == 3:
        raise OpenCLUnavailable(text)
    if status == 4:
        raise MemoryError(text)
    raise InternalError(text)
