// Segmented LSD radix sort of packed 64-bit keys by their high words (the order-mapped error
// bits), stable: keys created in rank order keep ties in rank order, so the result is the
// ascending order of the whole 64-bit keys. Reduce-then-scan, as GPUSorting's DeviceRadixSort
// and Satish, Harris & Garland (2009), with no global atomics, no look-back and no spinning:
//
//   radix_tile_segments  tile -> segment, from each segment's first tile
//   per pass of 8 bits (the lowest byte, then each higher byte that varies in the segment):
//     radix_upsweep      sorts each tile of RADIX_TILE keys stably by the digit in local memory
//                        (two 4-bit counting splits with per-work-item counters), writes the
//                        sorted tile back in place and its 256-bin histogram (counted from the
//                        digit boundaries of the sorted tile)
//     radix_scan         one work-group per segment: the histograms become each (tile, digit)'s
//                        prefix over the segment's earlier tiles, and each digit's first
//                        output position in the segment is recorded
//     radix_downsweep    scatters each sorted tile to those positions (runs of equal digits)
//   radix_copy_back      segments that ended in the alternate buffer are copied back
// (radix_scan, radix_downsweep and radix_copy_back are in radix_scatter.cl, concatenated after this file.)
//
// With RADIX_RANK_IN_DOWNSWEEP 1 (work-groups of RADIX_GROUP > 1 only), the upsweep only counts
// the tile's digits (local atomic increments into RADIX_COPIES histograms, work-item lid into
// copy lid % RADIX_COPIES, so that the work-items of one SIMD group that meet the same digit
// mostly hit different copies),
// and the downsweep sorts its tile in local memory before scattering it: the keys cross global
// memory three times a pass instead of four (the layout of GPUSorting's DeviceRadixSort and
// CUB's). The counts are exact whatever order the atomics take, so the sort stays deterministic.
//
// With one work-item per tile (RADIX_GROUP 1, the layout of CPU devices, which run a
// work-group's work-items one after another), a work-item reads its tile in key order: the
// upsweep only counts the digits and the downsweep scatters each key straight to its output
// position. Key order is already stable, so there is no local ranking and no sorted tile to
// write back (the RADIX_GROUP == 1 forms of radix_upsweep and radix_downsweep).
//
// A segment is a range [begin, end) of the key array; its tiles hold RADIX_TILE keys each
// (the last one fewer). Segment table entries (uint4): begin, end, first tile, unused.
// Constants from the host: RADIX_GROUP (work-items per work-group, a power of two up to 256),
// RADIX_ITEMS (keys per work-item; RADIX_GROUP * RADIX_ITEMS <= 65535) and RADIX_SPLIT_BITS
// (4 or 8: the digit width of one counting split; 8 needs RADIX_GROUP * 256 counters) and
// RADIX_RANK_IN_DOWNSWEEP (0: the upsweep sorts the tile, 1: the downsweep does).

#define RADIX_TILE (RADIX_GROUP * RADIX_ITEMS)
#define RADIX_SPLIT_BINS (1u << RADIX_SPLIT_BITS)
#define RADIX_BINS 256
#define RADIX_SKIP 0xFFFFFFFFu
// Tiles whose counts radix_scan loads together (a kernel-internal unrolling, not a layout).
#define RADIX_SCAN_BATCH 8
// One padding slot per 16 keys: the blocked reads (stride RADIX_ITEMS) hit distinct banks.
#define RADIX_PAD(j) ((j) + ((j) >> 4))
#define RADIX_LOCAL_KEYS RADIX_PAD(RADIX_TILE)
// Local histograms of the counting upsweep: work-item lid counts into copy lid % RADIX_COPIES,
// digit d of that copy at d * RADIX_COPIES + copy (the copies of one digit in distinct banks).
#define RADIX_COPIES (RADIX_GROUP < 8 ? RADIX_GROUP : 8)

inline uint radix_digit(ulong key, uint shift) {
    return (uint)(key >> (32 + shift)) & 0xFFu;
}

// The bit shift of the digit that `pass` sorts for a segment whose bytes 1..3 vary as in
// bits 1..3 of `varying`, or RADIX_SKIP when the segment has no pass left. Pass 0 sorts byte 0.
inline uint radix_pass_shift(uint pass, uint varying) {
    if (pass == 0) return 0;
    uint seen = 0;
    for (uint byte = 1; byte < 4; ++byte) {
        if ((varying >> byte) & 1u) {
            seen += 1;
            if (seen == pass) return 8 * byte;
        }
    }
    return RADIX_SKIP;
}

// Inclusive scan of values[0 .. RADIX_GROUP) in place (Hillis-Steele); every work-item calls it.
inline void radix_scan_local(__local uint *values, uint lid) {
    for (uint offset = 1; offset < RADIX_GROUP; offset <<= 1) {
        uint v = values[lid];
        uint before = lid >= offset ? values[lid - offset] : 0u;
        barrier(CLK_LOCAL_MEM_FENCE);
        values[lid] = v + before;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

// Stable counting split of the tile by the RADIX_SPLIT_BITS-bit digit at `shift` of the high word.
// keys[i] is the key at position lid * RADIX_ITEMS + i before, and after when `reload` (the
// sorted tile is in `tile` either way). Work-item lid counts
// its own keys in column lid of `counters` (digit-major), so the exclusive scan of the
// counters in memory order is each (digit, work-item)'s first position: no atomics.
inline void radix_split(ulong *keys, __local ulong *tile, __local ushort *counters, __local uint *partial,
                        uint shift, uint lid, bool reload) {
    for (uint d = 0; d < RADIX_SPLIT_BINS; ++d) counters[d * RADIX_GROUP + lid] = 0;
    for (uint i = 0; i < RADIX_ITEMS; ++i) {
        uint d = (uint)(keys[i] >> (32 + shift)) & (RADIX_SPLIT_BINS - 1);
        counters[d * RADIX_GROUP + lid] += 1;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    // Work-item lid scans its RADIX_SPLIT_BINS consecutive counters on top of the earlier ones' totals.
    __local ushort *mine = counters + lid * RADIX_SPLIT_BINS;
    uint own = 0;
    for (uint j = 0; j < RADIX_SPLIT_BINS; ++j) own += mine[j];
    partial[lid] = own;
    barrier(CLK_LOCAL_MEM_FENCE);
    radix_scan_local(partial, lid);
    uint running = partial[lid] - own;
    for (uint j = 0; j < RADIX_SPLIT_BINS; ++j) {
        uint c = mine[j];
        mine[j] = (ushort)running;
        running += c;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint i = 0; i < RADIX_ITEMS; ++i) {
        uint d = (uint)(keys[i] >> (32 + shift)) & (RADIX_SPLIT_BINS - 1);
        uint position = counters[d * RADIX_GROUP + lid];
        counters[d * RADIX_GROUP + lid] = (ushort)(position + 1);
        tile[RADIX_PAD(position)] = keys[i];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (reload) {
        for (uint i = 0; i < RADIX_ITEMS; ++i) keys[i] = tile[RADIX_PAD(lid * RADIX_ITEMS + i)];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

// tile_segment[t] = k for every tile t of segment k. One work-item per segment.
__kernel void radix_tile_segments(__global const uint4 *segments, __global uint *tile_segment, uint segment_count) {
    uint k = get_global_id(0);
    if (k >= segment_count) return;
    uint4 s = segments[k];
    uint tiles = (s.y - s.x + RADIX_TILE - 1) / RADIX_TILE;
    for (uint t = 0; t < tiles; ++t) tile_segment[s.z + t] = k;
}

// The tile of work-group `tile`: its segment, first key and key count.
inline uint radix_tile(__global const uint4 *segments, __global const uint *tile_segment, uint tile,
                       size_t *base, uint *count) {
    uint k = tile_segment[tile];
    uint4 s = segments[k];
    *base = (size_t)s.x + (size_t)(tile - s.z) * RADIX_TILE;
    *count = min((uint)RADIX_TILE, (uint)((size_t)s.y - *base));
    return k;
}

// The tile of work-group `tile` (its segment *k, first key and key count) and the bit shift of
// the digit `pass` sorts there, RADIX_SKIP when its segment has no such pass.
inline uint radix_tile_pass(__global const uint4 *segments, __global const uint *tile_segment,
                            __global const uint *varying, uint tile, uint pass, uint *k, size_t *base,
                            uint *count) {
    *k = radix_tile(segments, tile_segment, tile, base, count);
    return radix_pass_shift(pass, pass == 0 ? 0u : varying[*k]);
}

#if RADIX_GROUP == 1
// Writes the histogram of tile get_group_id(0)'s digits to histograms[tile * 256 + digit],
// leaving the keys in place (radix_downsweep scatters them in key order). Pass 0 also writes
// the AND and OR of the tile's high words to tile_bits[2 tile], [2 tile + 1].
__kernel void radix_upsweep(__global ulong *keys, __global const uint4 *segments,
                            __global const uint *tile_segment, __global const uint *varying,
                            __global uint *histograms, __global uint *tile_bits, uint pass) {
    uint group = get_group_id(0), k, count;
    size_t base;
    uint shift = radix_tile_pass(segments, tile_segment, varying, group, pass, &k, &base, &count);
    if (shift == RADIX_SKIP) return;
    uint counts[RADIX_BINS];
    for (uint d = 0; d < RADIX_BINS; ++d) counts[d] = 0;
    uint all = 0xFFFFFFFFu, any = 0;
    for (uint j = 0; j < count; ++j) {
        uint high = (uint)(keys[base + j] >> 32);
        all &= high;
        any |= high;
        counts[(high >> shift) & 0xFFu] += 1;
    }
    if (pass == 0) {
        tile_bits[2 * (size_t)group] = all;
        tile_bits[2 * (size_t)group + 1] = any;
    }
    for (uint d = 0; d < RADIX_BINS; ++d) histograms[(size_t)group * RADIX_BINS + d] = counts[d];
}
#else
// Writes the AND of every work-item's `all` to tile_bits[2 group] and the OR of their `any`
// to tile_bits[2 group + 1]; every work-item calls it.
inline void radix_write_tile_bits(uint all, uint any, __local uint *partial, __global uint *tile_bits,
                                  uint group, uint lid) {
    partial[lid] = all;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint width = RADIX_GROUP / 2; width > 0; width >>= 1) {
        if (lid < width) partial[lid] &= partial[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) tile_bits[2 * (size_t)group] = partial[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    partial[lid] = any;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint width = RADIX_GROUP / 2; width > 0; width >>= 1) {
        if (lid < width) partial[lid] |= partial[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) tile_bits[2 * (size_t)group + 1] = partial[0];
}

// Loads the tile of `count` keys at `base` of `source` into local `tile` (strided, coalesced;
// sentinels after a short tile's keys) and work-item lid's RADIX_ITEMS consecutive keys of it
// into `own`; every work-item calls it.
inline void radix_load_tile(__global const ulong *source, __local ulong *tile, ulong *own, size_t base,
                            uint count, uint lid) {
    for (uint i = 0; i < RADIX_ITEMS; ++i) {
        uint j = lid + i * RADIX_GROUP;
        tile[RADIX_PAD(j)] = j < count ? source[base + j] : SENTINEL_KEY;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint i = 0; i < RADIX_ITEMS; ++i) own[i] = tile[RADIX_PAD(lid * RADIX_ITEMS + i)];
    barrier(CLK_LOCAL_MEM_FENCE);
}

// Sorts the tile loaded by radix_load_tile stably by the 8-bit digit at `shift`, in counting
// splits of RADIX_SPLIT_BITS bits; the sorted tile is in `tile` (sentinels last). Every
// work-item calls it.
inline void radix_sort_tile(ulong *own, __local ulong *tile, __local ushort *counters, __local uint *partial,
                            uint shift, uint lid) {
    for (uint bits = 0; bits < 8; bits += RADIX_SPLIT_BITS)
        radix_split(own, tile, counters, partial, shift + bits, lid, bits + RADIX_SPLIT_BITS < 8);
}

#if RADIX_RANK_IN_DOWNSWEEP
// Writes the histogram of tile get_group_id(0)'s digits to histograms[tile * 256 + digit],
// leaving the keys in place (radix_downsweep sorts and scatters them). Pass 0 also writes the
// AND and OR of the tile's high words to tile_bits[2 tile], [2 tile + 1].
__kernel void radix_upsweep(__global ulong *keys, __global const uint4 *segments,
                            __global const uint *tile_segment, __global const uint *varying,
                            __global uint *histograms, __global uint *tile_bits, uint pass) {
    __local uint counts[RADIX_COPIES * RADIX_BINS];
    __local uint partial[RADIX_GROUP];
    uint lid = get_local_id(0);
    uint group = get_group_id(0), k, count;
    size_t base;
    uint shift = radix_tile_pass(segments, tile_segment, varying, group, pass, &k, &base, &count);
    if (shift == RADIX_SKIP) return;  // the whole work-group

    for (uint d = lid; d < RADIX_COPIES * RADIX_BINS; d += RADIX_GROUP) counts[d] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    uint copy = lid % RADIX_COPIES;
    uint all = 0xFFFFFFFFu, any = 0;
    for (uint i = 0; i < RADIX_ITEMS; ++i) {
        uint j = lid + i * RADIX_GROUP;
        if (j < count) {
            uint high = (uint)(keys[base + j] >> 32);
            all &= high;
            any |= high;
            atomic_inc(&counts[((high >> shift) & 0xFFu) * RADIX_COPIES + copy]);
        }
    }
    if (pass == 0) radix_write_tile_bits(all, any, partial, tile_bits, group, lid);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint d = lid; d < RADIX_BINS; d += RADIX_GROUP) {
        uint total = 0;
        for (uint c = 0; c < RADIX_COPIES; ++c) total += counts[d * RADIX_COPIES + c];
        histograms[(size_t)group * RADIX_BINS + d] = total;
    }
}
#else
// Sorts tile get_group_id(0) of `keys` in place by the pass's digit and writes its histogram
// to histograms[tile * 256 + digit]. Pass 0 also writes the AND and OR of the tile's high
// words to tile_bits[2 tile], [2 tile + 1] (which bytes vary).
__kernel void radix_upsweep(__global ulong *keys, __global const uint4 *segments,
                            __global const uint *tile_segment, __global const uint *varying,
                            __global uint *histograms, __global uint *tile_bits, uint pass) {
    __local ulong tile[RADIX_LOCAL_KEYS];
    __local ushort counters[RADIX_SPLIT_BINS * RADIX_GROUP];
    __local uint partial[RADIX_GROUP];
    __local uint starts[RADIX_BINS];
    __local uint ends[RADIX_BINS];
    uint lid = get_local_id(0);
    uint group = get_group_id(0), k, count;
    size_t base;
    uint shift = radix_tile_pass(segments, tile_segment, varying, group, pass, &k, &base, &count);
    if (shift == RADIX_SKIP) return;  // the whole work-group

    for (uint d = lid; d < RADIX_BINS; d += RADIX_GROUP) { starts[d] = 0; ends[d] = 0; }
    ulong own[RADIX_ITEMS];
    radix_load_tile(keys, tile, own, base, count, lid);
    uint all = 0xFFFFFFFFu, any = 0;
    for (uint i = 0; i < RADIX_ITEMS; ++i) {
        if (lid * RADIX_ITEMS + i < count) {
            uint high = (uint)(own[i] >> 32);
            all &= high;
            any |= high;
        }
    }
    if (pass == 0) radix_write_tile_bits(all, any, partial, tile_bits, group, lid);
    barrier(CLK_LOCAL_MEM_FENCE);
    radix_sort_tile(own, tile, counters, partial, shift, lid);

    // The tile holds the sorted keys; the sentinels of a short tile sort after the real keys.
    for (uint i = 0; i < RADIX_ITEMS; ++i) {
        uint j = lid + i * RADIX_GROUP;
        if (j < count) {
            ulong key = tile[RADIX_PAD(j)];
            keys[base + j] = key;
            uint d = radix_digit(key, shift);
            if (j == 0 || radix_digit(tile[RADIX_PAD(j - 1)], shift) != d) starts[d] = j;
            if (j + 1 == count || radix_digit(tile[RADIX_PAD(j + 1)], shift) != d) ends[d] = j + 1;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint d = lid; d < RADIX_BINS; d += RADIX_GROUP)
        histograms[(size_t)group * RADIX_BINS + d] = ends[d] - starts[d];
}
#endif  // RADIX_RANK_IN_DOWNSWEEP
#endif  // RADIX_GROUP == 1
