#!/usr/bin/env python3
"""Runs `lovasz loss` with --backend opencl and --backend cpu on the same random inputs and
compares the losses (1e-5 relative) and the gradients element by element (1e-6 absolute).

Usage: check_backends.py LOVASZ_BINARY [--size small|full]
Needs numpy. Prints one line per case and exits 1 if any case disagrees.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import os

import numpy as np


def cases(size):
    full = size == "full"
    voc = (8, 21, 321, 321) if full else (2, 21, 41, 43)
    ade = (4, 150, 128, 128) if full else (2, 150, 17, 19)
    return [
        ("softmax VOC random, per batch", "softmax", voc, ["--ignore-index", "255"], "random"),
        ("softmax VOC trained, per batch", "softmax", voc, ["--ignore-index", "255"], "trained"),
        ("softmax VOC trained, per image", "softmax", voc, ["--per-image", "--ignore-index", "255"], "trained"),
        ("softmax ADE 150 classes, all", "softmax", ade, ["--classes", "all", "--ignore-index", "255"], "random"),
        ("hinge", "hinge", (voc[0], voc[2], voc[3]), [], "trained"),
        ("sigmoid", "sigmoid", (voc[0], voc[2], voc[3]), [], "trained"),
    ]


def make_inputs(loss, shape, data, rng):
    if loss == "softmax":
        b, c = shape[0], shape[1]
        labels = rng.integers(0, c, size=(b,) + shape[2:], dtype=np.int64).astype(np.uint8)
        scores = rng.standard_normal(shape, dtype=np.float32)
        if data == "trained":
            onehot = np.eye(c, dtype=np.float32)[labels.astype(np.int64)]  # [B, ..., C]
            scores += 4.0 * np.moveaxis(onehot, -1, 1)
        ignored = rng.random(labels.shape) < 0.05
        labels[ignored] = 255
        return scores, labels
    labels = (rng.random(shape) < 0.3).astype(np.uint8)
    scores = rng.standard_normal(shape, dtype=np.float32)
    if data == "trained":
        scores += np.where(labels == 1, 3.0, -3.0).astype(np.float32)
    return scores, labels


def run(binary, args):
    out = subprocess.run([binary] + args, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(
        description="Compare `lovasz loss` on --backend opencl and --backend cpu: losses to 1e-5 relative, "
        "gradients element by element to 1e-6 absolute. Exits 1 if any case disagrees.")
    parser.add_argument("binary", help="the lovasz binary to run")
    parser.add_argument("--size", choices=["small", "full"], default="small",
                        help="small shapes (seconds, any machine) or the benchmark's full shapes (default: small)")
    arguments = parser.parse_args()
    binary, size = arguments.binary, arguments.size
    if not os.access(binary, os.X_OK):
        parser.error(f"{binary} is not an executable file")
    rng = np.random.default_rng(2018)
    failed = False
    with tempfile.TemporaryDirectory() as directory:
        for name, loss, shape, extra, data in cases(size):
            scores, labels = make_inputs(loss, shape, data, rng)
            s, y = os.path.join(directory, "s.npy"), os.path.join(directory, "y.npy")
            np.save(s, scores)
            np.save(y, labels)
            results, gradients = {}, {}
            for backend in ("opencl", "cpu"):
                g = os.path.join(directory, f"g-{backend}.npy")
                results[backend] = run(binary, ["loss", "--loss", loss, "--scores", s, "--labels", y, "--backend", backend,
                                                "--json", "--grad-out", g] + extra)
                gradients[backend] = np.load(g)
            a, b = results["opencl"]["loss"], results["cpu"]["loss"]
            worst = float(np.max(np.abs(gradients["opencl"] - gradients["cpu"])))
            ok = abs(a - b) <= 1e-5 * max(abs(b), 1e-3) and worst <= 1e-6
            failed |= not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name} {shape}: loss opencl {a:.9f} cpu {b:.9f}, "
                  f"max |grad diff| {worst:.3g}, seconds opencl {results['opencl']['seconds']:.4f} "
                  f"cpu {results['cpu']['seconds']:.4f} ({results['opencl']['device']})", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
