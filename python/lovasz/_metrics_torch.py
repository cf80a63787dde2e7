"""Summing confusion matrices across the processes of a ``torch.distributed`` run."""

from __future__ import annotations

import torch

from ._metrics import ConfusionMatrix


def all_reduce_confusion_matrix(matrix: ConfusionMatrix, group=None, device=None) -> ConfusionMatrix:
    """Sums ``matrix.counts`` over every process of ``group`` in place (``all_reduce`` with
    ``SUM`` on int64 counts: exact, independent of the order) and returns the matrix, which then
    holds the whole dataset's counts on every process.

    Args:
        device: where the counts travel: ``"cpu"`` for gloo (default), the process's CUDA device
            for NCCL.
    """
    counts = torch.from_numpy(matrix.counts.copy()).to(device or "cpu")
    torch.distributed.all_reduce(counts, op=torch.distributed.ReduceOp.SUM, group=group)
    matrix.counts[...] = counts.cpu().numpy()
    return matrix
