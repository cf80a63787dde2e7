#!/usr/bin/env python3
"""Time the usual PyTorch Lovasz loop against `lovasz bench` on the same inputs.

The PyTorch side is the loop most users run today: softmax over the classes, then for each
counted class the errors |fg - p_c|, a descending torch.sort, the Lovasz gradient of the sorted
foreground by cumulative sums (the algorithm of Berman et al.'s public lovasz_losses.py), a dot
product, the mean over classes, and autograd's backward() to the logits. The Swift side is
`lovasz bench --scores S.npy --labels Y.npy --json` on the very same arrays, written as .npy, in
three processes by default (`--lovasz-processes`): one before the PyTorch loop's timed calls and
two among them, its median taken over all their calls, so that on a shared host both sides are
timed in the same minutes (one process's few calls last well under a second, the loop's many
seconds).

    python3 Benchmarks/compare_pytorch.py --install          # once: Benchmarks/.venv with torch, kornia
    python3 Benchmarks/compare_pytorch.py                    # VOC batch, random data
    python3 Benchmarks/compare_pytorch.py --workload voc-per-image --data trained --repeat 3
    python3 Benchmarks/compare_pytorch.py --device cuda      # PyTorch on the GPU

Needs only torch and numpy, and kornia for `--peer kornia` (in Benchmarks/.venv after --install;
the script re-runs itself with that interpreter when the current one lacks torch). Not part of
CI.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(BENCHMARKS)
DEFAULT_VENV = os.path.join(BENCHMARKS, ".venv")
RELATIVE_TOLERANCE = 1e-4
TRAINED_MARGIN = 4.0

# The standard workloads of `lovasz bench` (Sources/LovaszWorkloads/BenchWorkload.swift):
# name -> (loss, shape, classes, per_image).
WORKLOADS = {
    "voc": ("softmax", (8, 21, 321, 321), "present", False),
    "voc-per-image": ("softmax", (8, 21, 321, 321), "present", True),
    "cityscapes": ("softmax", (2, 19, 512, 1024), "present", False),
    "cityscapes-per-image": ("softmax", (2, 19, 512, 1024), "present", True),
    "ade20k": ("softmax", (4, 150, 128, 128), "all", False),
    "ade20k-per-image": ("softmax", (4, 150, 128, 128), "all", True),
    # kornia's semantics (per image, every class, no ignore index): the like-for-like workload for --peer kornia.
    "voc-per-image-all": ("softmax", (8, 21, 321, 321), "all", True),
    "hinge": ("hinge", (8, 321, 321), None, True),
    "hinge-per-batch": ("hinge", (8, 321, 321), None, False),
}


def fail(message, status=2):
    print(f"compare_pytorch: {message}", file=sys.stderr)
    sys.exit(status)


def note(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Environment


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


#: The version of kornia whose vectorized `lovasz_softmax_loss` is the `--peer kornia` figure.
KORNIA = "kornia==0.9.0"


def install(venv, index_url):
    """Creates the virtual environment and installs torch and numpy into it, then kornia (the
    `--peer kornia` figure) from PyPI, which a torch-only `--index-url` does not carry."""
    if not os.path.exists(venv_python(venv)):
        note(f"creating the virtual environment {venv}")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    command = [venv_python(venv), "-m", "pip", "install", "--upgrade", "torch", "numpy"]
    if index_url:
        command += ["--index-url", index_url]
    note("installing: " + " ".join(command))
    subprocess.run(command, check=True)
    command = [venv_python(venv), "-m", "pip", "install", KORNIA]
    note("installing: " + " ".join(command))
    subprocess.run(command, check=True)


def ensure_torch(args, argv):
    """Imports torch, re-running this script in the virtual environment when it is there."""
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    python = venv_python(args.venv)
    if os.path.exists(python) and os.path.realpath(sys.prefix) != os.path.realpath(args.venv):
        os.execv(python, [python, os.path.abspath(__file__)] + argv)
    fail(f"PyTorch and NumPy are not importable; run `{sys.argv[0]} --install` first "
         f"(it creates {args.venv} and pip-installs torch and numpy)")


# ---------------------------------------------------------------------------------------------
# Inputs


def make_inputs(loss, shape, data, seed):
    """Seeded logits ~ N(0, 1) and uniform labels (uint8); `trained` adds a +4 margin on the
    true class (hinge: +4 for label 1, -4 for label 0)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if loss == "softmax":
        batch, classes = shape[0], shape[1]
        labels = rng.integers(0, classes, size=(batch,) + tuple(shape[2:]), dtype=np.uint8)
        logits = rng.standard_normal(shape, dtype=np.float32)
        if data == "trained":
            index = labels[:, None].astype(np.int64)
            np.put_along_axis(logits, index, np.take_along_axis(logits, index, axis=1) + TRAINED_MARGIN, axis=1)
    else:
        labels = rng.integers(0, 2, size=shape, dtype=np.uint8)
        logits = rng.standard_normal(shape, dtype=np.float32)
        if data == "trained":
            logits += TRAINED_MARGIN * (2.0 * labels.astype(np.float32) - 1.0)
    return np.ascontiguousarray(logits), np.ascontiguousarray(labels)


# ---------------------------------------------------------------------------------------------
# The PyTorch reference loop


def lovasz_grad(gt_sorted):
    """Gradient of the Lovasz extension of the Jaccard loss at the sorted foreground
    (Berman et al., Alg. 1): J[i] = 1 - inter/union of the first i+1 pixels, then differences."""
    p = len(gt_sorted)
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.float().cumsum(0)
    union = gts + (1 - gt_sorted).float().cumsum(0)
    jaccard = 1.0 - intersection / union
    if p > 1:
        jaccard[1:p] = jaccard[1:p] - jaccard[0:-1]
    return jaccard


def lovasz_softmax_flat(probas, labels, classes):
    """probas [P, C], labels [P]: the mean over counted classes of the class losses."""
    import torch

    num_classes = probas.size(1)
    losses = []
    for c in range(num_classes):
        fg = (labels == c).float()
        if classes == "present" and fg.sum() == 0:
            continue
        errors = (fg - probas[:, c]).abs()
        errors_sorted, perm = torch.sort(errors, 0, descending=True)
        fg_sorted = fg[perm]
        losses.append(torch.dot(errors_sorted, lovasz_grad(fg_sorted)))
    if not losses:
        return probas.sum() * 0.0
    return sum(losses) / len(losses)


def lovasz_softmax(logits, labels, classes, per_image):
    """Softmax over axis 1 of logits [B, C, ...], then the Lovasz-Softmax loss."""
    import torch.nn.functional as F

    probas = F.softmax(logits, dim=1)
    num_classes = probas.size(1)

    def flat(p, y):
        dims = (0,) + tuple(range(2, p.dim())) + (1,)
        return p.permute(*dims).reshape(-1, num_classes), y.reshape(-1)

    if per_image:
        losses = [lovasz_softmax_flat(*flat(p.unsqueeze(0), y.unsqueeze(0)), classes) for p, y in zip(probas, labels)]
        return sum(losses) / len(losses)
    return lovasz_softmax_flat(*flat(probas, labels), classes)


def lovasz_hinge_flat(logits, labels):
    import torch
    import torch.nn.functional as F

    signs = 2.0 * labels.float() - 1.0
    errors = 1.0 - logits * signs
    errors_sorted, perm = torch.sort(errors, dim=0, descending=True)
    gt_sorted = labels[perm]
    return torch.dot(F.relu(errors_sorted), lovasz_grad(gt_sorted))


def lovasz_hinge(logits, labels, per_image):
    if per_image:
        losses = [lovasz_hinge_flat(x.reshape(-1), y.reshape(-1)) for x, y in zip(logits, labels)]
        return sum(losses) / len(losses)
    return lovasz_hinge_flat(logits.reshape(-1), labels.reshape(-1))


def time_calls(call, device, warmup, repeat, name, after_call=None):
    """Median and minimum seconds of `call()` (loss + backward) over `repeat` calls after `warmup`,
    and the last loss; `after_call(index)`, when given, runs after timed call `index` (untimed)."""
    import torch

    synchronize = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for index in range(warmup):
        note(f"{name} warm-up {index + 1}/{warmup}")
        call()
    samples = []
    value = None
    for index in range(repeat):
        synchronize()
        start = time.perf_counter()
        value = call()
        synchronize()
        samples.append(time.perf_counter() - start)
        note(f"{name} run {index + 1}/{repeat}: {samples[-1] * 1000:.1f} ms")
        if after_call:
            after_call(index)
    return statistics.median(samples), min(samples), float(value.detach().cpu().double())


def time_kornia(logits_np, labels_np, device, warmup, repeat):
    """kornia's vectorized `lovasz_softmax_loss` (per image, every class, no ignore index) + backward,
    or None when kornia is not importable or the labels hold an ignore value."""
    import torch

    try:
        from kornia.losses import lovasz_softmax_loss
    except ImportError as error:
        note(f"kornia is not importable ({error}): no kornia figure")
        return None
    if logits_np.ndim != 4 or int(labels_np.max()) >= logits_np.shape[1]:
        return None
    logits = torch.from_numpy(logits_np).to(device).requires_grad_(True)
    labels = torch.from_numpy(labels_np).to(device).long()

    def call():
        logits.grad = None
        loss = lovasz_softmax_loss(logits, labels)
        loss.backward()
        return loss

    import kornia

    median, minimum, value = time_calls(call, device, warmup, repeat, "kornia")
    return {"version": kornia.__version__, "medianMilliseconds": median * 1000, "minMilliseconds": minimum * 1000,
            "loss": value}


def time_pytorch(loss_kind, classes, per_image, logits_np, labels_np, device, warmup, repeat, after_call=None):
    """Median and minimum seconds of loss + backward over `repeat` calls after `warmup`
    (`after_call` as in `time_calls`)."""
    import torch

    logits = torch.from_numpy(logits_np).to(device).requires_grad_(True)
    labels = torch.from_numpy(labels_np).to(device).long()

    def call():
        logits.grad = None
        if loss_kind == "softmax":
            loss = lovasz_softmax(logits, labels, classes, per_image)
        else:
            loss = lovasz_hinge(logits, labels, per_image)
        loss.backward()
        return loss

    return time_calls(call, device, warmup, repeat, "PyTorch", after_call)


# ---------------------------------------------------------------------------------------------
# The Swift side


def build_lovasz():
    """`swift build -c release --product lovasz` at the repository root; returns the binary."""
    note("building lovasz: swift build -c release --product lovasz")
    subprocess.run(["swift", "build", "-c", "release", "--product", "lovasz"], cwd=REPOSITORY, check=True)
    bin_path = subprocess.run(
        ["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPOSITORY, check=True,
        capture_output=True, text=True).stdout.strip()
    return os.path.join(bin_path, "lovasz")


def lovasz_process_schedule(processes, repeat):
    """After which of the PyTorch loop's `repeat` timed calls (0-based) each lovasz process but
    the first (which runs before them) starts: process j, 1 ≤ j < `processes`, after call
    ⌊j·repeat / (processes − 1)⌋ counted from 1 (at least the first), so the last comes after the
    last call and the others spread evenly among them; both sides' calls then come from the
    same minutes of a shared host. An index appears once per process that follows that call."""
    spread = processes - 1
    return [max(0, j * repeat // spread - 1) for j in range(1, spread + 1)] if spread > 0 else []


def pooled(runs):
    """One `lovasz bench` result from the processes' results: the median and minimum over all
    their timed calls, each process's median beside them, the rest from the first process
    (the losses of all must be equal: the same inputs, a deterministic library)."""
    first = dict(runs[0])
    samples = [x for run in runs for x in run["samplesMilliseconds"]]
    losses = {run["loss"] for run in runs}
    if len(losses) != 1:
        fail(f"the lovasz processes gave different losses: {sorted(losses)}", 1)
    first["samplesMilliseconds"] = samples
    first["medianMilliseconds"] = statistics.median(samples)
    first["minMilliseconds"] = min(samples)
    first["processMedianMilliseconds"] = [run["medianMilliseconds"] for run in runs]
    return first


def run_lovasz(binary, scores, labels, loss_kind, classes, per_image, args):
    command = [binary, "bench", "--scores", scores, "--labels", labels, "--loss", loss_kind,
               "--repeat", str(args.repeat), "--warmup", str(args.warmup), "--backend", args.backend, "--json"]
    if loss_kind == "softmax":
        command += ["--classes", classes]
    command += ["--per-image"] if per_image else ["--no-per-image"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    note("running: " + " ".join(command))
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        fail(f"lovasz bench exited with status {completed.returncode}", 1)
    report = json.loads(completed.stdout)
    if not report.get("results"):
        fail("lovasz bench measured nothing: " + json.dumps(report.get("skipped")), 1)
    result = report["results"][0]
    result["machineProcessorModel"] = report.get("machine", {}).get("processorModel")
    return result


# ---------------------------------------------------------------------------------------------


def parse(argv):
    parser = argparse.ArgumentParser(
        description="Time the PyTorch Lovasz loop and `lovasz bench` on the same seeded inputs.")
    parser.add_argument("--install", action="store_true",
                        help="create the virtual environment and pip-install torch, numpy and kornia 0.9, then run")
    parser.add_argument("--install-only", action="store_true", help="install, then exit")
    parser.add_argument("--index-url", help="a pip index for torch, e.g. https://download.pytorch.org/whl/cpu")
    parser.add_argument("--venv", default=DEFAULT_VENV, help="the virtual environment (default: Benchmarks/.venv)")
    parser.add_argument("--workload", default="voc", choices=sorted(WORKLOADS), help="default: voc")
    parser.add_argument("--data", default="random", choices=["random", "trained"], help="default: random")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--repeat", type=int, default=5, help="timed calls on each side (default: 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls first (default: 1)")
    parser.add_argument("--threads", type=int, help="threads on both sides (default: every processor)")
    parser.add_argument("--device", default="cpu", help="the PyTorch device: cpu or cuda (default: cpu)")
    parser.add_argument("--backend", default="cpu", choices=["cpu", "opencl", "auto"],
                        help="the lovasz backend (default: cpu)")
    parser.add_argument("--lovasz", help="the lovasz binary (default: build it with swift build -c release)")
    parser.add_argument("--lovasz-processes", type=int, default=3, metavar="N",
                        help="lovasz bench processes, --repeat timed calls each: one before the PyTorch calls, the "
                             "others spread between and after them; the median is over all their calls (default: 3)")
    parser.add_argument("--keep-inputs", metavar="DIR", help="write the .npy inputs to DIR and keep them")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument("--peer", action="append", choices=["kornia"], default=[],
                        help="also time kornia's vectorized lovasz_softmax_loss (softmax workloads; its semantics are "
                             "per image, every class, no ignore index: compare like for like on voc-per-image-all)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be at least 1 and --warmup not negative")
    if args.lovasz_processes < 1:
        parser.error("--lovasz-processes must be at least 1")
    return args


def main():
    argv = sys.argv[1:]
    args = parse(argv)
    if args.install or args.install_only:
        install(args.venv, args.index_url)
        if args.install_only:
            return
        python = venv_python(args.venv)
        rest = [a for a in argv if a not in ("--install", "--install-only")]
        os.execv(python, [python, os.path.abspath(__file__)] + rest)
    ensure_torch(args, argv)

    import numpy as np
    import torch

    threads = args.threads or os.cpu_count()
    torch.set_num_threads(threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        fail("--device cuda: torch.cuda.is_available() is False")
    loss_kind, shape, classes, per_image = WORKLOADS[args.workload]
    load_before = os.getloadavg()

    binary = args.lovasz or build_lovasz()
    if not os.access(binary, os.X_OK):
        fail(f"the lovasz binary '{binary}' is not executable")

    note(f"generating {args.workload} {args.data} {list(shape)} (seed {args.seed})")
    logits, labels = make_inputs(loss_kind, shape, args.data, args.seed)
    folder = args.keep_inputs or tempfile.mkdtemp(prefix="lovasz-compare-")
    os.makedirs(folder, exist_ok=True)
    scores_path = os.path.join(folder, f"{args.workload}-{args.data}-scores.npy")
    labels_path = os.path.join(folder, f"{args.workload}-{args.data}-labels.npy")
    np.save(scores_path, logits)
    np.save(labels_path, labels)
    runs = []
    after = lovasz_process_schedule(args.lovasz_processes, args.repeat)

    def lovasz_process(index=None):
        for _ in range(1 if index is None else after.count(index)):
            runs.append(run_lovasz(binary, scores_path, labels_path, loss_kind, classes, per_image, args))

    try:
        lovasz_process()
        torch_median, torch_min, torch_loss = time_pytorch(
            loss_kind, classes, per_image, logits, labels, args.device, args.warmup, args.repeat,
            after_call=lovasz_process if args.lovasz_processes > 1 else None)
    finally:
        if not args.keep_inputs:
            shutil.rmtree(folder, ignore_errors=True)
    swift = pooled(runs)
    kornia = None
    if "kornia" in args.peer and loss_kind == "softmax":
        kornia = time_kornia(logits, labels, args.device, args.warmup, args.repeat)
    load_after = os.getloadavg()

    swift_median = swift["medianMilliseconds"] / 1000
    relative = abs(swift["loss"] - torch_loss) / max(abs(torch_loss), 1e-30)
    agree = relative <= RELATIVE_TOLERANCE
    ratio = torch_median / swift_median
    summary = {
        "workload": args.workload, "data": args.data, "shape": list(shape), "seed": args.seed,
        "processors": os.cpu_count(), "processorModel": swift.get("machineProcessorModel"), "threads": threads,
        "loadAverageBefore": list(load_before), "loadAverageAfter": list(load_after),
        "pytorch": {"version": torch.__version__, "device": args.device, "medianMilliseconds": torch_median * 1000,
                    "minMilliseconds": torch_min * 1000, "loss": torch_loss},
        "lovasz": {"backend": swift["backend"], "device": swift["device"],
                   "medianMilliseconds": swift["medianMilliseconds"], "minMilliseconds": swift["minMilliseconds"],
                   "processMedianMilliseconds": swift["processMedianMilliseconds"],
                   "loss": swift["loss"], "peakRSSMiB": swift.get("peakRSSMiB"),
                   "zeroCopyMedianMilliseconds": swift.get("zeroCopyMedianMilliseconds"),
                   "phases": swift.get("phases")},
        "lossRelativeDifference": relative, "lossesAgree": agree, "speedup": ratio,
        "warmup": args.warmup, "repeat": args.repeat, "lovaszProcesses": args.lovasz_processes,
    }
    if kornia is not None:
        kornia["sameSemantics"] = classes == "all" and per_image
        kornia["speedup"] = kornia["medianMilliseconds"] / swift["medianMilliseconds"]
        summary["kornia"] = kornia
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print(f"workload {args.workload} ({loss_kind}, {list(shape)}, "
              f"{'per image' if per_image else 'per batch'}), data {args.data}, seed {args.seed}; "
              f"{args.warmup} warm-up + {args.repeat} timed calls each"
              + (f" (lovasz: in each of {args.lovasz_processes} processes, spread over the PyTorch calls)"
                 if args.lovasz_processes > 1 else ""))
        model = f" ({swift['machineProcessorModel']})" if swift.get("machineProcessorModel") else ""
        print(f"machine: {os.cpu_count()} processors{model}, {threads} threads; load average "
              f"{' '.join(f'{x:.2f}' for x in load_before)} before, {' '.join(f'{x:.2f}' for x in load_after)} after")
        print(f"PyTorch {torch.__version__} ({args.device}): median {torch_median * 1000:10.1f} ms, "
              f"min {torch_min * 1000:10.1f} ms, loss {torch_loss:.8f}")
        print(f"lovasz {swift['backend']} ({swift['device']}): median {swift['medianMilliseconds']:10.1f} ms, "
              f"min {swift['minMilliseconds']:10.1f} ms, loss {swift['loss']:.8f}, "
              f"peak RSS {swift.get('peakRSSMiB') or 0:.0f} MiB")
        if len(swift["processMedianMilliseconds"]) > 1:
            print("lovasz medians of its processes (first before the PyTorch calls): "
                  + ", ".join(f"{x:.1f}" for x in swift["processMedianMilliseconds"]) + " ms")
        zero_copy = swift.get("zeroCopyMedianMilliseconds")
        if zero_copy is not None:
            print(f"lovasz {swift['backend']} zero-copy (scores, labels and gradient in device buffers): "
                  f"median {zero_copy:10.2f} ms; speed-up {torch_median * 1000 / zero_copy:.1f}x"
                  + (f", over kornia {kornia['medianMilliseconds'] / zero_copy:.1f}x" if kornia else ""))
        print(f"loss relative difference {relative:.2e} (limit {RELATIVE_TOLERANCE:.0e}): "
              f"{'agree' if agree else 'DISAGREE'}")
        print(f"speed-up (PyTorch median / lovasz median): {ratio:.1f}x")
        if kornia is not None:
            same = "same semantics" if kornia["sameSemantics"] else "per image, all classes: not this workload's semantics"
            print(f"kornia {kornia['version']} lovasz_softmax_loss ({args.device}, {same}): median "
                  f"{kornia['medianMilliseconds']:10.1f} ms, loss {kornia['loss']:.8f}; "
                  f"speed-up over kornia {kornia['speedup']:.1f}x")
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
