// Segmented bitonic sort of packed 64-bit keys. The key array holds segments of `padded`
// keys each (a power of two; sentinels fill the tail), and every segment is sorted
// ascending: at stage k the pair direction is ascending when k == padded (the final merge of
// a segment) or when bit k of the index is clear. Barriers are reached by every work-item of
// the group the same number of times.

inline void lovasz_compare_swap(__local ulong *tile, uint i, uint j, bool ascending) {
    ulong a = tile[i], b = tile[i + j];
    if ((a > b) == ascending) {
        tile[i] = b;
        tile[i + j] = a;
    }
}

// Sorts blocks of LOCAL_KEYS keys in local memory: stages k = 2 .. min(LOCAL_KEYS, padded).
__kernel void bitonic_sort_local(__global ulong *keys, uint padded) {
    __local ulong tile[LOCAL_KEYS];
    size_t base = get_group_id(0) * (size_t)LOCAL_KEYS;
    for (uint t = get_local_id(0); t < LOCAL_KEYS; t += LOCAL_SIZE) tile[t] = keys[base + t];
    barrier(CLK_LOCAL_MEM_FENCE);
    uint last = min((uint)LOCAL_KEYS, padded);
    for (uint k = 2; k <= last; k <<= 1) {
        for (uint j = k >> 1; j > 0; j >>= 1) {
            for (uint t = get_local_id(0); t < LOCAL_KEYS / 2; t += LOCAL_SIZE) {
                uint i = 2 * t - (t & (j - 1));
                bool ascending = (k == padded) || (((base + i) & k) == 0);
                lovasz_compare_swap(tile, i, j, ascending);
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
    for (uint t = get_local_id(0); t < LOCAL_KEYS; t += LOCAL_SIZE) keys[base + t] = tile[t];
}

// One merge step of stage k at a stride j >= LOCAL_KEYS, one pair per work-item.
__kernel void bitonic_merge_global(__global ulong *keys, uint k, uint j, uint padded) {
    size_t t = get_global_id(0);
    size_t i = 2 * t - (t & (size_t)(j - 1));
    bool ascending = (k == padded) || ((i & k) == 0);
    ulong a = keys[i], b = keys[i + j];
    if ((a > b) == ascending) {
        keys[i] = b;
        keys[i + j] = a;
    }
}

// The strides LOCAL_KEYS/2 .. 1 of stage k > LOCAL_KEYS, in local memory.
__kernel void bitonic_merge_local(__global ulong *keys, uint k, uint padded) {
    __local ulong tile[LOCAL_KEYS];
    size_t base = get_group_id(0) * (size_t)LOCAL_KEYS;
    for (uint t = get_local_id(0); t < LOCAL_KEYS; t += LOCAL_SIZE) tile[t] = keys[base + t];
    barrier(CLK_LOCAL_MEM_FENCE);
    bool ascending = (k == padded) || ((base & k) == 0);
    for (uint j = LOCAL_KEYS / 2; j > 0; j >>= 1) {
        for (uint t = get_local_id(0); t < LOCAL_KEYS / 2; t += LOCAL_SIZE) {
            uint i = 2 * t - (t & (j - 1));
            lovasz_compare_swap(tile, i, j, ascending);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (uint t = get_local_id(0); t < LOCAL_KEYS; t += LOCAL_SIZE) keys[base + t] = tile[t];
}

// Three merge steps of stage k at the strides 4q, 2q and q (q = quarter >= LOCAL_KEYS) in
// one pass: each work-item holds the 8 keys i0 + m*q (m = 0..7) in registers, which the three
// steps only exchange among themselves. The same compare-exchanges as three single passes.
__kernel void bitonic_merge_global_x8(__global ulong *keys, uint k, uint quarter, uint padded) {
    size_t t = get_global_id(0);
    uint shift = 31 - clz(quarter);
    size_t low = t & (size_t)(quarter - 1);
    size_t i0 = low | ((t >> shift) << (shift + 3));
    bool ascending = (k == padded) || ((i0 & k) == 0);
    ulong v[8];
    for (uint m = 0; m < 8; ++m) v[m] = keys[i0 + (size_t)m * quarter];
    for (uint width = 4; width > 0; width >>= 1) {
        for (uint m = 0; m < 8; ++m) {
            if ((m & width) == 0) {
                ulong a = v[m], b = v[m + width];
                if ((a > b) == ascending) { v[m] = b; v[m + width] = a; }
            }
        }
    }
    for (uint m = 0; m < 8; ++m) keys[i0 + (size_t)m * quarter] = v[m];
}
