"""The zero-copy path: pyopencl arrays in, a pyopencl gradient out, equal to the NumPy path."""

import re

import numpy as np
import pytest

import lovasz

cl = pytest.importorskip("pyopencl")
cl_array = pytest.importorskip("pyopencl.array")


def _queue():
    try:
        platforms = cl.get_platforms()
    except cl.Error:
        platforms = []
    devices = [d for p in platforms for d in p.get_devices()]
    if not devices:
        pytest.skip("no OpenCL device visible to pyopencl")
    context = cl.Context([devices[0]])
    return cl.CommandQueue(context)


@pytest.fixture(scope="module")
def queue():
    return _queue()


def _at_offset(queue, values, offset_elements):
    """A device array holding `values`, starting `offset_elements` into a larger buffer."""
    flat = np.ascontiguousarray(values).ravel()
    big = cl_array.zeros(queue, flat.size + offset_elements + 7, flat.dtype)
    view = big[offset_elements:offset_elements + flat.size]
    view.set(flat)
    return view.reshape(values.shape)


def _problem(seed=0, shape=(2, 5, 9, 11)):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=shape).astype(np.float32)
    labels = rng.integers(0, shape[1], size=(shape[0],) + shape[2:]).astype(np.int64)
    labels[rng.random(labels.shape) < 0.2] = 255
    return scores, labels


def test_softmax_on_pyopencl_arrays_equals_numpy(queue):
    scores, labels = _problem()
    align = queue.device.mem_base_addr_align // 8 // 4  # floats per sub-buffer alignment
    device_scores = _at_offset(queue, scores, align)
    assert device_scores.offset > 0
    device_labels = _at_offset(queue, labels, 3)
    loss, grad = lovasz.softmax(device_scores, device_labels, ignore_index=255)
    expected, expected_grad = lovasz.softmax(scores, labels, ignore_index=255, engine=lovasz.Engine("cpu"))
    assert isinstance(grad, cl_array.Array) and grad.queue == queue
    assert grad.shape == scores.shape
    assert loss == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(grad.get(), expected_grad, atol=1e-6)


def test_float16_scores_are_widened_on_the_device_and_the_gradient_rounded_once(queue):
    scores, labels = _problem(seed=3)
    half = scores.astype(np.float16)
    align = queue.device.mem_base_addr_align // 8 // 2  # halves per sub-buffer alignment
    device_scores = _at_offset(queue, half, align)
    loss, grad = lovasz.softmax(device_scores, cl_array.to_device(queue, labels), ignore_index=255)
    expected, expected_grad = lovasz.softmax(
        half.astype(np.float32), labels, ignore_index=255, engine=lovasz.Engine("cpu"))
    assert grad.dtype == np.float16 and grad.shape == scores.shape
    assert loss == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(grad.get().astype(np.float32), expected_grad.astype(np.float16).astype(np.float32),
                               rtol=1e-2, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64])
@pytest.mark.parametrize("loss", ["hinge", "sigmoid"])
def test_binary_losses_and_label_types(queue, loss, dtype):
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(3, 7, 5)).astype(np.float32)
    labels = rng.integers(0, 2, size=scores.shape).astype(dtype)
    engine = lovasz.QueueEngine(queue)
    function = getattr(engine, loss)
    value, grad = function(cl_array.to_device(queue, scores), cl_array.to_device(queue, labels))
    expected, expected_grad = getattr(lovasz, loss)(scores, labels, engine=lovasz.Engine("cpu"))
    assert value == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(grad.get(), expected_grad, atol=1e-6)
    engine.close()


def test_errors_name_the_problem(queue):
    scores, labels = _problem(1)
    labels[1, 2, 3] = 40
    with pytest.raises(lovasz.LovaszError, match=re.escape("label 40 at position [1, 2, 3]")):
        lovasz.softmax(cl_array.to_device(queue, scores), cl_array.to_device(queue, labels), ignore_index=255)
    bad_scores = scores.copy()
    bad_scores[0, 1, 2, 3] = np.nan
    with pytest.raises(lovasz.LovaszError, match=re.escape("position [0, 1, 2, 3]")):
        lovasz.softmax(cl_array.to_device(queue, bad_scores), cl_array.to_device(queue, labels % 5))
    other = _queue()
    with pytest.raises(lovasz.OpenCLUnavailable, match="another OpenCL context"):
        lovasz.softmax(cl_array.to_device(queue, scores), cl_array.to_device(other, labels % 5))
    with pytest.raises(lovasz.OpenCLUnavailable, match="CL_DEVICE_MEM_BASE_ADDR_ALIGN"):
        lovasz.softmax(_at_offset(queue, scores, 1), cl_array.to_device(queue, labels % 5))
    with pytest.raises(lovasz.LovaszError, match="pyopencl labels"):
        lovasz.softmax(cl_array.to_device(queue, scores), labels)


def test_two_loaders_in_one_process(queue):
    """pyopencl's bundled ICD loader and the library's (the system's libOpenCL.so.1) are both
    loaded, and handles from the first work through the second."""
    scores, labels = _problem(2)
    loss, _ = lovasz.softmax(cl_array.to_device(queue, scores), cl_array.to_device(queue, labels), ignore_index=255)
    assert np.isfinite(loss)
    with open("/proc/self/maps") as maps:
        loaded = {line.split()[-1] for line in maps if "libOpenCL" in line}
    bundled = [path for path in loaded if "pyopencl" in path]
    if bundled:  # the PyPI wheel ships its own loader: then two distinct loaders are in use
        assert len({p for p in loaded}) >= 2, loaded


def test_zero_copy_training_example_raises_the_mean_iou():
    """python/examples/train_zero_copy.py, small: the logits never leave the device."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    source = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, str(source / "examples" / "train_zero_copy.py"), "--steps", "25", "--size", "32", "--check"],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mIoU" in result.stdout
