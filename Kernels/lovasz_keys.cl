// The packed sort keys of every (group, class) segment, cut after the last foreground pixel.
//
// In sorted order, every pixel after the segment's last foreground pixel is background with
// nothing left to intersect, so its gradient entry is exactly zero and it adds nothing to the
// loss (the CPU path skips it too). The cut key is the largest foreground key (or, with no
// foreground, the smallest key: only the first pixel counts). Only keys <= cut are sorted:
// segment_bounds and segment_cuts find the cut, count_kept and exclusive_scan_per_segment count
// the kept keys per block of ranks, and compact_keys writes them, in rank order, to the sort's key array.

// The key of the pixel at `rank` of `segment`. `values` are probabilities (softmax, sigmoid)
// or logits (hinge); the error is computed exactly as on the CPU path.
inline ulong lovasz_key_at(__global const float *values, __global const int *class_of,
                           __global const uint *valid_pixels, __global const uint *segment,
                           uint rank, uint classes, uint spatial, uint hinge) {
    uint pixel = lovasz_pixel_of_rank(segment, valid_pixels, rank);
    uint b = pixel / spatial, s = pixel - b * spatial;
    uint foreground = class_of[pixel] == (int)segment[SEG_FOREGROUND] ? 1u : 0u;
    float x = values[((size_t)b * classes + segment[SEG_CHANNEL]) * spatial + s];
    float error = hinge ? (foreground ? 1.0f - x : 1.0f + x) : (foreground ? 1.0f - x : x);
    return lovasz_pack(error, rank, foreground);
}

// partials[2 * (k * blocks + block)] = the largest foreground key of the block (0 if none),
// partials[... + 1] = the smallest key (the sentinel if none). Work-group (block, k).
__kernel void segment_bounds(__global const float *values, __global const int *class_of,
                             __global const uint *valid_pixels, __global const uint *segments,
                             __global ulong *partials, uint classes, uint spatial, uint hinge,
                             uint blocks) {
    __local ulong largest[LOCAL_SIZE];
    __local ulong smallest[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint block = get_group_id(0);
    uint k = get_group_id(1);
    __global const uint *segment = segments + (size_t)k * SEGMENT_FIELDS;
    uint n = segment[SEG_COUNT];
    ulong high = 0, low = SENTINEL_KEY;
    for (uint t = 0; t < BOUND_ITEMS; ++t) {
        uint rank = block * BOUND_BLOCK + t * LOCAL_SIZE + lid;
        if (rank < n) {
            ulong key = lovasz_key_at(values, class_of, valid_pixels, segment, rank, classes, spatial, hinge);
            if ((key & 1UL) && key > high) high = key;
            if (key < low) low = key;
        }
    }
    lovasz_group_bounds(largest, smallest, lid, high, low);
    if (lid == 0) {
        size_t at = 2 * ((size_t)k * blocks + block);
        partials[at] = largest[0];
        partials[at + 1] = smallest[0];
    }
}

// cuts[k]: the largest foreground key of segment k, or its smallest key without foreground.
__kernel void segment_cuts(__global const ulong *partials, __global const uint *segments,
                           __global ulong *cuts, uint blocks) {
    __local ulong largest[LOCAL_SIZE];
    __local ulong smallest[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint k = get_group_id(0);
    ulong high = 0, low = SENTINEL_KEY;
    for (uint block = lid; block < blocks; block += LOCAL_SIZE) {
        size_t at = 2 * ((size_t)k * blocks + block);
        high = max(high, partials[at]);
        low = min(low, partials[at + 1]);
    }
    lovasz_group_bounds(largest, smallest, lid, high, low);
    if (lid == 0) cuts[k] = segments[(size_t)k * SEGMENT_FIELDS + SEG_FG_COUNT] > 0 ? largest[0] : smallest[0];
}

// block_counts[k * blocks + block]: keys <= cut among the block's ranks. Work-group (block, k).
__kernel void count_kept(__global const float *values, __global const int *class_of,
                         __global const uint *valid_pixels, __global const uint *segments,
                         __global const ulong *cuts, __global uint *block_counts,
                         uint classes, uint spatial, uint hinge, uint blocks) {
    __local uint partial[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint block = get_group_id(0);
    uint k = get_group_id(1);
    __global const uint *segment = segments + (size_t)k * SEGMENT_FIELDS;
    uint n = segment[SEG_COUNT];
    ulong cut = cuts[k];
    uint count = 0;
    for (uint t = 0; t < BOUND_ITEMS; ++t) {
        uint rank = block * BOUND_BLOCK + t * LOCAL_SIZE + lid;
        if (rank < n &&
            lovasz_key_at(values, class_of, valid_pixels, segment, rank, classes, spatial, hinge) <= cut) {
            count += 1;
        }
    }
    uint total = lovasz_group_sum_uint(partial, lid, count);
    if (lid == 0) block_counts[(size_t)k * blocks + block] = total;
}

// keys[(k - segment_base) * padded + position]: the kept keys of segment k in rank order.
// Work-group (block, k - segment_base); each work-item handles BOUND_ITEMS consecutive ranks.
__kernel void compact_keys(__global const float *values, __global const int *class_of,
                           __global const uint *valid_pixels, __global const uint *segments,
                           __global const ulong *cuts, __global const uint *block_offsets,
                           __global ulong *keys, uint classes, uint spatial, uint hinge,
                           uint blocks, uint padded, uint segment_base) {
    __local uint prefix[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint block = get_group_id(0);
    uint slot = get_group_id(1);
    uint k = segment_base + slot;
    __global const uint *segment = segments + (size_t)k * SEGMENT_FIELDS;
    uint n = segment[SEG_COUNT];
    ulong cut = cuts[k];
    uint first = block * BOUND_BLOCK + lid * BOUND_ITEMS;
    uint own = 0;
    for (uint t = 0; t < BOUND_ITEMS; ++t) {
        uint rank = first + t;
        if (rank < n &&
            lovasz_key_at(values, class_of, valid_pixels, segment, rank, classes, spatial, hinge) <= cut) {
            own += 1;
        }
    }
    uint position = block_offsets[(size_t)k * blocks + block] + lovasz_group_inclusive_scan(prefix, lid, own) - own;
    __global ulong *out = keys + (size_t)slot * padded;
    for (uint t = 0; t < BOUND_ITEMS; ++t) {
        uint rank = first + t;
        if (rank < n) {
            ulong key = lovasz_key_at(values, class_of, valid_pixels, segment, rank, classes, spatial, hinge);
            if (key <= cut) out[position++] = key;
        }
    }
}
