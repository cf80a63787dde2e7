import sys
from pathlib import Path

import pytest

# Test the package in this checkout, whether or not one is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lovasz  # noqa: E402


@pytest.fixture(scope="session")
def engine():
    """One CPU engine shared by the tests (the OpenCL tests make their own)."""
    with lovasz.Engine("cpu") as shared:
        yield shared
