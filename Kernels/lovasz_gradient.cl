// The Lovász gradient (Algorithm 1) at every sorted position from the exact integer counts,
// the per-position loss terms, and the scatter of the weighted gradient to its pixel. Only the
// kept keys of a segment (up to its last foreground pixel) are visited; the gradient of the
// others stays at the zero the buffer was filled with.

// The gradient at sorted position i of the chunk (slots * padded positions; `padded`: a power
// of two, or a multiple of SCAN_TILE); slot j of the chunk is segment order[chunk_base + j].
inline void lovasz_gradient_at(size_t i, __global const ulong *keys, __global const uint *counts,
                               __global const uint *tile_carries, __global const uint *segments,
                               __global const uint *valid_pixels, __global const float *weights,
                               __global const uint *kept, __global const uint *order,
                               __global acc_t *terms, __global float *upstream,
                               uint padded, uint pixel_count, uint hinge, uint write_gradient,
                               uint chunk_base) {
    uint slot = (uint)(i / padded);
    uint k = order[chunk_base + slot];
    uint position = (uint)(i - (size_t)slot * padded);
    __global const uint *segment = segments + (size_t)k * SEGMENT_FIELDS;
    if (position >= kept[k]) {
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
        acc_t w = (acc_t)weights[k];
        float value = active ? (float)(foreground ? -w * g : w * g) : 0.0f;
        upstream[(size_t)segment[SEG_CHANNEL] * pixel_count + pixel] = value;
    }
}

#if VECTOR_LANES == 8
#ifdef LOVASZ_FP64
typedef double8 acc8_t;
typedef long8 acc_mask8_t;
#define convert_acc8 convert_double8
#define convert_acc_mask8 convert_long8
#else
typedef float8 acc8_t;
typedef int8 acc_mask8_t;
#define convert_acc8 convert_float8
#define convert_acc_mask8 convert_int8
#endif

// lovasz_gradient_at for the eight positions first .. first + 7 of one slot, all kept, lane by
// lane the same operations (each branch computed, then selected).
inline void lovasz_gradient_lanes(size_t first, uint position, uint k, __global const ulong *keys,
                                  __global const uint *counts, __global const uint *tile_carries,
                                  __global const uint *segment, __global const uint *valid_pixels,
                                  __global const float *weights, __global acc_t *terms, __global float *upstream,
                                  uint padded, uint pixel_count, uint hinge, uint write_gradient) {
    ulong8 key = vload8(0, keys + first);
    uint8 foreground = convert_uint8(key & 1UL);
    uint8 inclusive = vload8(0, counts + first);
    if (padded > SCAN_TILE) inclusive += tile_carries[first / SCAN_TILE];
    uint8 foreground_before = inclusive - foreground;
    uint8 background_before = ((uint8)position + (uint8)(0, 1, 2, 3, 4, 5, 6, 7)) - foreground_before;
    uint total = segment[SEG_FG_COUNT];
    acc8_t intersection = convert_acc8((uint8)total - foreground_before);
    acc8_t union_ = (acc8_t)(acc_t)total + convert_acc8(background_before);
    acc_mask8_t is_foreground = convert_acc_mask8(foreground) != 0;
    acc8_t g = is_foreground ? (acc8_t)1 / union_
        : (union_ == (acc8_t)0 ? (acc8_t)1 : intersection / (union_ * (union_ + (acc8_t)1)));
    uint8 high = convert_uint8(key >> 32);
    float8 error = as_float8(high ^ (((high >> 31) - 1u) & 0x7FFFFFFFu));
    acc_mask8_t active = hinge ? convert_acc_mask8(error > 0.0f) : (acc_mask8_t)(-1);
    vstore8(active ? convert_acc8(error) * g : (acc8_t)0, 0, terms + first);
    if (write_gradient) {
        acc8_t w = (acc8_t)(acc_t)weights[k];
        float values[8];
        vstore8(convert_float8(active ? (is_foreground ? -w * g : w * g) : (acc8_t)0), 0, values);
        uint ranks[8];
        vstore8(convert_uint8(key & 0xFFFFFFFFUL) >> 1, 0, ranks);
        __global float *plane = upstream + (size_t)segment[SEG_CHANNEL] * pixel_count;
        for (uint lane = 0; lane < 8; ++lane) plane[lovasz_pixel_of_rank(segment, valid_pixels, ranks[lane])] = values[lane];
    }
}
#endif

// Dimension 0 runs over the chunk's slots * padded sorted positions (`positions`), one per
// work-item or, with VECTOR_LANES 8 (CPU devices), eight per work-item: as vectors where they
// are eight kept positions of one slot.
__kernel void lovasz_gradient(__global const ulong *keys, __global const uint *counts,
                              __global const uint *tile_carries, __global const uint *segments,
                              __global const uint *valid_pixels, __global const float *weights,
                              __global const uint *kept, __global const uint *order,
                              __global acc_t *terms, __global float *upstream,
                              uint padded, uint pixel_count, uint hinge, uint write_gradient,
                              uint chunk_base, uint positions) {
    size_t first = get_global_id(0) * (size_t)VECTOR_LANES;
    if (first >= positions) return;
#if VECTOR_LANES == 8
    if (padded % 8 == 0) {
        uint slot = (uint)(first / padded);
        uint k = order[chunk_base + slot];
        uint position = (uint)(first - (size_t)slot * padded);
        if (position + 8 <= kept[k]) {
            lovasz_gradient_lanes(first, position, k, keys, counts, tile_carries,
                                  segments + (size_t)k * SEGMENT_FIELDS, valid_pixels, weights, terms, upstream,
                                  padded, pixel_count, hinge, write_gradient);
            return;
        }
    }
#endif
    for (size_t i = first; i < min(first + VECTOR_LANES, (size_t)positions); ++i)
        lovasz_gradient_at(i, keys, counts, tile_carries, segments, valid_pixels, weights, kept, order, terms,
                           upstream, padded, pixel_count, hinge, write_gradient, chunk_base);
}

// partials[j * blocks + b]: the sum of terms b * REDUCE_BLOCK .. min((b + 1) * REDUCE_BLOCK,
// padded) - 1 of the chunk's slot j, in a fixed order. Work-group (b, j): every slot's terms
// are summed by many work-groups at once.
__kernel void reduce_term_blocks(__global const acc_t *terms, __global acc_t *partials, uint padded, uint blocks) {
    __local acc_t partial[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint b = get_group_id(0), j = get_group_id(1);
    size_t base = (size_t)j * padded;
    uint first = b * REDUCE_BLOCK, last = min(first + REDUCE_BLOCK, padded);
    acc_t sum = 0;
    for (uint t = first + lid; t < last; t += LOCAL_SIZE) sum += terms[base + t];
    acc_t total = lovasz_group_sum_acc(partial, lid, sum);
    if (lid == 0) partials[(size_t)j * blocks + b] = total;
}

// losses[order[chunk_base + j]] = the sum of the chunk's slot j block partials, in a fixed
// order: one work-group per slot.
__kernel void reduce_segment_losses(__global const acc_t *partials, __global acc_t *losses,
                                    __global const uint *order, uint blocks, uint chunk_base) {
    __local acc_t partial[LOCAL_SIZE];
    uint lid = get_local_id(0);
    size_t base = get_group_id(0) * (size_t)blocks;
    acc_t sum = 0;
    for (uint t = lid; t < blocks; t += LOCAL_SIZE) sum += partials[base + t];
    acc_t total = lovasz_group_sum_acc(partial, lid, sum);
    if (lid == 0) losses[order[chunk_base + get_group_id(0)]] = total;
}

// The same sums for slots of at most LOCAL_SIZE terms, one work-item per slot, in position
// order.
__kernel void reduce_small_segment_losses(__global const acc_t *terms, __global acc_t *losses,
                                          __global const uint *order, uint padded, uint chunk_base,
                                          uint chunk_count) {
    uint j = get_global_id(0);
    if (j >= chunk_count) return;
    size_t base = (size_t)j * padded;
    acc_t sum = 0;
    for (uint t = 0; t < padded; ++t) sum += terms[base + t];
    losses[order[chunk_base + j]] = sum;
}
