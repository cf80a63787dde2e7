"""Builds the lovasz wheel with libLovaszC inside the package, where the loader finds it.

The library comes from ``$LOVASZ_LIBRARY`` when set (``scripts/build-wheel`` sets it to a
stripped, statically linked build). Otherwise, inside the swift-lovasz repository,
``swift build -c release --product LovaszC`` builds it into ``.build/python-swift`` (on Linux
with the Swift runtime linked statically, so that the installed package does not depend on
where the toolchain is). With ``LOVASZ_SKIP_SWIFT_BUILD=1``, or no ``swift`` on the PATH, an
existing ``.build/python-swift/release`` or ``.build/release`` library is used; with none, the
installation fails, naming the two ways out. Editable installs bundle nothing: the loader
finds the repository's ``.build/release`` or ``.build/debug`` library. setuptools' build and
egg-info folders go under ``.build/`` too, so that the checkout stays clean.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
SCRATCH = REPOSITORY / ".build" / "python-swift"
IN_REPOSITORY = (REPOSITORY / "Package.swift").is_file()
LIBRARY_FILE = "libLovaszC.dylib" if sys.platform == "darwin" else "libLovaszC.so"


def library_to_bundle():
    """The libLovaszC to put into the wheel, or None."""
    explicit = os.environ.get("LOVASZ_LIBRARY")
    if explicit:
        path = Path(explicit).expanduser()
        path = path / LIBRARY_FILE if path.is_dir() else path
        if not path.is_file():
            sys.exit(f"LOVASZ_LIBRARY names {path}, which is not a file")
        return path
    if not IN_REPOSITORY:
        return None
    if os.environ.get("LOVASZ_SKIP_SWIFT_BUILD") != "1" and shutil.which("swift"):
        command = [
            "swift", "build", "-c", "release", "--product", "LovaszC",
            "--package-path", str(REPOSITORY), "--scratch-path", str(SCRATCH),
        ]
        if sys.platform.startswith("linux"):
            command += ["-Xswiftc", "-static-stdlib"]
        print("building libLovaszC:", " ".join(command), flush=True)
        subprocess.run(command, check=True)
    for built in (SCRATCH / "release" / LIBRARY_FILE, REPOSITORY / ".build" / "release" / LIBRARY_FILE):
        if built.is_file():
            return built
    return None


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        library = library_to_bundle()
        if library is None:
            sys.exit(
                f"error: lovasz needs {LIBRARY_FILE}, and there is none to bundle: no Swift 6.1 "
                "toolchain on the PATH to build it and no library already built. Either install "
                "Swift (https://swift.org/install) and run this installation again, or install "
                "the prebuilt wheel instead: `pip install lovasz-<version>-py3-none-manylinux_*.whl` "
                "(made by `bash scripts/build-wheel` in the swift-lovasz repository). "
                "LOVASZ_LIBRARY=/path/to/" + LIBRARY_FILE + " bundles an existing library."
            )
        target = Path(self.build_lib) / "lovasz" / LIBRARY_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library, target)
        print(f"bundled {library} as {target}", flush=True)


class NativeDistribution(Distribution):
    """The package holds a native library: install it as platform-specific."""

    def has_ext_modules(self):
        return True


commands = {"build_py": BuildWithLibrary}

if bdist_wheel is not None:

    class PlatformWheel(bdist_wheel):
        """Tag the wheel for this platform and any Python 3: the library is called with ctypes."""

        def get_tag(self):
            _, _, platform = super().get_tag()
            return "py3", "none", platform

    commands["bdist_wheel"] = PlatformWheel

options = {}
if IN_REPOSITORY:
    # Keep setuptools' scratch folders out of the source tree (under the ignored .build/).
    scratch = REPOSITORY / ".build" / "python-setuptools"
    scratch.mkdir(parents=True, exist_ok=True)
    options = {"build": {"build_base": str(scratch)}, "egg_info": {"egg_base": str(scratch)}}

setup(cmdclass=commands, distclass=NativeDistribution, options=options)
