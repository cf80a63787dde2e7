#!/usr/bin/env bash
# Runs on a lent GPU machine (see ../../README.md, "Performance"): registers the NVIDIA OpenCL
# driver with a carried ICD loader, checks OpenCL against the CPU path at full size, times
# `lovasz bench` on OpenCL, and times the PyTorch loop on CUDA against `lovasz` on OpenCL.
#
# Expects, carried in .gpu/ (made by scripts/gpu/prepare.sh): lovasz.gz (the stripped static binary,
# gzipped), ocl-icd-libopencl1_*.deb (the ICD loader) and wheels/ (kornia, the vectorized PyTorch
# peer). Writes its logs to $OUT (or /tmp/gpu-out).
set -u
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out"
dpkg -x .gpu/ocl-icd-libopencl1_*.deb /tmp/ocl
export LD_LIBRARY_PATH=/tmp/ocl/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
mkdir -p /tmp/vendors
driver=$(ldconfig -p | awk '/libnvidia-opencl.so.1/ {print $NF; exit}')
[ -n "$driver" ] || driver=$(find / -name 'libnvidia-opencl.so.1*' -not -path '*/proc/*' 2>/dev/null | head -n 1)
echo "${driver:-libnvidia-opencl.so.1}" > /tmp/vendors/nvidia.icd
export OCL_ICD_VENDORS=/tmp/vendors
gunzip -c .gpu/lovasz.gz > /tmp/lovasz && chmod +x /tmp/lovasz
lovasz=/tmp/lovasz
export PYTHONUNBUFFERED=1
if [ -d .gpu/wheels ]; then
  for wheel in .gpu/wheels/*.whl; do  # the kornia_rs wheels of other Python versions are refused
    python3 -m pip install -q --no-index --no-deps --target /tmp/pydeps "$wheel" >/dev/null 2>&1 || true
  done
  export PYTHONPATH=/tmp/pydeps${PYTHONPATH:+:$PYTHONPATH}
fi

nvidia-smi -L | tee "$out/device.txt"
$lovasz devices | tee -a "$out/device.txt"
steps=${STEPS:-check bench pytorch}
for step in $steps; do
  case $step in
    trace)
      LOVASZ_TRACE=1 $lovasz bench --backend opencl --workload voc --data trained --repeat 2 --warmup 1 2>&1 | grep -E "trace|median" | tail -40 | tee "$out/trace.txt" ;;
    ranking)  # the radix sort's two rankings (KernelConfiguration.RadixRanking), alternated
      for ranking in upsweep downsweep upsweep downsweep; do
        LOVASZ_RADIX_RANKING=$ranking $lovasz bench --backend opencl ${RANKING_WORKLOADS:---workload voc --workload ade20k} \
          --data both --repeat 7 --warmup 2 --phases 2>&1 |
          sed "s/^/[$ranking] /" | tee -a "$out/ranking.txt"
        LOVASZ_RADIX_RANKING=$ranking LOVASZ_TRACE=1 $lovasz bench --backend opencl --workload voc --data trained --repeat 2 --warmup 1 2>&1 |
          grep -E "radix" | tail -12 | sed "s/^/[$ranking] /" | tee -a "$out/ranking-trace.txt"
      done ;;
    check) python3 scripts/gpu/check_backends.py $lovasz --size full 2>&1 | tee "$out/check.txt" ;;
    bench) $lovasz bench --backend opencl --data both --repeat 7 --warmup 2 --phases ${WORKLOADS:-} 2>&1 | tee "$out/bench-opencl.txt" ;;
    example)
      LOVASZ_LIBRARY=$PWD/.gpu/libLovaszC.so PYTHONPATH=$PWD/python:${PYTHONPATH:-} python3 python/examples/train_zero_copy.py \
        --size 256 --batch 16 --steps 200 --check 2>&1 | tail -n 25 | tee "$out/example.txt" ;;
    cpu) $lovasz bench --backend cpu --data both --repeat 5 --warmup 1 2>&1 | tee "$out/bench-cpu.txt" ;;
    pytorch)
      for workload in ${PYTORCH_WORKLOADS:-voc voc-per-image-all ade20k}; do
        for data in random trained; do
          # One lovasz process per comparison (each pays the OpenCL start-up; device time is short).
          python3 Benchmarks/compare_pytorch.py --lovasz $lovasz --device cuda --backend opencl --lovasz-processes 1 \
            --workload $workload --data $data --repeat 7 --warmup 2 --peer kornia 2>&1 | tee -a "$out/pytorch-cuda.txt"
        done
      done ;;
  esac
done
