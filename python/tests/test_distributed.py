"""Distributed training: two gloo processes on the CPU, each with its own engine and confusion
matrix; after the all-reduce the dataset mIoU and counts equal one process's over the whole
dataset, and DDP's averaged gradient equals the single-process gradient."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("this PyTorch has no torch.distributed", allow_module_level=True)

PACKAGE_SOURCE = Path(__file__).resolve().parents[1]


def run_example(world_size):
    script = PACKAGE_SOURCE / "examples" / "distributed_miou.py"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE_SOURCE), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(script), "--world-size", str(world_size)],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_two_processes_give_the_single_process_miou_and_gradient(engine):
    sys.path.insert(0, str(PACKAGE_SOURCE / "examples"))
    try:
        import distributed_miou as example
    finally:
        sys.path.pop(0)
    model = example.make_model()
    _, matrix = example.step(model, range(example.IMAGES), engine)  # one process, every image
    double = run_example(2)
    assert double["counts"] == matrix.counts.tolist()
    assert double["miou"] == matrix.miou() and 0 < matrix.miou() < 1
    np.testing.assert_allclose(double["weight_grad"], model.weight.grad.flatten().numpy(), rtol=1e-5, atol=1e-7)
