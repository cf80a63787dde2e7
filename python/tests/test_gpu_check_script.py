"""scripts/gpu/check_backends.py, the check a lent GPU machine runs first (scripts/gpu/run.sh):
its verdicts on a stand-in `lovasz` whose backends agree or not, and one real run of the
command-line tool on the system's OpenCL (PoCL in CI), so that a change of the command's flags
or output cannot break it unnoticed before device time is spent on it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu" / "check_backends.py"
CASES = 6

# A stand-in for `lovasz loss ... --json --grad-out G`: the loss is the mean score, the gradient
# the scores times 1e-3; with --backend opencl, FAKE_LOSS_OFFSET and FAKE_GRADIENT_OFFSET are
# added to them.
STAND_IN = """#!{python}
import json, os, sys
import numpy as np
args = sys.argv[1:]
value = lambda flag: args[args.index(flag) + 1]
scores = np.load(value("--scores"))
opencl = value("--backend") == "opencl"
loss = float(scores.mean()) + (float(os.environ.get("FAKE_LOSS_OFFSET", "0")) if opencl else 0.0)
gradient = scores * 1e-3 + (float(os.environ.get("FAKE_GRADIENT_OFFSET", "0")) if opencl else 0.0)
np.save(value("--grad-out"), gradient.astype(np.float32))
print(json.dumps({{"loss": loss, "seconds": 0.001, "device": "stand-in"}}))
"""


def run_check(binary, *extra, env=None):
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(binary), *extra], capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=600)


@pytest.fixture()
def stand_in(tmp_path):
    path = tmp_path / "lovasz"
    path.write_text(STAND_IN.format(python=sys.executable))
    path.chmod(0o755)
    return path


def test_agreeing_backends_pass(stand_in):
    result = run_check(stand_in)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == CASES
    assert all(line.startswith("ok ") for line in lines)


@pytest.mark.parametrize("variable, offset", [
    ("FAKE_LOSS_OFFSET", "1e-3"),      # the mean of N(0,1) scores is small: far beyond 1e-5 relative
    ("FAKE_GRADIENT_OFFSET", "2e-6"),  # beyond the 1e-6 absolute bound on the gradient
])
def test_a_disagreement_fails_every_case(stand_in, variable, offset):
    result = run_check(stand_in, env={variable: offset})
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == CASES
    assert all(line.startswith("FAIL ") for line in lines)


def test_a_gradient_difference_within_the_bound_passes(stand_in):
    result = run_check(stand_in, env={"FAKE_GRADIENT_OFFSET": "5e-7"})
    assert result.returncode == 0, result.stdout


def test_usage_errors(tmp_path):
    shown = run_check("--help")
    assert shown.returncode == 0 and "--size" in shown.stdout
    missing = run_check(tmp_path / "no-such-lovasz")
    assert missing.returncode == 2 and "not an executable file" in missing.stderr
    wrong = run_check(tmp_path / "no-such-lovasz", "--size", "medium")
    assert wrong.returncode == 2


def lovasz_binary():
    """The `lovasz` command built beside the library under test (LOVASZ_LIBRARY), if any."""
    library = os.environ.get("LOVASZ_LIBRARY")
    if not library:
        return None
    binary = Path(library).parent / "lovasz"
    return binary if os.access(binary, os.X_OK) else None


def has_opencl_device(binary):
    devices = subprocess.run([str(binary), "devices", "--json"], capture_output=True, text=True, timeout=120)
    if devices.returncode != 0:
        return False
    try:
        return json.loads(devices.stdout)["opencl"]["device"] is not None
    except (ValueError, KeyError, TypeError):
        return False


def test_the_real_command_on_opencl_agrees_with_the_cpu():
    binary = lovasz_binary()
    if binary is None:
        pytest.skip("no lovasz command beside LOVASZ_LIBRARY (run through scripts/test-bindings)")
    if not has_opencl_device(binary):
        pytest.skip("no OpenCL device")
    result = run_check(binary, "--size", "small")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == CASES
    assert all(line.startswith("ok ") for line in lines), result.stdout
