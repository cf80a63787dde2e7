// First pass over the scores: validation (the first NaN or infinity) and, from logits, the
// probabilities (softmax over the class axis or the elementwise sigmoid). The errors and their
// sort keys are made from these values in lovasz_keys.cl.

// status[0] receives the smallest flat index of a NaN or infinite score (tested on the bits)
// among the scores first .. first + count - 1.
__kernel void find_nonfinite(__global const uint *score_bits, uint first, uint count,
                             __global volatile uint *status) {
    uint i = first + get_global_id(0);
    if (i >= first + count) return;
    if ((score_bits[i] & 0x7F800000u) == 0x7F800000u) atomic_min(&status[0], i);
}

// status[0] receives the smallest flat index of a score outside [0, 1] among the scores first
// .. first + count - 1, for scores given as probabilities (tested on the bits): as an unsigned
// integer, every float above 1.0 (0x3F800000), infinity, NaN and every negative number has
// larger bits, except -0 (0x80000000), which is accepted as 0.
__kernel void find_outside_unit_interval(__global const uint *score_bits, uint first, uint count,
                                         __global volatile uint *status) {
    uint i = first + get_global_id(0);
    if (i >= first + count) return;
    uint bits = score_bits[i];
    if (bits > 0x3F800000u && bits != 0x80000000u) atomic_min(&status[0], i);
}

// Widens the scores first .. first + count - 1 from their 16-bit encoding to float, exactly:
// binary16 (vload_half, core OpenCL C) or, when `bfloat16`, the high half of a binary32.
__kernel void widen_scores(__global const ushort *bits, __global float *scores, uint first, uint count,
                           uint bfloat16) {
    uint i = first + get_global_id(0);
    if (i >= first + count) return;
    scores[i] = bfloat16 ? as_float((uint)bits[i] << 16) : vload_half(i, (__global const half *)bits);
}

// The softmax of one pixel, `base` its flat index in class 0's plane: the max, the portable
// exp of the difference, the sum in class order, and a correctly rounded division. The logits
// are validated as they are read, as by find_nonfinite (status[0]: the smallest flat index of
// a NaN or infinity), so that softmax from logits needs no pass of its own for it.
inline void lovasz_softmax_pixel(__global const float *logits, __global float *probabilities, uint classes,
                                 uint spatial, size_t base, __global volatile uint *status) {
    float maximum = logits[base];
    uint bad = (as_uint(maximum) & 0x7F800000u) == 0x7F800000u ? (uint)base : 0xFFFFFFFFu;
    for (uint c = 1; c < classes; ++c) {
        size_t at = base + (size_t)c * spatial;
        float v = logits[at];
        if ((as_uint(v) & 0x7F800000u) == 0x7F800000u) bad = min(bad, (uint)at);
        maximum = v > maximum ? v : maximum;
    }
    if (bad != 0xFFFFFFFFu) atomic_min(&status[0], bad);
    // The exponentials are computed twice (for the sum, then for the quotients), the same
    // values both times: cheaper on a GPU than writing them and reading them back.
    float sum = 0.0f;
    for (uint c = 0; c < classes; ++c) sum = sum + lovasz_exp(logits[base + (size_t)c * spatial] - maximum);
    for (uint c = 0; c < classes; ++c) {
        size_t at = base + (size_t)c * spatial;
        probabilities[at] = lovasz_flush(lovasz_divide(lovasz_exp(logits[at] - maximum), sum));
    }
}

// The same for the eight pixels base .. base + 7 of one image, lane by lane, when none of their
// logits is NaN or infinite; false (nothing written) otherwise.
inline bool lovasz_softmax_lanes(__global const float *logits, __global float *probabilities, uint classes,
                                 uint spatial, size_t base) {
    float8 maximum = vload8(0, logits + base);
    int8 bad = (as_int8(maximum) & 0x7F800000) == 0x7F800000;
    for (uint c = 1; c < classes; ++c) {
        float8 v = vload8(0, logits + base + (size_t)c * spatial);
        bad |= (as_int8(v) & 0x7F800000) == 0x7F800000;
        maximum = v > maximum ? v : maximum;
    }
    if (any(bad)) return false;
    float8 sum = 0.0f;
    for (uint c = 0; c < classes; ++c) sum = sum + lovasz_exp8(vload8(0, logits + base + (size_t)c * spatial) - maximum);
    for (uint c = 0; c < classes; ++c) {
        size_t at = base + (size_t)c * spatial;
        float8 p = lovasz_divide8(lovasz_exp8(vload8(0, logits + at) - maximum), sum);
        vstore8(fabs(p) < FLT_MIN ? 0.0f : p, 0, probabilities + at);
    }
    return true;
}

// Softmax over the class axis of [B, C, S] for the images first_image .. first_image + images
// - 1 (lovasz_softmax_pixel): one work-item per pixel, or, with VECTOR_LANES 8 (CPU devices),
// per eight consecutive pixels, as vectors where they lie in one image.
__kernel void softmax_probabilities(__global const float *logits, __global float *probabilities,
                                    uint classes, uint spatial, uint first_image, uint images,
                                    __global volatile uint *status) {
    uint end = (first_image + images) * spatial;
    uint first = first_image * spatial + get_global_id(0) * VECTOR_LANES;
    if (first >= end) return;
#if VECTOR_LANES == 8
    uint b = first / spatial, s = first - b * spatial;
    size_t base = (size_t)b * classes * spatial + s;
    if (first + 8 <= end && s + 8 <= spatial && lovasz_softmax_lanes(logits, probabilities, classes, spatial, base))
        return;
#endif
    for (uint pixel = first; pixel < min(first + VECTOR_LANES, end); ++pixel) {
        uint b = pixel / spatial, s = pixel - b * spatial;
        lovasz_softmax_pixel(logits, probabilities, classes, spatial, (size_t)b * classes * spatial + s, status);
    }
}

// The sigmoid of the logits first .. first + count - 1, validated as they are read (as by
// find_nonfinite).
__kernel void sigmoid_probabilities(__global const float *logits, __global float *probabilities, uint first,
                                    uint count, __global volatile uint *status) {
    uint i = first + get_global_id(0);
    if (i >= first + count) return;
    float x = logits[i];
    if ((as_uint(x) & 0x7F800000u) == 0x7F800000u) atomic_min(&status[0], i);
    probabilities[i] = lovasz_sigmoid(x);
}

