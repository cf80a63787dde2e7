// The second half of the segmented radix sort of radix_sort.cl (concatenated after it): per pass,
// radix_scan turns the tiles' histograms into output positions and radix_downsweep scatters the
// tiles there (sorting each one first where the upsweep only counted); radix_copy_back ends the
// sort. See radix_sort.cl for the whole design.

// One work-group per segment. Turns the segment's tile histograms into prefixes,
// histograms[t * 256 + d] = keys with digit d in the segment's tiles before t, and writes
// digit_bases[k * 256 + d] = begin + keys of the segment with a digit below d.
// Pass 0 also records in varying[k] which of the bytes 1..3 differ within the segment.
__kernel void radix_scan(__global uint *histograms, __global uint *digit_bases, __global const uint4 *segments,
                         __global const uint *tile_bits, __global uint *varying, uint pass) {
    __local uint totals[RADIX_BINS];
    __local uint partial[RADIX_GROUP];
    __local uint partial_or[RADIX_GROUP];
    uint lid = get_local_id(0);
    uint k = get_group_id(0);
    uint4 s = segments[k];
    uint tiles = (s.y - s.x + RADIX_TILE - 1) / RADIX_TILE;
    if (pass == 0) {
        uint all = 0xFFFFFFFFu, any = 0;
        for (uint t = lid; t < tiles; t += RADIX_GROUP) {
            all &= tile_bits[2 * ((size_t)s.z + t)];
            any |= tile_bits[2 * ((size_t)s.z + t) + 1];
        }
        partial[lid] = all;
        partial_or[lid] = any;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint width = RADIX_GROUP / 2; width > 0; width >>= 1) {
            if (lid < width) {
                partial[lid] &= partial[lid + width];
                partial_or[lid] |= partial_or[lid + width];
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (lid == 0) {
            uint differ = tiles > 0 ? (partial[0] ^ partial_or[0]) : 0u;
            uint mask = 0;
            for (uint byte = 1; byte < 4; ++byte)
                if ((differ >> (8 * byte)) & 0xFFu) mask |= 1u << byte;
            varying[k] = mask;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    } else if (radix_pass_shift(pass, varying[k]) == RADIX_SKIP) {
        return;  // the whole work-group
    }

    // Per digit: exclusive prefixes over the segment's tiles, and the digit's total. The
    // counts of RADIX_SCAN_BATCH tiles are loaded before any is written, so that their loads
    // overlap instead of waiting one after another.
    for (uint d = lid; d < RADIX_BINS; d += RADIX_GROUP) {
        uint running = 0;
        for (uint t0 = 0; t0 < tiles; t0 += RADIX_SCAN_BATCH) {
            uint counts[RADIX_SCAN_BATCH];
            for (uint j = 0; j < RADIX_SCAN_BATCH; ++j)
                counts[j] = t0 + j < tiles ? histograms[((size_t)s.z + t0 + j) * RADIX_BINS + d] : 0u;
            for (uint j = 0; j < RADIX_SCAN_BATCH && t0 + j < tiles; ++j) {
                histograms[((size_t)s.z + t0 + j) * RADIX_BINS + d] = running;
                running += counts[j];
            }
        }
        totals[d] = running;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    // Exclusive scan of the 256 totals: RADIX_BINS / RADIX_GROUP consecutive digits per work-item.
    uint per = RADIX_BINS / RADIX_GROUP;
    uint own = 0;
    for (uint j = 0; j < per; ++j) own += totals[lid * per + j];
    partial[lid] = own;
    barrier(CLK_LOCAL_MEM_FENCE);
    radix_scan_local(partial, lid);
    uint running = partial[lid] - own;
    for (uint j = 0; j < per; ++j) {
        uint c = totals[lid * per + j];
        totals[lid * per + j] = running;
        running += c;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint d = lid; d < RADIX_BINS; d += RADIX_GROUP) digit_bases[(size_t)k * RADIX_BINS + d] = s.x + totals[d];
}

#if RADIX_GROUP == 1
// Scatters tile get_group_id(0) of `source` to `destination` at the positions of radix_scan,
// one key after another in key order (which keeps equal digits in key order: stable).
__kernel void radix_downsweep(__global const ulong *source, __global ulong *destination,
                              __global const uint4 *segments, __global const uint *tile_segment,
                              __global const uint *varying, __global const uint *prefixes,
                              __global const uint *digit_bases, uint pass) {
    uint group = get_group_id(0), k, count;
    size_t base;
    uint shift = radix_tile_pass(segments, tile_segment, varying, group, pass, &k, &base, &count);
    if (shift == RADIX_SKIP) return;
    uint offsets[RADIX_BINS];
    for (uint d = 0; d < RADIX_BINS; ++d)
        offsets[d] = digit_bases[(size_t)k * RADIX_BINS + d] + prefixes[(size_t)group * RADIX_BINS + d];
    for (uint j = 0; j < count; ++j) {
        ulong key = source[base + j];
        uint d = radix_digit(key, shift);
        destination[offsets[d]] = key;
        offsets[d] += 1;
    }
}
#else
// Scatters the sorted tile in local `tile` (`count` keys of tile `group` of segment `k`) to
// `destination` at the positions of radix_scan: each run of equal digits is written to
// consecutive addresses. Every work-item calls it.
inline void radix_scatter_sorted_tile(__local const ulong *tile, __local uint *offsets, __global ulong *destination,
                                      __global const uint *prefixes, __global const uint *digit_bases,
                                      uint k, uint group, uint count, uint shift, uint lid) {
    // offsets[d] = output position of the tile's first key with digit d, minus its position in the tile.
    for (uint i = 0; i < RADIX_ITEMS; ++i) {
        uint j = lid + i * RADIX_GROUP;
        if (j < count) {
            uint d = radix_digit(tile[RADIX_PAD(j)], shift);
            if (j == 0 || radix_digit(tile[RADIX_PAD(j - 1)], shift) != d)
                offsets[d] = digit_bases[(size_t)k * RADIX_BINS + d] + prefixes[(size_t)group * RADIX_BINS + d] - j;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint i = 0; i < RADIX_ITEMS; ++i) {
        uint j = lid + i * RADIX_GROUP;
        if (j < count) {
            ulong key = tile[RADIX_PAD(j)];
            destination[(size_t)offsets[radix_digit(key, shift)] + j] = key;
        }
    }
}

// Scatters tile get_group_id(0) of `source` to `destination` at the positions of radix_scan,
// sorting it stably by the pass's digit in local memory first where the upsweep only counted
// (RADIX_RANK_IN_DOWNSWEEP), else as radix_upsweep left it sorted.
__kernel void radix_downsweep(__global const ulong *source, __global ulong *destination,
                              __global const uint4 *segments, __global const uint *tile_segment,
                              __global const uint *varying, __global const uint *prefixes,
                              __global const uint *digit_bases, uint pass) {
    __local ulong tile[RADIX_LOCAL_KEYS];
    __local uint offsets[RADIX_BINS];
#if RADIX_RANK_IN_DOWNSWEEP
    __local ushort counters[RADIX_SPLIT_BINS * RADIX_GROUP];
    __local uint partial[RADIX_GROUP];
#endif
    uint lid = get_local_id(0);
    uint group = get_group_id(0), k, count;
    size_t base;
    uint shift = radix_tile_pass(segments, tile_segment, varying, group, pass, &k, &base, &count);
    if (shift == RADIX_SKIP) return;  // the whole work-group

#if RADIX_RANK_IN_DOWNSWEEP
    ulong own[RADIX_ITEMS];
    radix_load_tile(source, tile, own, base, count, lid);
    radix_sort_tile(own, tile, counters, partial, shift, lid);
#else
    for (uint i = 0; i < RADIX_ITEMS; ++i) {
        uint j = lid + i * RADIX_GROUP;
        if (j < count) tile[RADIX_PAD(j)] = source[base + j];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
#endif
    radix_scatter_sorted_tile(tile, offsets, destination, prefixes, digit_bases, k, group, count, shift, lid);
}
#endif

// Copies the tiles of segments that made an odd number of passes from `alternate` back to `keys`.
__kernel void radix_copy_back(__global const ulong *alternate, __global ulong *keys,
                              __global const uint4 *segments, __global const uint *tile_segment,
                              __global const uint *varying) {
    uint lid = get_local_id(0);
    size_t base;
    uint count;
    uint k = radix_tile(segments, tile_segment, get_group_id(0), &base, &count);
    if ((popcount(varying[k]) & 1u) != 0) return;  // 1 + popcount passes: even, already in keys
    for (uint i = 0; i < RADIX_ITEMS; ++i) {
        uint j = lid + i * RADIX_GROUP;
        if (j < count) keys[base + j] = alternate[base + j];
    }
}
