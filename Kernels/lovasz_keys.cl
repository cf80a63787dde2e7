// The packed sort keys of every (group, class) segment, cut after the last foreground pixel.
//
// In sorted order, every pixel after the segment's last foreground pixel is background with
// nothing left to intersect, so its gradient entry is exactly zero and it adds nothing to the
// loss (the CPU path skips it too). The cut key is the largest foreground key (or, with no
// foreground, the smallest key: only the first pixel counts; for the hinge, at most the last
// positive error's key). Only keys <= cut are sorted.
//
// The work is linear in the pixels however many segments there are: a segment of at most
// SMALL_SEGMENT pixels is handled by one work-item (small_segment_cuts, compact_small_keys);
// a larger one by one work-group per block of BOUND_BLOCK ranks. Its blocks are listed
// consecutively: block e of the list belongs to segment block_segments[e], as its block
// e - first_block[k]. On CPU devices (VECTOR_LANES 8) eight consecutive ranks are made as one
// vector where they lie in one image of a segment without a valid-pixel list. segment_bounds and segment_cuts find the cut of the large segments,
// count_kept and large_segment_offsets count the kept keys per block, and compact_keys writes
// them, in rank order, to the sort's key array.

// The cut of a segment from its largest foreground key and its smallest key. The hinge's keys
// of errors <= 0 add nothing to its loss or gradient (max(0, e) and its derivative vanish), so
// with foreground its cut stops at the last positive error (no key may be kept).
inline ulong lovasz_segment_cut(__global const uint *segment, ulong largest_foreground, ulong smallest, uint hinge) {
    if (segment[SEG_FG_COUNT] == 0) return smallest;
    return hinge ? min(largest_foreground, LAST_POSITIVE_ERROR) : largest_foreground;
}

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

#if BOUND_ITEMS % VECTOR_LANES != 0
#error "BOUND_ITEMS must be a multiple of VECTOR_LANES"
#endif

#if VECTOR_LANES == 8
// The keys of the eight ranks first .. first + 7 of a segment without a valid-pixel list whose
// pixels lie in one image, lane by lane as lovasz_key_at; false (nothing made) otherwise.
inline bool lovasz_keys8(__global const float *values, __global const int *class_of, __global const uint *segment,
                         uint first, uint n, uint classes, uint spatial, uint hinge, ulong8 *keys) {
    if (segment[SEG_HAS_LIST] || first + 8 > n) return false;
    uint pixel = segment[SEG_FIRST_PIXEL] + first;
    uint b = pixel / spatial, s = pixel - b * spatial;
    if (s + 8 > spatial) return false;
    int8 foreground = vload8(0, class_of + pixel) == (int)segment[SEG_FOREGROUND];
    float8 x = vload8(0, values + ((size_t)b * classes + segment[SEG_CHANNEL]) * spatial + s);
    float8 background = hinge ? 1.0f + x : x;
    uint8 bits = as_uint8(foreground ? 1.0f - x : background);
    bits = bits == 0x80000000u ? (uint8)0u : bits;
    uint8 high = bits ^ (((bits >> 31) - 1u) & 0x7FFFFFFFu);
    ulong8 ranks = convert_ulong8((uint8)first + (uint8)(0, 1, 2, 3, 4, 5, 6, 7));
    *keys = (convert_ulong8(high) << 32) | (ranks << 1) | convert_ulong8(as_uint8(foreground) & 1u);
    return true;
}
#endif

// keys[i] = the key of rank first + i, for i < VECTOR_LANES and first + i < n: as one vector
// where lovasz_keys8 applies (CPU devices), else rank by rank.
inline void lovasz_lane_keys(__global const float *values, __global const int *class_of,
                             __global const uint *valid_pixels, __global const uint *segment,
                             uint first, uint n, uint classes, uint spatial, uint hinge, ulong *keys) {
#if VECTOR_LANES == 8
    ulong8 vector;
    if (lovasz_keys8(values, class_of, segment, first, n, classes, spatial, hinge, &vector)) {
        vstore8(vector, 0, keys);
        return;
    }
#endif
    for (uint i = 0; i < VECTOR_LANES && first + i < n; ++i)
        keys[i] = lovasz_key_at(values, class_of, valid_pixels, segment, first + i, classes, spatial, hinge);
}

// The number of keys[0 .. lanes) (lanes <= VECTOR_LANES) at most `cut`: eight at once as a
// vector comparison (no branch to mispredict on a CPU).
inline uint lovasz_count_at_most(const ulong *keys, uint lanes, ulong cut) {
#if VECTOR_LANES == 8
    if (lanes == 8) {
        int8 at_most = convert_int8(vload8(0, keys) <= (ulong8)cut);
        int4 four = at_most.lo + at_most.hi;
        int2 two = four.lo + four.hi;
        return (uint)(-(two.x + two.y));
    }
#endif
    uint count = 0;
    for (uint i = 0; i < lanes; ++i) count += keys[i] <= cut ? 1u : 0u;
    return count;
}

// The first of the VECTOR_LANES consecutive ranks that a work-item visits at step t (a multiple
// of VECTOR_LANES) of its block: strided across the work-group with one lane (reads coalesced
// on a GPU), consecutive for the work-item with eight (vector reads on a CPU). Either way the
// work-group visits every rank of the block once.
#if VECTOR_LANES == 1
#define BOUND_RANK(block, lid, t) ((block) * BOUND_BLOCK + (t) * LOCAL_SIZE + (lid))
#else
#define BOUND_RANK(block, lid, t) ((block) * BOUND_BLOCK + (lid) * BOUND_ITEMS + (t))
#endif

// cuts[k] and kept[k] of every segment k < segment_count of at most SMALL_SEGMENT pixels, one
// work-item each (larger segments are skipped).
__kernel void small_segment_cuts(__global const float *values, __global const int *class_of,
                                 __global const uint *valid_pixels, __global const uint *segments,
                                 __global ulong *cuts, __global uint *kept, uint classes, uint spatial,
                                 uint hinge, uint segment_count) {
    uint k = get_global_id(0);
    if (k >= segment_count) return;
    __global const uint *segment = segments + (size_t)k * SEGMENT_FIELDS;
    uint n = segment[SEG_COUNT];
    if (n > SMALL_SEGMENT) return;
    ulong high = 0, low = SENTINEL_KEY;
    for (uint rank = 0; rank < n; ++rank) {
        ulong key = lovasz_key_at(values, class_of, valid_pixels, segment, rank, classes, spatial, hinge);
        if ((key & 1UL) && key > high) high = key;
        if (key < low) low = key;
    }
    ulong cut = lovasz_segment_cut(segment, high, low, hinge);
    uint count = 0;
    for (uint rank = 0; rank < n; ++rank) {
        if (lovasz_key_at(values, class_of, valid_pixels, segment, rank, classes, spatial, hinge) <= cut) count += 1;
    }
    cuts[k] = cut;
    kept[k] = count;
}

// partials[2 * e] = the largest foreground key of listed block e (0 if none), partials[2 * e
// + 1] = its smallest key (the sentinel if none). Work-group e.
__kernel void segment_bounds(__global const float *values, __global const int *class_of,
                             __global const uint *valid_pixels, __global const uint *segments,
                             __global const uint *block_segments, __global const uint *first_block,
                             __global ulong *partials, uint classes, uint spatial, uint hinge) {
    __local ulong largest[LOCAL_SIZE];
    __local ulong smallest[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint e = get_group_id(0);
    uint k = block_segments[e];
    uint block = e - first_block[k];
    __global const uint *segment = segments + (size_t)k * SEGMENT_FIELDS;
    uint n = segment[SEG_COUNT];
    ulong high = 0, low = SENTINEL_KEY;
    for (uint t = 0; t < BOUND_ITEMS; t += VECTOR_LANES) {
        uint first = BOUND_RANK(block, lid, t);
        ulong keys[VECTOR_LANES];
        lovasz_lane_keys(values, class_of, valid_pixels, segment, first, n, classes, spatial, hinge, keys);
        for (uint i = 0; i < VECTOR_LANES && first + i < n; ++i) {
            ulong key = keys[i];
            if ((key & 1UL) && key > high) high = key;
            if (key < low) low = key;
        }
    }
    lovasz_group_bounds(largest, smallest, lid, high, low);
    if (lid == 0) {
        partials[2 * (size_t)e] = largest[0];
        partials[2 * (size_t)e + 1] = smallest[0];
    }
}

// The number of listed blocks of a segment of n > SMALL_SEGMENT pixels.
inline uint lovasz_blocks_of(uint n) { return (n + BOUND_BLOCK - 1) / BOUND_BLOCK; }

// cuts[k] for the large segment k = large_segments[group]: its largest foreground key (for the
// hinge, at most the last positive error's key), or its smallest key without foreground.
__kernel void segment_cuts(__global const ulong *partials, __global const uint *segments,
                           __global const uint *large_segments, __global const uint *first_block,
                           __global ulong *cuts, uint hinge) {
    __local ulong largest[LOCAL_SIZE];
    __local ulong smallest[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint k = large_segments[get_group_id(0)];
    __global const uint *segment = segments + (size_t)k * SEGMENT_FIELDS;
    uint blocks = lovasz_blocks_of(segment[SEG_COUNT]);
    size_t base = first_block[k];
    ulong high = 0, low = SENTINEL_KEY;
    for (uint block = lid; block < blocks; block += LOCAL_SIZE) {
        high = max(high, partials[2 * (base + block)]);
        low = min(low, partials[2 * (base + block) + 1]);
    }
    lovasz_group_bounds(largest, smallest, lid, high, low);
    if (lid == 0) cuts[k] = lovasz_segment_cut(segment, largest[0], smallest[0], hinge);
}

// block_counts[e]: the keys <= cut among the ranks of listed block e. Work-group e.
__kernel void count_kept(__global const float *values, __global const int *class_of,
                         __global const uint *valid_pixels, __global const uint *segments,
                         __global const uint *block_segments, __global const uint *first_block,
                         __global const ulong *cuts, __global uint *block_counts,
                         uint classes, uint spatial, uint hinge) {
    __local uint partial[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint e = get_group_id(0);
    uint k = block_segments[e];
    uint block = e - first_block[k];
    __global const uint *segment = segments + (size_t)k * SEGMENT_FIELDS;
    uint n = segment[SEG_COUNT];
    ulong cut = cuts[k];
    uint count = 0;
    for (uint t = 0; t < BOUND_ITEMS; t += VECTOR_LANES) {
        uint first = BOUND_RANK(block, lid, t);
        ulong keys[VECTOR_LANES];
        lovasz_lane_keys(values, class_of, valid_pixels, segment, first, n, classes, spatial, hinge, keys);
        if (first < n) count += lovasz_count_at_most(keys, min((uint)VECTOR_LANES, n - first), cut);
    }
    uint total = lovasz_group_sum_uint(partial, lid, count);
    if (lid == 0) block_counts[e] = total;
}

// For the large segment k = large_segments[group]: block_offsets[e], the exclusive prefix
// sums of block_counts over its blocks, and kept[k], their total.
__kernel void large_segment_offsets(__global const uint *block_counts, __global uint *block_offsets,
                                    __global uint *kept, __global const uint *segments,
                                    __global const uint *large_segments, __global const uint *first_block) {
    __local uint values[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint k = large_segments[get_group_id(0)];
    uint blocks = lovasz_blocks_of(segments[(size_t)k * SEGMENT_FIELDS + SEG_COUNT]);
    size_t base = first_block[k];
    uint running = 0;
    for (uint chunk = 0; chunk < blocks; chunk += LOCAL_SIZE) {
        uint t = chunk + lid;
        uint own = t < blocks ? block_counts[base + t] : 0u;
        uint inclusive = lovasz_group_inclusive_scan(values, lid, own);
        if (t < blocks) block_offsets[base + t] = running + inclusive - own;
        uint chunk_total = values[LOCAL_SIZE - 1];
        barrier(CLK_LOCAL_MEM_FENCE);
        running += chunk_total;
    }
    if (lid == 0) kept[k] = running;
}

// The sort's key array of one chunk: slot j holds segment order[chunk_base + j], its kept keys
// in rank order from keys[j * padded] on (the rest stays as filled, with sentinels).

// The kept keys of the chunk's segments of at most SMALL_SEGMENT pixels, one work-item per slot.
__kernel void compact_small_keys(__global const float *values, __global const int *class_of,
                                 __global const uint *valid_pixels, __global const uint *segments,
                                 __global const uint *order, __global const ulong *cuts, __global ulong *keys,
                                 uint classes, uint spatial, uint hinge, uint padded, uint chunk_base,
                                 uint chunk_count) {
    uint j = get_global_id(0);
    if (j >= chunk_count) return;
    uint k = order[chunk_base + j];
    __global const uint *segment = segments + (size_t)k * SEGMENT_FIELDS;
    uint n = segment[SEG_COUNT];
    if (n > SMALL_SEGMENT) return;
    ulong cut = cuts[k];
    __global ulong *out = keys + (size_t)j * padded;
    uint position = 0;
    for (uint rank = 0; rank < n; ++rank) {
        ulong key = lovasz_key_at(values, class_of, valid_pixels, segment, rank, classes, spatial, hinge);
        if (key <= cut) out[position++] = key;
    }
}

// The kept keys of the chunk's large segments: work-group g handles listed block
// compact_blocks[2 * (entry_base + g)] of the segment in slot compact_blocks[... + 1]; each
// work-item handles BOUND_ITEMS consecutive ranks.
__kernel void compact_keys(__global const float *values, __global const int *class_of,
                           __global const uint *valid_pixels, __global const uint *segments,
                           __global const uint *block_segments, __global const uint *first_block,
                           __global const uint *compact_blocks, __global const ulong *cuts,
                           __global const uint *block_offsets, __global ulong *keys, uint classes,
                           uint spatial, uint hinge, uint padded, uint entry_base) {
    __local uint prefix[LOCAL_SIZE];
    uint lid = get_local_id(0);
    size_t entry = 2 * ((size_t)entry_base + get_group_id(0));
    uint e = compact_blocks[entry];
    uint slot = compact_blocks[entry + 1];
    uint k = block_segments[e];
    uint block = e - first_block[k];
    __global const uint *segment = segments + (size_t)k * SEGMENT_FIELDS;
    uint n = segment[SEG_COUNT];
    ulong cut = cuts[k];
    uint first = block * BOUND_BLOCK + lid * BOUND_ITEMS;
    uint own = 0;
    for (uint t = 0; t < BOUND_ITEMS; t += VECTOR_LANES) {
        ulong lane_keys[VECTOR_LANES];
        lovasz_lane_keys(values, class_of, valid_pixels, segment, first + t, n, classes, spatial, hinge, lane_keys);
        if (first + t < n) own += lovasz_count_at_most(lane_keys, min((uint)VECTOR_LANES, n - first - t), cut);
    }
    uint position = block_offsets[e] + lovasz_group_inclusive_scan(prefix, lid, own) - own;
    __global ulong *out = keys + (size_t)slot * padded;
    for (uint t = 0; t < BOUND_ITEMS; t += VECTOR_LANES) {
        ulong lane_keys[VECTOR_LANES];
        lovasz_lane_keys(values, class_of, valid_pixels, segment, first + t, n, classes, spatial, hinge, lane_keys);
        for (uint i = 0; i < VECTOR_LANES && first + t + i < n; ++i) {
            if (lane_keys[i] <= cut) out[position++] = lane_keys[i];
        }
    }
}
