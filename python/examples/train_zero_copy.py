#!/usr/bin/env python3
"""Trains a per-pixel classifier whose logits never leave the OpenCL device.

A 3x3 convolution (3 input channels -> 3 classes, written as pyopencl kernels) segments
synthetic images: a noisy background (class 0), bright discs (class 1) and dark squares
(class 2), with a 2-pixel ignored border (255). Every step runs the convolution, the
Lovász-Softmax loss and its gradient (swift-lovasz, zero-copy on the same queue), the
back-propagation into the weights and an Adam update on the device; only the loss and a
3x3 confusion matrix (for the mIoU) come back to the host.

    pip install pyopencl ./python
    python python/examples/train_zero_copy.py                 # any OpenCL device (PoCL too)
    python python/examples/train_zero_copy.py --size 256 --batch 16 --steps 200   # a GPU

`--check` exits with status 1 unless the mean IoU rose.
"""

import argparse
import sys
import time

import numpy as np
import pyopencl as cl
import pyopencl.array as cla

import lovasz

CLASSES, CHANNELS, IGNORE = 3, 3, 255

KERNELS = r"""
// logits[b, o, y, x] = bias[o] + sum_{i, dy, dx} w[o, i, dy, dx] * image[b, i, y + dy - 1, x + dx - 1]
__kernel void conv3x3(__global const float *image, __global const float *w, __global const float *bias,
                      __global float *logits, int cin, int cout, int h, int wd) {
    int x = get_global_id(0), y = get_global_id(1), bo = get_global_id(2);
    int b = bo / cout, o = bo % cout;
    float sum = bias[o];
    for (int i = 0; i < cin; ++i)
        for (int dy = 0; dy < 3; ++dy)
            for (int dx = 0; dx < 3; ++dx) {
                int yy = y + dy - 1, xx = x + dx - 1;
                if (yy >= 0 && yy < h && xx >= 0 && xx < wd)
                    sum += w[((o * cin + i) * 3 + dy) * 3 + dx] * image[((b * cin + i) * h + yy) * wd + xx];
            }
    logits[((b * cout + o) * h + y) * wd + x] = sum;
}

// The gradient of every weight (the last `cout` entries: the biases), one work-item each.
__kernel void conv3x3_backward(__global const float *image, __global const float *grad, __global float *dw,
                               int batch, int cin, int cout, int h, int wd) {
    int k = get_global_id(0);
    int weights = cout * cin * 9;
    if (k >= weights + cout) return;
    float sum = 0.0f;
    if (k >= weights) {
        int o = k - weights;
        for (int b = 0; b < batch; ++b)
            for (int p = 0; p < h * wd; ++p) sum += grad[(b * cout + o) * h * wd + p];
    } else {
        int o = k / (cin * 9), i = (k / 9) % cin, dy = (k / 3) % 3, dx = k % 3;
        for (int b = 0; b < batch; ++b)
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < wd; ++x) {
                    int yy = y + dy - 1, xx = x + dx - 1;
                    if (yy >= 0 && yy < h && xx >= 0 && xx < wd)
                        sum += grad[((b * cout + o) * h + y) * wd + x] * image[((b * cin + i) * h + yy) * wd + xx];
                }
    }
    dw[k] = sum;
}

// Adam on every parameter.
__kernel void adam(__global float *p, __global const float *g, __global float *m, __global float *v,
                   float lr, float c1, float c2) {
    int k = get_global_id(0);
    m[k] = 0.9f * m[k] + 0.1f * g[k];
    v[k] = 0.999f * v[k] + 0.001f * g[k] * g[k];
    p[k] -= lr * (m[k] / c1) / (sqrt(v[k] / c2) + 1e-8f);
}

// confusion[true * classes + predicted] over the non-ignored pixels (integer atomics: exact).
__kernel void confusion(__global const float *logits, __global const uchar *labels, __global int *counts,
                        int classes, int pixels) {
    int p = get_global_id(0);
    int b = p / pixels, s = p % pixels;
    int label = labels[p];
    if (label >= classes) return;
    int best = 0;
    float top = logits[(b * classes) * pixels + s];
    for (int c = 1; c < classes; ++c) {
        float v = logits[(b * classes + c) * pixels + s];
        if (v > top) { top = v; best = c; }
    }
    atomic_inc(&counts[label * classes + best]);
}
"""


def synthetic_batch(count, size, rng):
    """Images [count, 3, size, size] (float32) and labels [count, size, size] (uint8)."""
    images = rng.normal(0.0, 0.35, size=(count, CHANNELS, size, size)).astype(np.float32)
    labels = np.zeros((count, size, size), np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    for n in range(count):
        for _ in range(2):
            r = rng.integers(size // 8, size // 4 + 1)
            cy, cx = rng.integers(r, size - r, size=2)
            labels[n][(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
            s = rng.integers(size // 8, size // 4 + 1)
            y0, x0 = rng.integers(0, size - s, size=2)
            labels[n, y0:y0 + s, x0:x0 + s] = 2
    images[:, 0][labels == 1] += 1.0
    images[:, 0][labels == 2] -= 1.0
    labels[:, :2, :] = labels[:, -2:, :] = labels[:, :, :2] = labels[:, :, -2:] = IGNORE
    return images, labels


def mean_iou(confusion):
    ious = []
    for c in range(CLASSES):
        union = confusion[c, :].sum() + confusion[:, c].sum() - confusion[c, c]
        if union > 0:
            ious.append(confusion[c, c] / union)
    return float(np.mean(ious)) if ious else 0.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=48, help="image side in pixels (default 48)")
    parser.add_argument("--batch", type=int, default=4, help="images per step (default 4)")
    parser.add_argument("--steps", type=int, default=60, help="training steps (default 60)")
    parser.add_argument("--lr", type=float, default=0.05, help="Adam learning rate (default 0.05)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="exit 1 unless the mean IoU rose")
    args = parser.parse_args(argv)

    context = cl.create_some_context(interactive=False)
    queue = cl.CommandQueue(context)
    program = cl.Program(context, KERNELS).build()
    engine = lovasz.QueueEngine(queue)
    print(f"device: {queue.device.name}; images {args.batch}x{CHANNELS}x{args.size}x{args.size}")

    rng = np.random.default_rng(args.seed)
    count = CLASSES * CHANNELS * 9 + CLASSES
    params = cla.to_device(queue, (rng.normal(0, 0.1, count)).astype(np.float32))
    grads = cla.zeros(queue, count, np.float32)
    m, v = cla.zeros(queue, count, np.float32), cla.zeros(queue, count, np.float32)
    size, batch = args.size, args.batch
    logits = cla.empty(queue, (batch, CLASSES, size, size), np.float32)
    counts = cla.zeros(queue, CLASSES * CLASSES, np.int32)

    first = last = None
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        images, labels = synthetic_batch(batch, size, rng)
        images_cl, labels_cl = cla.to_device(queue, images), cla.to_device(queue, labels)
        _conv(program, queue, images_cl, params, logits, size, batch)
        loss, grad = engine.softmax(logits, labels_cl, ignore_index=IGNORE)  # zero-copy: grad stays on the device
        program.conv3x3_backward(queue, (count,), None, images_cl.data, grad.data, grads.data, np.int32(batch),
                                 np.int32(CHANNELS), np.int32(CLASSES), np.int32(size), np.int32(size))
        program.adam(queue, (count,), None, params.data, grads.data, m.data, v.data, np.float32(args.lr),
                     np.float32(1 - 0.9 ** step), np.float32(1 - 0.999 ** step))
        counts.fill(0)
        program.confusion(queue, (batch * size * size,), None, logits.data, labels_cl.data, counts.data,
                          np.int32(CLASSES), np.int32(size * size))
        miou = mean_iou(counts.get().reshape(CLASSES, CLASSES))
        first = miou if first is None else first
        last = miou
        print(f"step {step:4d}  loss {loss:.4f}  mIoU {miou:.3f}")
    queue.finish()
    print(f"{args.steps} steps in {time.perf_counter() - start:.2f} s; mIoU {first:.3f} -> {last:.3f}")
    if args.check and not last > first:
        print("check failed: the mean IoU did not rise", file=sys.stderr)
        return 1
    return 0


def _conv(program, queue, images, params, logits, size, batch):
    """The forward convolution; weights and biases are the two ends of one parameter buffer."""
    count = params.size
    weights_cl = params[:count - CLASSES]
    bias_cl = params[count - CLASSES:]
    # The bias is read through a copy of its few floats (kernels take whole buffers).
    program.conv3x3(queue, (size, size, batch * CLASSES), None, images.data, weights_cl.base_data,
                    bias_cl.copy().data, logits.data, np.int32(CHANNELS), np.int32(CLASSES), np.int32(size),
                    np.int32(size))


if __name__ == "__main__":
    sys.exit(main())
