// Shared definitions of the Lovász kernels. The host concatenates the Kernels/*.cl files in
// the order of KernelSource.files and builds them as one program with -D options:
//   LOCAL_KEYS   keys held in local memory by one bitonic work-group (a power of two)
//   LOCAL_SIZE   work-items per work-group for the sort, scan and reduction kernels
//   SCAN_ITEMS   elements each work-item scans sequentially (LOCAL_SIZE * SCAN_ITEMS = scan tile)
//   LOVASZ_FP64  defined when the device has cl_khr_fp64: gradients and loss sums in double
//
// No kernel relies on fused multiply-add, relaxed math or warp-synchronous execution.
#pragma OPENCL FP_CONTRACT OFF

#ifdef LOVASZ_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

#define SENTINEL_KEY 0xFFFFFFFFFFFFFFFFUL
#define SEGMENT_FIELDS 8
// Fields of one segment in the segment table (uint each):
#define SEG_COUNT 0        // valid pixels in the group (n)
#define SEG_CHANNEL 1      // score channel the errors come from
#define SEG_FOREGROUND 2   // label value that is foreground
#define SEG_FG_COUNT 3     // foreground pixels in the group
#define SEG_FIRST_PIXEL 4  // flat index b*S+s of the group's first pixel
#define SEG_VALID_OFFSET 5 // start of the group in the valid-pixel list
#define SEG_HAS_LIST 6     // 1 when ranks map through the valid-pixel list

// x, or zero when |x| is below the smallest normal float (as PortableMath.flushSubnormal).
inline float lovasz_flush(float x) {
    return fabs(x) < FLT_MIN ? 0.0f : x;
}

// e^x for x <= 0 by the operations of PortableMath.expNonPositive, in the same order.
inline float lovasz_exp(float x) {
    if (!(x >= -87.0f)) return 0.0f;
    const float shifter = 12582912.0f;
    float n = ((x * 1.44269504f) + shifter) - shifter;
    float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = ((p * r) * r + r) + 1.0f;
    float scale = as_float((uint)((int)n + 127) << 23);
    return lovasz_flush(y * scale);
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
