"""Out of memory in the library is a MemoryError (status 4), and the process stays usable
(issue 10). Runs a large softmax under address-space limits in child interpreters."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

resource = pytest.importorskip("resource")
if not sys.platform.startswith("linux"):
    pytest.skip("address-space limits are tested on Linux", allow_module_level=True)

PACKAGE_SOURCE = Path(__file__).resolve().parents[1]

CHILD = """
import numpy as np, lovasz
engine = lovasz.Engine("cpu")
rng = np.random.default_rng(0)
scores = rng.normal(size=(1, 21, 1000, 1000)).astype(np.float32)
labels = rng.integers(0, 21, size=(1, 1000, 1000)).astype(np.uint8)
try:
    print("loss", engine.softmax(scores, labels)[0])
except MemoryError as error:
    print("MemoryError", error)
print("usable", engine.hinge([[1.0, -1.0]], [[1, 0]])[0])
"""


def limited(limit_bytes):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return apply


@pytest.mark.parametrize("limit_mb", [450, 800])
def test_a_failed_allocation_is_a_memory_error_and_the_process_goes_on(limit_mb):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE_SOURCE), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                            timeout=300, preexec_fn=limited(limit_mb * 1_000_000))
    if "numpy" in result.stderr and "MemoryError" in result.stderr and "lovasz" not in result.stderr:
        pytest.skip("the interpreter and NumPy alone do not fit under this limit")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith(("loss", "MemoryError")) and lines[-1] == "usable 0.0"
