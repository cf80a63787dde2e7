// The Lovász gradient (Algorithm 1) at every sorted position from the exact integer counts,
// the per-position loss terms, and the scatter of the weighted gradient to its pixel. Only the
// kept keys of a segment (up to its last foreground pixel) are visited; the gradient of the
// others stays at the zero the buffer was filled with.

// Dimension 0 runs over the chunk's segments * padded sorted positions (`padded`: a power of
// two, or a multiple of SCAN_TILE); segment k of the chunk is segment_base + k of the table.
__kernel void lovasz_gradient(__global const ulong *keys, __global const uint *counts,
                              __global const uint *tile_carries, __global const uint *segments,
                              __global const uint *valid_pixels, __global const float *weights,
                              __global const uint *kept,
                              __global acc_t *terms, __global float *upstream,
                              uint padded, uint pixel_count, uint hinge, uint write_gradient,
                              uint segment_base) {
    size_t i = get_global_id(0);
    uint k = (uint)(i / padded);
    uint position = (uint)(i - (size_t)k * padded);
    __global const uint *segment = segments + (size_t)(segment_base + k) * SEGMENT_FIELDS;
    if (position >= kept[segment_base + k]) {
        terms[i] = 0;
        return;
    }
    ulong key = keys[i];
    uint foreground = (uint)(key & 1UL);
    uint inclusive = counts[i];
    if (padded > SCAN_TILE) inclusive += tile_carries[i / SCAN_TILE];
    uint foreground_before = inclusive - foreground;
    uint background_before = position - foreground_before;
    uint total = segment[SEG_FG_COUNT];
    acc_t intersection = (acc_t)(total - foreground_before);
    acc_t union_ = (acc_t)total + (acc_t)background_before;
    acc_t g;
    if (foreground) {
        g = (acc_t)1 / union_;
    } else if (union_ == (acc_t)0) {
        g = (acc_t)1;
    } else {
        g = intersection / (union_ * (union_ + (acc_t)1));
    }
    float error = lovasz_error_of_key(key);
    bool active = !hinge || error > 0.0f;
    terms[i] = active ? (acc_t)error * g : (acc_t)0;
    if (write_gradient) {
        uint rank = (uint)((key & 0xFFFFFFFFUL) >> 1);
        uint pixel = lovasz_pixel_of_rank(segment, valid_pixels, rank);
        acc_t w = (acc_t)weights[segment_base + k];
        float value = active ? (float)(foreground ? -w * g : w * g) : 0.0f;
        upstream[(size_t)segment[SEG_CHANNEL] * pixel_count + pixel] = value;
    }
}

// partials[k * blocks + b]: the sum of terms b * REDUCE_BLOCK .. min((b + 1) * REDUCE_BLOCK,
// padded) - 1 of the chunk's segment k, in a fixed order. Work-group (b, k): every segment's
// terms are summed by many work-groups at once.
__kernel void reduce_term_blocks(__global const acc_t *terms, __global acc_t *partials, uint padded, uint blocks) {
    __local acc_t partial[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint b = get_group_id(0), k = get_group_id(1);
    size_t base = (size_t)k * padded;
    uint first = b * REDUCE_BLOCK, last = min(first + REDUCE_BLOCK, padded);
    acc_t sum = 0;
    for (uint t = first + lid; t < last; t += LOCAL_SIZE) sum += terms[base + t];
    acc_t total = lovasz_group_sum_acc(partial, lid, sum);
    if (lid == 0) partials[(size_t)k * blocks + b] = total;
}

// losses[segment_base + k] = the sum of the chunk's segment k block partials, in a fixed order.
__kernel void reduce_segment_losses(__global const acc_t *partials, __global acc_t *losses, uint blocks,
                                    uint segment_base) {
    __local acc_t partial[LOCAL_SIZE];
    uint lid = get_local_id(0);
    size_t base = get_group_id(0) * (size_t)blocks;
    acc_t sum = 0;
    for (uint t = lid; t < blocks; t += LOCAL_SIZE) sum += partials[base + t];
    acc_t total = lovasz_group_sum_acc(partial, lid, sum);
    if (lid == 0) losses[segment_base + get_group_id(0)] = total;
}
