"""The example training loop runs and trains (when PyTorch is installed)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

PACKAGE_SOURCE = Path(__file__).resolve().parents[1]


def test_train_segmentation_raises_the_mean_iou():
    script = PACKAGE_SOURCE / "examples" / "train_segmentation.py"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE_SOURCE), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, str(script), "--steps", "60", "--threads", "1", "--backend", "cpu", "--check"],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mIoU" in result.stdout
