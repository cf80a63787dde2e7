// Segmented inclusive scan of the foreground bits (bit 0 of each sorted key): counts[i] is
// the number of foreground pixels at sorted positions <= i of i's segment, within i's tile of
// SCAN_TILE keys; exclusive_scan_per_segment over the tile totals gives what earlier tiles of
// the same segment held when a segment spans several tiles. Integer counts: exact for any
// segment length.

// Segments of `padded` keys: a power of two, or a multiple of SCAN_TILE.
__kernel void scan_foreground(__global const ulong *keys, __global uint *counts,
                              __global uint *tile_totals, uint padded) {
    __local uint values[LOCAL_SIZE];
    __local uint flags[LOCAL_SIZE];
    uint lid = get_local_id(0);
    size_t tile_base = get_group_id(0) * (size_t)SCAN_TILE;
    size_t first = tile_base + (size_t)lid * SCAN_ITEMS;

    // Sequential scan of this work-item's items, restarting at segment starts (`padded` is
    // any length; `offset` is i's position within its segment).
    uint first_offset = (uint)(first % padded);
    uint running = 0, restarted = 0, offset = first_offset;
    for (uint t = 0; t < SCAN_ITEMS; ++t) {
        size_t i = first + t;
        if (offset == 0) { running = 0; restarted = 1; }
        running += (uint)(keys[i] & 1UL);
        offset = offset + 1 == padded ? 0u : offset + 1;
    }
    values[lid] = running;
    flags[lid] = restarted;
    barrier(CLK_LOCAL_MEM_FENCE);

    // Hillis-Steele segmented inclusive scan of the per-item totals.
    for (uint offset = 1; offset < LOCAL_SIZE; offset <<= 1) {
        uint v = values[lid], f = flags[lid];
        uint pv = 0, pf = 0;
        if (lid >= offset) { pv = values[lid - offset]; pf = flags[lid - offset]; }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid >= offset) {
            if (!f) v = pv + v;
            f = f | pf;
        }
        values[lid] = v;
        flags[lid] = f;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    uint carry = lid > 0 ? values[lid - 1] : 0u;

    running = carry;
    offset = first_offset;
    for (uint t = 0; t < SCAN_ITEMS; ++t) {
        size_t i = first + t;
        if (offset == 0) running = 0;
        running += (uint)(keys[i] & 1UL);
        counts[i] = running;
        offset = offset + 1 == padded ? 0u : offset + 1;
    }
    if (lid == LOCAL_SIZE - 1) tile_totals[get_group_id(0)] = running;
}

// offsets: the exclusive prefix sums of `counts` within each segment of `per_segment` counts;
// totals[k]: segment k's sum. One work-group per segment. Used for the carries between scan
// tiles (counts: the tiles' foreground totals) and for the kept keys (counts: per block).
__kernel void exclusive_scan_per_segment(__global const uint *counts, __global uint *offsets,
                                         __global uint *totals, uint per_segment) {
    __local uint values[LOCAL_SIZE];
    uint lid = get_local_id(0);
    size_t base = get_group_id(0) * (size_t)per_segment;
    uint running = 0;
    for (uint chunk = 0; chunk < per_segment; chunk += LOCAL_SIZE) {
        uint t = chunk + lid;
        uint own = t < per_segment ? counts[base + t] : 0u;
        uint inclusive = lovasz_group_inclusive_scan(values, lid, own);
        if (t < per_segment) offsets[base + t] = running + inclusive - own;
        uint chunk_total = values[LOCAL_SIZE - 1];
        barrier(CLK_LOCAL_MEM_FENCE);
        running += chunk_total;
    }
    if (lid == 0) totals[get_group_id(0)] = running;
}
