#!/usr/bin/env bash
# Prepares .gpu/ for scripts/gpu/run.sh on a lent GPU machine (which has no Swift and no package
# registry): the stripped static `lovasz` (gzipped), the OpenCL ICD loader's .deb, and the wheels of
# kornia (the vectorized PyTorch peer) and pyopencl for the Python versions that machine may have,
# and a libLovaszC with the Swift runtime linked in (the zero-copy example).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu/wheels
echo "prepare: swift build -c release --static-swift-stdlib --product lovasz" >&2
swift build -c release --static-swift-stdlib --product lovasz 2>&1 | tail -n 3 >&2
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)"
strip -o .gpu/lovasz "$bin/lovasz"
gzip -9 -f .gpu/lovasz
echo "prepare: swift build -c release --product LovaszC -Xswiftc -static-stdlib (for the zero-copy example)" >&2
swift build -c release --product LovaszC -Xswiftc -static-stdlib 2>&1 | tail -n 1 >&2
strip -o .gpu/libLovaszC.so "$(swift build -c release --show-bin-path)/libLovaszC.so"
(cd .gpu && rm -f ocl-icd-libopencl1_*.deb && apt-get download ocl-icd-libopencl1 >/dev/null)
for version in 3.10 3.11 3.12 3.13; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$version" -d .gpu/wheels kornia-rs==0.2.0
done
python3 -m pip download -q --no-deps -d .gpu/wheels kornia==0.9.0 packaging
# pyopencl and its dependencies, for python/examples/train_zero_copy.py at full size.
for version in 3.10 3.11 3.12 3.13; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$version" \
    --platform manylinux_2_28_x86_64 -d .gpu/wheels pyopencl siphash24
done
python3 -m pip download -q --no-deps -d .gpu/wheels pytools platformdirs typing_extensions
du -sh .gpu >&2
