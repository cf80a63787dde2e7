#!/usr/bin/env python3
"""Measure the CPU path against its speed goals, every figure from one run.

    python3 Benchmarks/compare_pytorch.py --install-only     # once: torch in Benchmarks/.venv
    python3 Benchmarks/cpu_goals.py                          # builds lovasz (release) first
    python3 Benchmarks/cpu_goals.py --lovasz .build/release/lovasz --baseline /path/to/older/lovasz

The goals, on the 2-core benchmark machine, same run:
  - VOC 8x21x321x321 per batch (compare_pytorch.py: lovasz in three processes among the PyTorch
    loop's calls, the median over all their calls): >= 25x the PyTorch loop on confident
    ("trained") logits, >= 50x on random logits;
  - the hinge per batch (8x321x321) on 2 threads >= 1.7x faster than on 1 thread (medians of
    alternating processes), on random and on trained logits;
  - a small call, 2x3x200x200 confident logits (int64 labels, per batch): <= 2 ms median;
  - peak memory <= 3x (scores + gradient) (`lovasz bench --memory`).

Medians of one process move by 25-40% with the host's memory bandwidth (neighbours on a VM),
so every part runs in alternating processes, and the host's copy bandwidth and the share of
processor time stolen by the hypervisor (/proc/stat) are printed beside them. Before each hinge
pair and each VOC comparison two CPU-bound processes are timed against one (about 2 when both
virtual processors run at once, near 1 when the host gives them one between them). The hinge's 1 / 2 thread ratio is also
printed as measured inside one process (`lovasz bench --alternate-threads 1,2`: turns of calls
alternating, both sides in the same memory and minute), beside the goal. With --baseline, an
older binary's small call alternates with this one's as a yardstick of the minute. Needs numpy
(for the small call's inputs) and, for the PyTorch comparison,
Benchmarks/.venv with torch (compare_pytorch.py --install-only).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def note(message):
    print(message, file=sys.stderr, flush=True)


def run(command, processor=None):
    """The standard output of `command` (on one processor when given); exits with its error
    output when it fails."""
    pin = (lambda: os.sched_setaffinity(0, {processor})) if processor is not None else None
    try:
        result = subprocess.run(command, capture_output=True, text=True, preexec_fn=pin)
    except OSError as error:
        sys.exit(f"cannot run {command[0]}: {error}")
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (status {result.returncode}):\n{result.stderr.strip()}")
    return result.stdout


def bench(binary, arguments, processor=None):
    """One `lovasz bench ... --json` process: its single result."""
    return json.loads(run([binary, "bench", "--backend", "cpu", "--json"] + arguments, processor))["results"][0]


def small_inputs(directory):
    """2x3x200x200 logits ~ N(0,1) plus 4 on the true class, uniform int64 labels (seed 2018)."""
    import numpy as np
    rng = np.random.default_rng(2018)
    labels = rng.integers(0, 3, size=(2, 200, 200), dtype=np.int64)
    logits = rng.standard_normal((2, 3, 200, 200), dtype=np.float32)
    logits += 4 * (labels[:, None, :, :] == np.arange(3)[None, :, None, None])
    scores, targets = os.path.join(directory, "scores.npy"), os.path.join(directory, "labels.npy")
    np.save(scores, logits)
    np.save(targets, labels)
    return scores, targets


def machine():
    """The processor as `lovasz bench --json` names it (model name, family and model numbers),
    with the caches `getconf` reports: every figure names its machine."""
    model = "unknown processor"
    try:
        with open("/proc/cpuinfo") as info:
            fields = {}
            for line in info:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), " ".join(value.split()))
        if fields.get("model name"):
            model = fields["model name"]
            if fields.get("cpu family") and fields.get("model"):
                model += f", family {fields['cpu family']} model {fields['model']}"
    except OSError:
        pass
    caches = []
    for name, label in (("LEVEL2_CACHE_SIZE", "L2"), ("LEVEL3_CACHE_SIZE", "L3")):
        try:
            size = int(subprocess.run(["getconf", name], capture_output=True, text=True).stdout.strip() or 0)
        except (OSError, ValueError):
            size = 0
        if size > 0:
            caches.append(f"{label} {size // 1024} KiB" if size < 1 << 20 else f"{label} {size >> 20} MiB")
    return model + (f" ({', '.join(caches)})" if caches else "")


def _spin(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def compute_scaling(n=1_500_000):
    """Two CPU-bound processes (a Python loop, no memory traffic) against one: about 2 when both
    virtual processors run at once, near 1 when the host gives them one processor between them
    (then no thread count helps, whatever the code)."""
    import multiprocessing
    context = multiprocessing.get_context("fork")
    start = time.perf_counter()
    _spin(n)
    one = time.perf_counter() - start
    workers = [context.Process(target=_spin, args=(n,)) for _ in range(2)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    two = time.perf_counter() - start
    return round(2 * one / two, 2)


def cpu_times():
    """(steal, total) jiffies of all processors from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal [guest guest_nice, counted in user]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def steal_since(before):
    """Percent of the processors' time the hypervisor gave to others since `before`."""
    after = cpu_times()
    if before is None or after is None or after[1] == before[1]:
        return None
    return 100.0 * (after[0] - before[0]) / (after[1] - before[1])


def copy_bandwidth():
    """GB/s read + write of numpy.copyto over 256 MiB (the host's bandwidth of the minute)."""
    import numpy as np
    a = np.ones(32 << 20, dtype=np.float64)
    b = np.empty_like(a)
    np.copyto(b, a)
    start = time.perf_counter()
    for _ in range(5):
        np.copyto(b, a)
    return 2 * a.nbytes * 5 / (time.perf_counter() - start) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lovasz", help="the lovasz binary (default: build it with swift build -c release)")
    parser.add_argument("--baseline", help="an older lovasz binary whose small call alternates with this one's")
    parser.add_argument("--processes", type=int, default=4, help="alternating processes per measurement (default: 4)")
    parser.add_argument("--skip-pytorch", action="store_true", help="leave out the PyTorch comparison")
    args = parser.parse_args()
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    binary = args.lovasz
    if binary is None:
        note("building lovasz (swift build -c release --product lovasz)")
        if subprocess.run(["swift", "build", "-c", "release", "--product", "lovasz"], cwd=ROOT).returncode != 0:
            sys.exit("swift build -c release --product lovasz failed")
        binary = os.path.join(ROOT, ".build", "release", "lovasz")
    binary = os.path.abspath(binary)
    report = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "processors": os.cpu_count(), "machine": machine()}

    steal = {}
    before = cpu_times()
    with tempfile.TemporaryDirectory(prefix="lovasz-goals-") as directory:
        scores, labels = small_inputs(directory)
        small, base = [], []
        for index in range(args.processes):
            note(f"small call, process {index + 1}/{args.processes}")
            if args.baseline:
                base.append(bench(args.baseline, ["--scores", scores, "--labels", labels, "--repeat", "300"])["medianMilliseconds"])
            small.append(bench(binary, ["--scores", scores, "--labels", labels, "--repeat", "300"])["medianMilliseconds"])
    steal["small call"] = steal_since(before)
    report["small call ms (medians per process)"] = small
    if base:
        report["baseline small call ms"] = base

    # The hinge per batch on both data models: random logits sort one segment of about 690 K
    # keys, trained ones (errors mostly negative, where the hinge's sort stops) about 1 100.
    hinge_ms = {}
    probes = []
    before = cpu_times()
    # (1000 calls of the trained one: its calls of about half a millisecond speed up over the
    # first few hundred of a process.)
    for data, repeat in (("random", "40"), ("trained", "1000")):
        one, two = [], []
        for index in range(args.processes):
            note(f"hinge per batch, {data}, process pair {index + 1}/{args.processes}")
            probes.append(compute_scaling())
            for threads, into in ((1, one), (2, two)):
                result = bench(binary, ["--workload", "hinge-per-batch", "--data", data, "--threads", str(threads), "--repeat", repeat])
                into.append(result["medianMilliseconds"])
        hinge_ms[data] = (one, two)
        report[f"hinge {data} 1 thread ms"] = one
        report[f"hinge {data} 2 threads ms"] = two
    # The same ratio inside one process (`--alternate-threads 1,2`: turns of ten calls of each
    # thread count alternating, the median of the turn pairs' ratios): both sides share the
    # process's memory and the minute, so it shows the code's scaling apart from the host's
    # process-to-process and minute-to-minute moves. Reported beside the goal, which stays on
    # the alternating processes above.
    for data, repeat in (("random", "60"), ("trained", "1000")):
        ratios = []
        for index in range(args.processes):
            note(f"hinge per batch, {data}, 1 and 2 threads alternating in one process {index + 1}/{args.processes}")
            rows = json.loads(run([binary, "bench", "--backend", "cpu", "--json", "--workload", "hinge-per-batch",
                                   "--data", data, "--alternate-threads", "1,2", "--repeat", repeat]))["results"]
            ratios.append(rows[0]["alternation"]["medianTurnRatio"])
        report[f"hinge {data} 1 / 2 threads in one process, turns alternating (per process)"] = ratios
    steal["hinge"] = steal_since(before)
    report["2 / 1 process compute scaling before each hinge pair (random, then trained)"] = probes
    # Each processor's speed on its own: the virtual processors of this host slow down apart
    # from each other (neighbours), and a second thread helps only as much as the slower one.
    processors = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(processors) >= 2:
        pinned = {cpu: [] for cpu in processors}
        for _ in range(2):
            for cpu in processors:
                note(f"hinge per batch, random, 1 thread on processor {cpu}")
                pinned[cpu].append(bench(
                    binary, ["--workload", "hinge-per-batch", "--data", "random", "--threads", "1", "--repeat", "20"],
                    processor=cpu)["medianMilliseconds"])
        report["hinge random 1 thread ms per processor (" + ", ".join(f"cpu{c}" for c in processors) + ")"] = [
            statistics.median(pinned[cpu]) for cpu in processors]

    speedups = {"trained": [], "random": []}
    milliseconds = {"trained": [], "random": []}
    processes = {"trained": [], "random": []}
    voc_probes = []
    if not args.skip_pytorch:
        before = cpu_times()
        for _ in range(2):
            for data in ("trained", "random"):
                note(f"compare_pytorch.py, VOC {data}")
                voc_probes.append(compute_scaling())
                result = json.loads(run(
                    [sys.executable, os.path.join(ROOT, "Benchmarks", "compare_pytorch.py"), "--workload", "voc",
                     "--data", data, "--repeat", "5", "--lovasz", binary, "--json"]))
                if not result["lossesAgree"]:
                    sys.exit(f"the losses disagree on VOC {data}: {result['lossRelativeDifference']}")
                speedups[data].append(result["pytorch"]["medianMilliseconds"] / result["lovasz"]["medianMilliseconds"])
                milliseconds[data].append(
                    f'{result["pytorch"]["medianMilliseconds"]:.0f} / {result["lovasz"]["medianMilliseconds"]:.1f}')
                processes[data].append(" / ".join(f"{x:.1f}" for x in result["lovasz"]["processMedianMilliseconds"]))
        steal["PyTorch comparison"] = steal_since(before)
        report["VOC speed-up, trained"] = speedups["trained"]
        report["VOC speed-up, random"] = speedups["random"]
        report["VOC ms (PyTorch / lovasz), trained"] = milliseconds["trained"]
        report["VOC ms (PyTorch / lovasz), random"] = milliseconds["random"]
        report["VOC lovasz ms, its processes' medians, trained"] = processes["trained"]
        report["VOC lovasz ms, its processes' medians, random"] = processes["random"]
        report["2 / 1 process compute scaling before each VOC comparison (trained, random, trained, random)"] = voc_probes

    note("peak memory (lovasz bench --memory)")
    memory = subprocess.run([binary, "bench", "--backend", "cpu", "--memory", "--json"], capture_output=True, text=True)
    if memory.returncode not in (0, 1):  # 1: over the budget, reported below
        sys.exit(f"lovasz bench --memory failed (status {memory.returncode}):\n{memory.stderr.strip()}")
    ratios = [r["peakOverScoresAndGradient"] for r in json.loads(memory.stdout)["results"]]
    report["peak / (scores + gradient)"] = ratios
    report["copy GB/s read + write"] = copy_bandwidth()
    if all(value is not None for value in steal.values()):
        report[f"steal % ({', '.join(steal)})"] = list(steal.values())
    report["finished"] = time.strftime("%H:%M:%S")

    for key, value in report.items():
        shown = ", ".join(v if isinstance(v, str) else f"{v:.2f}" for v in value) if isinstance(value, list) else (
            f"{value:.1f}" if isinstance(value, float) else value)
        print(f"{key}: {shown}")
    hinge = {data: statistics.median(one) / statistics.median(two) for data, (one, two) in hinge_ms.items()}
    # (name, value, bound, whether the value must be at least the bound rather than at most)
    goals = [
        ("small call median <= 2 ms", statistics.median(small), 2.0, False),
        ("hinge random 1 / 2 threads >= 1.7x (medians)", hinge["random"], 1.7, True),
        ("hinge trained 1 / 2 threads >= 1.7x (medians)", hinge["trained"], 1.7, True),
        ("peak memory <= 3x", max(ratios), 3.0, False),
    ]
    if not args.skip_pytorch:
        goals += [
            ("VOC trained >= 25x (each run)", min(speedups["trained"]), 25.0, True),
            ("VOC random >= 50x (each run)", min(speedups["random"]), 50.0, True),
        ]
    goals = [(name, value, value >= bound if at_least else value <= bound, bound) for name, value, bound, at_least in goals]
    for name, value, met, bound in goals:
        # Three decimals where two would read as the other side of the bound (1.698 is a miss).
        shown = f"{value:.2f}"
        if (float(shown) >= bound) != (value >= bound) or (float(shown) <= bound) != (value <= bound):
            shown = f"{value:.3f}"
        print(f"{'met    ' if met else 'MISSED '} {name}: {shown}")
    return 0 if all(met for _, _, met, _ in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
