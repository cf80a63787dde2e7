// From the derivatives with respect to the probabilities (class-major [C][B*S]) to the
// derivatives with respect to the scores ([B, C, S]).

// Softmax at one pixel of `batch`: f(k) * (G(k) - sum_c f(c) G(c)) from logits (the sum in
// class order, as the CPU path), G(k) from probabilities.
inline void lovasz_backprop_pixel(__global const float *probabilities, __global const float *upstream,
                                  __global float *gradient, uint pixel_count, uint classes, uint spatial,
                                  uint from_logits, uint pixel) {
    uint b = pixel / spatial, s = pixel - b * spatial;
    size_t base = (size_t)b * classes * spatial + s;
    if (!from_logits) {
        for (uint c = 0; c < classes; ++c)
            gradient[base + (size_t)c * spatial] = upstream[(size_t)c * pixel_count + pixel];
        return;
    }
    float dot = 0.0f;
    for (uint c = 0; c < classes; ++c)
        dot = dot + probabilities[base + (size_t)c * spatial] * upstream[(size_t)c * pixel_count + pixel];
    for (uint c = 0; c < classes; ++c) {
        float f = probabilities[base + (size_t)c * spatial];
        gradient[base + (size_t)c * spatial] = f * (upstream[(size_t)c * pixel_count + pixel] - dot);
    }
}

// lovasz_backprop_pixel for the pixels of the images first_image .. first_image + images - 1,
// one work-item per pixel or, with VECTOR_LANES 8 (CPU devices), per eight consecutive pixels,
// as vectors (lane by lane the same operations) where they lie in one image.
__kernel void backprop_softmax(__global const float *probabilities, __global const float *upstream,
                               __global float *gradient, uint batch, uint classes, uint spatial,
                               uint from_logits, uint first_image, uint images) {
    uint end = (first_image + images) * spatial;
    uint first = first_image * spatial + get_global_id(0) * VECTOR_LANES;
    uint pixel_count = batch * spatial;
    if (first >= end) return;
#if VECTOR_LANES == 8
    uint b = first / spatial, s = first - b * spatial;
    if (first + 8 <= end && s + 8 <= spatial) {
        size_t base = (size_t)b * classes * spatial + s;
        if (!from_logits) {
            for (uint c = 0; c < classes; ++c)
                vstore8(vload8(0, upstream + (size_t)c * pixel_count + first), 0, gradient + base + (size_t)c * spatial);
            return;
        }
        float8 dot = 0.0f;
        for (uint c = 0; c < classes; ++c)
            dot = dot + vload8(0, probabilities + base + (size_t)c * spatial) * vload8(0, upstream + (size_t)c * pixel_count + first);
        for (uint c = 0; c < classes; ++c) {
            float8 f = vload8(0, probabilities + base + (size_t)c * spatial);
            vstore8(f * (vload8(0, upstream + (size_t)c * pixel_count + first) - dot), 0, gradient + base + (size_t)c * spatial);
        }
        return;
    }
#endif
    for (uint pixel = first; pixel < min(first + VECTOR_LANES, end); ++pixel)
        lovasz_backprop_pixel(probabilities, upstream, gradient, pixel_count, classes, spatial, from_logits, pixel);
}

// Rounds the gradient entries first .. first + count - 1 to their 16-bit encoding, to nearest
// with ties to even (as Swift's Float16(_:) and BFloat16(rounding:)): binary16 (vstore_half_rte,
// core OpenCL C) or, when `bfloat16`, the high half of a binary32 (a NaN stays a quiet NaN).
__kernel void narrow_gradient(__global const float *gradient, __global ushort *bits, uint first, uint count,
                              uint bfloat16) {
    uint i = first + get_global_id(0);
    if (i >= first + count) return;
    float x = gradient[i];
    if (!bfloat16) {
        vstore_half_rte(x, i, (__global half *)bits);
        return;
    }
    uint b = as_uint(x);
    bool nan = (b & 0x7FFFFFFFu) > 0x7F800000u;
    bits[i] = nan ? (ushort)((b >> 16) | 0x0040u) : (ushort)((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);
}

// Sigmoid from logits: G * (p * (1 - p)), for the elements first .. first + count - 1.
__kernel void backprop_sigmoid(__global const float *probabilities, __global const float *upstream,
                               __global float *gradient, uint first, uint count) {
    uint i = first + get_global_id(0);
    if (i >= first + count) return;
    float p = probabilities[i];
    gradient[i] = upstream[i] * (p * (1.0f - p));
}
