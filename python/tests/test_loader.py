"""Finding libLovaszC: $LOVASZ_LIBRARY, a clear error when it is missing, and an installed wheel
that carries the library inside the package."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import lovasz

PACKAGE_SOURCE = Path(__file__).resolve().parents[1]

HINGE = "import lovasz; print(lovasz.library_path()); print(round(lovasz.hinge([[2, -1, 0.5, 0.2]], [[1, 0, 1, 0]])[0], 6))"


def run_python(code, cwd, path, **environment):
    """Runs `code` in a new interpreter with `path` first on its PYTHONPATH (numpy and pytest may
    come from the rest) and without $LOVASZ_LIBRARY unless given."""
    env = {k: v for k, v in os.environ.items() if k != "LOVASZ_LIBRARY"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(path), os.environ.get("PYTHONPATH")) if p)
    env.update(environment)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)


def test_lovasz_library_names_the_file_or_its_folder(tmp_path):
    loaded = Path(lovasz.library_path())
    for named in (loaded, loaded.parent):
        result = run_python(HINGE, tmp_path, PACKAGE_SOURCE, LOVASZ_LIBRARY=str(named))
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [str(loaded), "0.566667"]


def test_a_missing_library_is_a_clear_error_on_first_use(tmp_path):
    missing = tmp_path / "nowhere" / "libLovaszC.so"
    code = (
        "import lovasz\n"
        "try:\n    lovasz.Engine()\n"
        "except lovasz.LibraryNotFound as error:\n    print(error)\n"
    )
    result = run_python(code, tmp_path, PACKAGE_SOURCE, LOVASZ_LIBRARY=str(missing))
    assert result.returncode == 0, result.stderr
    assert "cannot load" in result.stdout and f"{missing}: not found" in result.stdout
    assert "swift build -c release --product LovaszC" in result.stdout


def test_an_installed_wheel_carries_its_library(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py"):
        shutil.copy(PACKAGE_SOURCE / name, source / name)
    shutil.copytree(PACKAGE_SOURCE / "lovasz", source / "lovasz", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(source)],
        env={**os.environ, "LOVASZ_LIBRARY": lovasz.library_path()}, capture_output=True, text=True)
    assert install.returncode == 0, install.stdout + install.stderr
    bundled = site / "lovasz" / Path(lovasz.library_path()).name
    assert bundled.is_file()
    result = run_python(HINGE, tmp_path, site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(bundled), "0.566667"]


def test_a_library_that_is_not_liblovaszc_is_library_not_found(tmp_path):
    import _ctypes
    other = _ctypes.__file__  # a shared library on any platform, but not libLovaszC
    code = (
        "import lovasz\n"
        "try:\n    lovasz.Engine()\n"
        "except lovasz.LibraryNotFound as error:\n    print('LibraryNotFound', error)\n"
    )
    result = run_python(code, tmp_path, PACKAGE_SOURCE, LOVASZ_LIBRARY=other)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("LibraryNotFound") and "not libLovaszC" in result.stdout
