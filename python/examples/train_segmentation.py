#!/usr/bin/env python3
"""Trains a small segmentation network with the Lovász-Softmax loss on synthetic images.

Each image holds a noisy background (class 0), discs (class 1) and squares (class 2) of random
size, position and colour (discs brighter, squares darker in the first channel); a 2-pixel border is labelled 255 and ignored. A four-layer fully
convolutional network learns to segment them, on the CPU, in well under a minute:

    pip install ./python torch            # from the swift-lovasz repository
    python python/examples/train_segmentation.py
    python python/examples/train_segmentation.py --backend opencl --steps 300

The loss and its gradient come from swift-lovasz (through OpenCL on a GPU when one is usable);
everything else is plain PyTorch. `--check` exits with status 1 unless the mean IoU rose.
"""

import argparse
import sys
import time

import torch
from torch import nn

import lovasz

CLASSES = 3
IGNORE = 255


def synthetic_batch(count: int, size: int, generator: torch.Generator):
    """Images [count, 3, size, size] and labels [count, size, size] (0 background, 1 disc,
    2 square, 255 on the ignored border)."""
    images = 0.3 * torch.randn(count, 3, size, size, generator=generator)
    labels = torch.zeros(count, size, size, dtype=torch.int64)
    rows = torch.arange(size).view(size, 1).float()
    cols = torch.arange(size).view(1, size).float()
    for i in range(count):
        for _ in range(int(torch.randint(1, 4, (1,), generator=generator))):
            shape = int(torch.randint(1, CLASSES, (1,), generator=generator))
            radius = float(torch.randint(size // 10, size // 4, (1,), generator=generator))
            r, c = (float(v) for v in torch.randint(0, size, (2,), generator=generator))
            if shape == 1:
                mask = (rows - r) ** 2 + (cols - c) ** 2 <= radius**2
            else:
                mask = ((rows - r).abs() <= radius) & ((cols - c).abs() <= radius)
            # Random colours, but the first channel is bright on discs and dark on squares.
            sign = torch.randint(0, 2, (3, 1, 1), generator=generator) * 2 - 1
            sign[0] = 1 if shape == 1 else -1
            colour = sign * (0.6 + 0.8 * torch.rand(3, 1, 1, generator=generator))
            images[i] = torch.where(mask, images[i] + colour, images[i])
            labels[i][mask] = shape
    labels[:, :2, :] = labels[:, -2:, :] = labels[:, :, :2] = labels[:, :, -2:] = IGNORE
    return images, labels


def model() -> nn.Module:
    def block(inputs, outputs, dilation):
        return nn.Sequential(
            nn.Conv2d(inputs, outputs, 3, padding=dilation, dilation=dilation),
            nn.BatchNorm2d(outputs),
            nn.ReLU(inplace=True),
        )

    return nn.Sequential(block(3, 24, 1), block(24, 24, 2), block(24, 24, 4), nn.Conv2d(24, CLASSES, 1))


def mean_iou(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The Jaccard index averaged over the classes present in labels or prediction."""
    predicted = logits.argmax(dim=1)
    valid = labels != IGNORE
    ious = []
    for c in range(CLASSES):
        truth, guess = (labels == c) & valid, (predicted == c) & valid
        union = (truth | guess).sum().item()
        if union:
            ious.append((truth & guess).sum().item() / union)
    return sum(ious) / len(ious)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=150, help="training steps (default 150)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per step (default 8)")
    parser.add_argument("--size", type=int, default=32, help="image side in pixels (default 32)")
    parser.add_argument("--backend", choices=["auto", "cpu", "opencl"], default="auto",
                        help="where the loss is computed (default auto: a GPU through OpenCL if usable)")
    parser.add_argument("--per-image", action="store_true", help="average the loss per image")
    parser.add_argument("--threads", type=int, help="PyTorch CPU threads (default: PyTorch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="exit 1 unless the mean IoU rose by 0.2")
    arguments = parser.parse_args()

    torch.manual_seed(arguments.seed)
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    generator = torch.Generator().manual_seed(arguments.seed)
    engine = lovasz.Engine(arguments.backend)
    print(f"loss on {engine.backend}: {engine.device}")
    if engine.fallback_reason:
        print(f"  ({engine.fallback_reason})")

    network = model()
    criterion = lovasz.LovaszSoftmax(ignore_index=IGNORE, per_image=arguments.per_image, engine=engine)
    optimizer = torch.optim.Adam(network.parameters(), lr=0.01)
    test_images, test_labels = synthetic_batch(32, arguments.size, generator)

    def evaluate() -> float:
        network.eval()
        with torch.no_grad():
            score = mean_iou(network(test_images), test_labels)
        network.train()
        return score

    before = evaluate()
    print(f"step    0  mIoU {before:.3f}")
    start = time.perf_counter()
    for step in range(1, arguments.steps + 1):
        images, labels = synthetic_batch(arguments.batch_size, arguments.size, generator)
        optimizer.zero_grad()
        loss = criterion(network(images), labels)
        loss.backward()
        optimizer.step()
        if step % 25 == 0 or step == arguments.steps:
            print(f"step {step:4d}  loss {loss.item():.4f}  mIoU {evaluate():.3f}")
    after = evaluate()
    print(f"mIoU {before:.3f} -> {after:.3f} in {time.perf_counter() - start:.1f} s")
    if arguments.check and after < before + 0.2:
        print("the mean IoU did not rise by 0.2", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
