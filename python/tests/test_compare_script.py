"""The bookkeeping of Benchmarks/compare_pytorch.py that decides its lovasz figure: when its
lovasz processes run among the PyTorch loop's calls, and how their results are pooled (the
script itself needs torch and the release binary, and is not run here)."""
import importlib.util
import statistics
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "Benchmarks" / "compare_pytorch.py"


@pytest.fixture(scope="module")
def compare():
    spec = importlib.util.spec_from_file_location("compare_pytorch", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("processes, repeat", [(1, 5), (2, 5), (3, 5), (3, 7), (3, 1), (5, 5), (4, 2), (6, 3)])
def test_schedule_spreads_the_processes_over_the_calls(compare, processes, repeat):
    after = compare.lovasz_process_schedule(processes, repeat)
    # One process before the calls, the others after calls: as many as asked for in all.
    assert len(after) == processes - 1
    assert all(0 <= index < repeat for index in after)
    assert after == sorted(after)
    if processes > 1:
        # The last comes after the last call; the gaps between them are as even as integers allow.
        assert after[-1] == repeat - 1
        calls_before = [index + 1 for index in after]
        gaps = [b - a for a, b in zip([0] + calls_before, calls_before)]
        assert max(gaps) - min(gaps) <= 1 or repeat < processes - 1


def test_schedule_examples(compare):
    assert compare.lovasz_process_schedule(3, 5) == [1, 4]
    assert compare.lovasz_process_schedule(2, 5) == [4]
    assert compare.lovasz_process_schedule(3, 1) == [0, 0]


def run(median, samples, loss=0.25):
    return {"medianMilliseconds": median, "minMilliseconds": min(samples), "samplesMilliseconds": samples,
            "loss": loss, "backend": "cpu", "device": "CPU"}


def test_pooled_takes_the_median_over_every_call(compare):
    runs = [run(10.0, [9.0, 10.0, 11.0]), run(30.0, [29.0, 30.0, 31.0]), run(12.0, [12.0, 12.5, 13.0])]
    result = compare.pooled(runs)
    every = [x for r in runs for x in r["samplesMilliseconds"]]
    assert result["medianMilliseconds"] == statistics.median(every)
    assert result["minMilliseconds"] == 9.0
    assert result["samplesMilliseconds"] == every
    assert result["processMedianMilliseconds"] == [10.0, 30.0, 12.0]
    assert result["loss"] == 0.25 and result["backend"] == "cpu"
    # One process: its own figures.
    single = compare.pooled([run(10.0, [9.0, 10.0, 11.0])])
    assert single["medianMilliseconds"] == 10.0 and single["processMedianMilliseconds"] == [10.0]


def test_pooled_refuses_processes_whose_losses_differ(compare):
    with pytest.raises(SystemExit):
        compare.pooled([run(10.0, [10.0]), run(10.0, [10.0], loss=0.5)])
