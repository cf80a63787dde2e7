// Shared definitions of the Lovász kernels. The host concatenates the Kernels/*.cl files in
// the order of KernelSource.files and builds them as one program with -D options, every one
// of them defined once in Swift (KernelConfiguration.buildOptions, KernelLayout):
//   LOCAL_KEYS      keys held in local memory by one bitonic work-group (a power of two)
//   LOCAL_SIZE      work-items per work-group for the sort, scan and reduction kernels
//   SCAN_ITEMS      elements each work-item scans sequentially (LOCAL_SIZE * SCAN_ITEMS = scan tile)
//   BOUND_ITEMS     ranks each work-item of the cut and compaction kernels visits
//   REDUCE_ITEMS    loss terms each work-item of reduce_term_blocks sums
//   PLAN_BINS       bins of one planning work-group's local class histogram
//   SMALL_SEGMENT   the most pixels of a segment one work-item cuts and compacts alone
//   SENTINEL_KEY    the key that sorts after every real key (pads the sort's segments)
//   LAST_POSITIVE_ERROR  the largest key of a positive error (the hinge's cut never passes it)
//   SEGMENT_FIELDS  uints per segment in the segment table, and the field indices:
//     SEG_COUNT         valid pixels in the group (n)
//     SEG_CHANNEL       score channel the errors come from
//     SEG_FOREGROUND    label value that is foreground
//     SEG_FG_COUNT      foreground pixels in the group
//     SEG_FIRST_PIXEL   flat index b*S+s of the group's first pixel
//     SEG_VALID_OFFSET  start of the group in the valid-pixel list
//     SEG_HAS_LIST      1 when ranks map through the valid-pixel list
//   LOVASZ_FP64     defined when the device has cl_khr_fp64: gradients and loss sums in double
//
// No kernel relies on fused multiply-add, relaxed math or warp-synchronous execution.
#pragma OPENCL FP_CONTRACT OFF

#ifdef LOVASZ_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

#define SCAN_TILE (LOCAL_SIZE * SCAN_ITEMS)
#define BOUND_BLOCK (LOCAL_SIZE * BOUND_ITEMS)
#define REDUCE_BLOCK (LOCAL_SIZE * REDUCE_ITEMS)

// x, or zero when |x| is below the smallest normal float (as PortableMath.flushSubnormal).
inline float lovasz_flush(float x) {
    return fabs(x) < FLT_MIN ? 0.0f : x;
}

// The constants of Cephes' expf (Stephen L. Moshier, Cephes Math Library, single precision
// `expf.c`), the same as PortableMath.expNonPositive:
#define EXP_LOWEST (-87.0f)               // below it e^x < 2^-125.5 and 2^n leaves the normal range: 0
#define EXP_ROUNDING_SHIFTER 12582912.0f  // 1.5 * 2^23: adding it rounds to an integer, ties to even
#define EXP_LOG2E 1.44269504f             // log2(e), Cephes LOG2EF
#define EXP_LN2_HIGH 0.693359375f         // ln 2 split in two (Cephes C1, exact in 9 bits) ...
#define EXP_LN2_LOW (-2.12194440e-4f)     // ... and the rest (Cephes C2): r = x - n ln 2 without cancellation
// Cephes' minimax polynomial for (e^r - 1 - r) / r^2 on |r| <= ln(2)/2, highest degree first.
#define EXP_P0 1.9875691500e-4f
#define EXP_P1 1.3981999507e-3f
#define EXP_P2 8.3334519073e-3f
#define EXP_P3 4.1665795894e-2f
#define EXP_P4 1.6666665459e-1f
#define EXP_P5 5.0000001201e-1f

// Declares n (x / ln 2 rounded to an integer, ties to even) and y (Cephes' polynomial for
// e^(x - n ln 2)) of type T, float or a float vector: the steps of PortableMath.expNonPositive
// in the same order, shared by lovasz_exp and lovasz_exp8.
#define LOVASZ_EXP_STEPS(T, x, n, y)                                              \
    T n = ((x * EXP_LOG2E) + EXP_ROUNDING_SHIFTER) - EXP_ROUNDING_SHIFTER;        \
    T r_ = (x - n * EXP_LN2_HIGH) - n * EXP_LN2_LOW;                              \
    T p_ = EXP_P0;                                                                \
    p_ = p_ * r_ + EXP_P1;                                                        \
    p_ = p_ * r_ + EXP_P2;                                                        \
    p_ = p_ * r_ + EXP_P3;                                                        \
    p_ = p_ * r_ + EXP_P4;                                                        \
    p_ = p_ * r_ + EXP_P5;                                                        \
    T y = ((p_ * r_) * r_ + r_) + 1.0f

// e^x for x <= 0 by the operations of PortableMath.expNonPositive, in the same order.
inline float lovasz_exp(float x) {
    if (!(x >= EXP_LOWEST)) return 0.0f;
    LOVASZ_EXP_STEPS(float, x, n, y);
    float scale = as_float((uint)((int)n + 127) << 23);  // 2^n: n + 127 in 1..127 is a normal exponent
    return lovasz_flush(y * scale);
}

// lovasz_exp on eight lanes at once, each lane by the same operations in the same order (for
// CPU devices, whose compilers do not vectorize the softmax's loop over classes). A lane below
// EXP_LOWEST (or NaN) gives 0 as there; its other results are discarded.
inline float8 lovasz_exp8(float8 x) {
    LOVASZ_EXP_STEPS(float8, x, n, y);
    float8 value = y * as_float8((as_uint8(convert_int8(n)) + 127u) << 23);
    value = fabs(value) < FLT_MIN ? 0.0f : value;
    return x >= EXP_LOWEST ? value : 0.0f;
}

// Correctly rounded a / b: the program is built with -cl-fp32-correctly-rounded-divide-sqrt
// when the device supports it; otherwise, with fp64, the quotient of the doubles rounded once
// more to float is the correctly rounded float quotient (53 >= 2*24 + 2).
inline float lovasz_divide(float a, float b) {
#if defined(LOVASZ_DIVIDE_VIA_DOUBLE)
    return (float)((double)a / (double)b);
#else
    return a / b;
#endif
}

inline float8 lovasz_divide8(float8 a, float8 b) {
#if defined(LOVASZ_DIVIDE_VIA_DOUBLE)
    return convert_float8(convert_double8(a) / convert_double8(b));
#else
    return a / b;
#endif
}

// The logistic sigmoid by the operations of PortableMath.sigmoid.
inline float lovasz_sigmoid(float x) {
    if (x >= 0.0f) return lovasz_flush(lovasz_divide(1.0f, 1.0f + lovasz_exp(-x)));
    float e = lovasz_exp(x);
    return lovasz_flush(lovasz_divide(e, 1.0f + e));
}

// High word of the sort key: ascending key order is descending error order (-0 folded to +0).
inline uint lovasz_descending_bits(float error) {
    uint bits = as_uint(error);
    if (bits == 0x80000000u) bits = 0u;
    return bits ^ (((bits >> 31) - 1u) & 0x7FFFFFFFu);
}

inline float lovasz_error_of_key(ulong key) {
    uint high = (uint)(key >> 32);
    return as_float(high ^ (((high >> 31) - 1u) & 0x7FFFFFFFu));
}

inline ulong lovasz_pack(float error, uint rank, uint foreground) {
    return ((ulong)lovasz_descending_bits(error) << 32) | ((ulong)rank << 1) | (ulong)foreground;
}

// Flat pixel index b*S+s of the pixel at `rank` within a segment's group.
inline uint lovasz_pixel_of_rank(__global const uint *segment, __global const uint *valid_pixels, uint rank) {
    return segment[SEG_HAS_LIST] ? valid_pixels[segment[SEG_VALID_OFFSET] + rank]
                                 : segment[SEG_FIRST_PIXEL] + rank;
}

// Work-group helpers. Every work-item of the group must call them (they contain barriers), and
// each handles LOCAL_SIZE values in local memory, one per work-item.

// Tree reduction of values[0 .. LOCAL_SIZE) into values[0]: COMBINE(a, b) sets values[a] to
// values[a] (+) values[b], in a fixed order (deterministic). Written once as a macro because
// OpenCL C has no generics; the typed helpers below instantiate it.
#define LOVASZ_TREE_REDUCE(lid, COMBINE)                                   \
    do {                                                                   \
        barrier(CLK_LOCAL_MEM_FENCE);                                      \
        for (uint width_ = LOCAL_SIZE / 2; width_ > 0; width_ >>= 1) {     \
            if ((lid) < width_) COMBINE((lid), (lid) + width_);            \
            barrier(CLK_LOCAL_MEM_FENCE);                                  \
        }                                                                  \
    } while (0)

#define LOVASZ_ADD(a, b) values[a] += values[b]

// The sum of every work-item's `own` count.
inline uint lovasz_group_sum_uint(__local uint *values, uint lid, uint own) {
    values[lid] = own;
    LOVASZ_TREE_REDUCE(lid, LOVASZ_ADD);
    return values[0];
}

// The sum of every work-item's `own` term, in a fixed order.
inline acc_t lovasz_group_sum_acc(__local acc_t *values, uint lid, acc_t own) {
    values[lid] = own;
    LOVASZ_TREE_REDUCE(lid, LOVASZ_ADD);
    return values[0];
}
#undef LOVASZ_ADD

// largest[0] = the maximum of every work-item's `high`, smallest[0] = the minimum of its `low`.
inline void lovasz_group_bounds(__local ulong *largest, __local ulong *smallest, uint lid, ulong high, ulong low) {
    largest[lid] = high;
    smallest[lid] = low;
#define LOVASZ_BOUNDS(a, b) { largest[a] = max(largest[a], largest[b]); smallest[a] = min(smallest[a], smallest[b]); }
    LOVASZ_TREE_REDUCE(lid, LOVASZ_BOUNDS);
#undef LOVASZ_BOUNDS
}

// The inclusive prefix sum of every work-item's `own` count up to its own (Hillis-Steele).
// values[LOCAL_SIZE - 1] holds the group's total afterwards, until the next write to values.
inline uint lovasz_group_inclusive_scan(__local uint *values, uint lid, uint own) {
    values[lid] = own;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint offset = 1; offset < LOCAL_SIZE; offset <<= 1) {
        uint v = values[lid];
        uint pv = lid >= offset ? values[lid - offset] : 0u;
        barrier(CLK_LOCAL_MEM_FENCE);
        values[lid] = v + pv;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return values[lid];
}
