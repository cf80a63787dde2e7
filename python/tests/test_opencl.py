"""The OpenCL backend through the binding: the CPU's numbers, or status 3 with the reason."""

import numpy as np
import pytest

import lovasz


def test_opencl_engine_matches_the_cpu_or_says_why_not(engine):
    try:
        opencl = lovasz.Engine("opencl")
    except lovasz.OpenCLUnavailable as error:
        assert "OpenCL" in str(error)
        return
    with opencl:
        assert opencl.backend == "opencl" and opencl.device
        rng = np.random.default_rng(3)
        scores = rng.normal(size=(2, 5, 7, 9)).astype(np.float32)
        labels = rng.integers(0, 5, size=(2, 7, 9))
        labels[0, :2] = 255
        for options in ({}, {"per_image": True, "ignore_index": 255, "classes": "all"}):
            options.setdefault("ignore_index", 255)
            value, grad = opencl.softmax(scores, labels, **options)
            expected, expected_grad = engine.softmax(scores, labels, **options)
            assert value == pytest.approx(expected, rel=1e-5)
            np.testing.assert_allclose(grad, expected_grad, atol=1e-6)
        binary = (labels % 2).astype(np.uint8)
        value, grad = opencl.hinge(scores[:, 0], binary)
        expected, expected_grad = engine.hinge(scores[:, 0], binary)
        assert value == pytest.approx(expected, rel=1e-5)
        np.testing.assert_allclose(grad, expected_grad, atol=1e-6)


def test_auto_engine_reports_its_backend():
    with lovasz.Engine("auto") as automatic:
        assert automatic.backend in ("cpu", "opencl")
        if automatic.backend == "cpu":
            assert automatic.fallback_reason
        else:
            assert automatic.fallback_reason is None


def test_engines_on_a_device_index():
    """`device=i` picks OpenCL device i (`lovasz devices`); a missing one is status 3 for opencl
    and the CPU with the reason for auto; the CPU backend ignores it."""
    assert lovasz.Engine("cpu", device=0).backend == "cpu"
    with pytest.raises(lovasz.OpenCLUnavailable):
        lovasz.Engine("opencl", device=999)
    fallback = lovasz.Engine("auto", device=999)
    assert fallback.backend == "cpu" and fallback.fallback_reason
    for bad in (-1, 1.5, "0", True):
        with pytest.raises(lovasz.LovaszError, match="device"):
            lovasz.Engine("opencl", device=bad)
    try:
        first = lovasz.Engine("opencl", device=0)
    except lovasz.OpenCLUnavailable:
        return
    assert first.backend == "opencl" and first.spec == "opencl:0"
