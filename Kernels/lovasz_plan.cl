// Planning on the device: the labels validated and mapped to classes, the class counts of
// every group, and the list of valid (non-ignored) pixels, so that the host never passes over
// the labels. The host reads back only the group counts and the first bad label, in one read.
//
// A group (the batch, or one image when per image) of `group_pixels` pixels is cut into
// `parts` parts of at most `part_pixels` consecutive pixels, each of which writes its own row
// of `label_classes` counts (no global atomics on counts: the same numbers on every run). Large
// groups take one work-group per part (plan_labels_grouped_*: coalesced reads, counts in a
// local histogram of PLAN_BINS bins, spread over `copies` copies so that equal labels seldom
// meet at one address); small groups, and more classes than PLAN_BINS, take one work-item per
// part (plan_labels_*), so a million one-pixel images stay cheap. The work is linear in
// pixels + parts * classes either way.

// class_of[p]: the class of pixel p, or -1 when it is ignored or out of range;
// part_counts[j * label_classes + c]: pixels of part j labelled c;
// status[0]: the smallest flat index of a label outside 0..<label_classes that is not the
// ignore index (atomic_min only on bad labels, which end the call).
#define LOVASZ_PLAN_LABELS(NAME, TYPE)                                                              \
    __kernel void NAME(__global const TYPE *labels, ulong label_offset, uint groups, uint group_pixels, \
                       uint parts, uint part_pixels, uint label_classes, uint has_ignore, long ignore,   \
                       __global int *class_of, __global uint *part_counts,                          \
                       __global volatile uint *status) {                                            \
        uint j = get_global_id(0);                                                                  \
        if (j >= groups * parts) return;                                                            \
        uint g = j / parts, part = j - g * parts;                                                   \
        uint start = g * group_pixels + part * part_pixels;                                         \
        uint end = min(start + part_pixels, (g + 1) * group_pixels);                                \
        __global uint *row = part_counts + (size_t)j * label_classes;                               \
        for (uint c = 0; c < label_classes; ++c) row[c] = 0u;                                       \
        __global const TYPE *source = labels + label_offset;                                        \
        for (uint p = start; p < end; ++p) {                                                        \
            long value = (long)source[p];                                                           \
            int label_class = -1;                                                                   \
            if (!(has_ignore && value == ignore)) {                                                 \
                if (value >= 0 && value < (long)label_classes) {                                    \
                    label_class = (int)value;                                                       \
                    row[label_class] += 1u;                                                         \
                } else {                                                                            \
                    atomic_min(&status[0], p);                                                      \
                }                                                                                   \
            }                                                                                       \
            class_of[p] = label_class;                                                              \
        }                                                                                           \
    }

LOVASZ_PLAN_LABELS(plan_labels_uint8, uchar)
LOVASZ_PLAN_LABELS(plan_labels_int32, int)
LOVASZ_PLAN_LABELS(plan_labels_int64, long)

// The same outputs with one work-group per part: work-item `lid` visits pixels start + lid,
// start + lid + LOCAL_SIZE, ... (coalesced), counting into copy `lid % copies` of the local
// histogram (copies * label_classes <= PLAN_BINS); the row is the sum of the copies.
#define LOVASZ_PLAN_LABELS_GROUPED(NAME, TYPE)                                                      \
    __kernel void NAME(__global const TYPE *labels, ulong label_offset, uint groups, uint group_pixels, \
                       uint parts, uint part_pixels, uint label_classes, uint copies, uint has_ignore,   \
                       long ignore, __global int *class_of, __global uint *part_counts,             \
                       __global volatile uint *status) {                                            \
        __local uint histogram[PLAN_BINS];                                                          \
        uint lid = get_local_id(0);                                                                 \
        uint j = get_group_id(0);                                                                   \
        uint g = j / parts, part = j - g * parts;                                                   \
        uint start = g * group_pixels + part * part_pixels;                                         \
        uint end = min(start + part_pixels, (g + 1) * group_pixels);                                \
        for (uint i = lid; i < copies * label_classes; i += LOCAL_SIZE) histogram[i] = 0u;          \
        barrier(CLK_LOCAL_MEM_FENCE);                                                               \
        __local uint *own = histogram + (lid % copies) * label_classes;                             \
        __global const TYPE *source = labels + label_offset;                                        \
        for (uint p = start + lid; p < end; p += LOCAL_SIZE) {                                      \
            long value = (long)source[p];                                                           \
            int label_class = -1;                                                                   \
            if (!(has_ignore && value == ignore)) {                                                 \
                if (value >= 0 && value < (long)label_classes) {                                    \
                    label_class = (int)value;                                                       \
                    atomic_inc(&own[label_class]);                                                  \
                } else {                                                                            \
                    atomic_min(&status[0], p);                                                      \
                }                                                                                   \
            }                                                                                       \
            class_of[p] = label_class;                                                              \
        }                                                                                           \
        barrier(CLK_LOCAL_MEM_FENCE);                                                               \
        __global uint *row = part_counts + (size_t)j * label_classes;                               \
        for (uint c = lid; c < label_classes; c += LOCAL_SIZE) {                                    \
            uint sum = 0u;                                                                          \
            for (uint k = 0; k < copies; ++k) sum += histogram[k * label_classes + c];              \
            row[c] = sum;                                                                           \
        }                                                                                           \
    }

LOVASZ_PLAN_LABELS_GROUPED(plan_labels_grouped_uint8, uchar)
LOVASZ_PLAN_LABELS_GROUPED(plan_labels_grouped_int32, int)
LOVASZ_PLAN_LABELS_GROUPED(plan_labels_grouped_int64, long)

// result[1 + g * label_classes + c]: the sum of the group's part rows (result[0] is the
// status word of the labels kernel, so that one read brings both back).
__kernel void plan_group_counts(__global const uint *part_counts, __global uint *result,
                                uint groups, uint parts, uint label_classes) {
    uint i = get_global_id(0);
    if (i >= groups * label_classes) return;
    uint g = i / label_classes, c = i - g * label_classes;
    __global const uint *column = part_counts + (size_t)g * parts * label_classes + c;
    uint sum = 0u;
    for (uint k = 0; k < parts; ++k) sum += column[(size_t)k * label_classes];
    result[1 + (size_t)i] = sum;
}

inline uint lovasz_part_valid(__global const uint *part_counts, size_t part, uint label_classes) {
    __global const uint *row = part_counts + part * label_classes;
    uint sum = 0u;
    for (uint c = 0; c < label_classes; ++c) sum += row[c];
    return sum;
}

// part_offsets[g * parts + k]: valid pixels of group g before its part k. One work-group per
// group; each work-item sums a run of consecutive parts, then a work-group scan.
__kernel void plan_part_offsets(__global const uint *part_counts, __global uint *part_offsets,
                                uint parts, uint label_classes) {
    __local uint prefix[LOCAL_SIZE];
    uint lid = get_local_id(0);
    size_t base = (size_t)get_group_id(0) * parts;
    uint per = (parts + LOCAL_SIZE - 1) / LOCAL_SIZE;
    uint first = min(lid * per, parts), last = min(first + per, parts);
    uint own = 0u;
    for (uint k = first; k < last; ++k) own += lovasz_part_valid(part_counts, base + k, label_classes);
    uint running = lovasz_group_inclusive_scan(prefix, lid, own) - own;
    for (uint k = first; k < last; ++k) {
        part_offsets[base + k] = running;
        running += lovasz_part_valid(part_counts, base + k, label_classes);
    }
}

// valid_pixels: the flat index of every non-ignored pixel, in order. group_offsets[g] is the
// group's start in the list (from the host's counts); part_offsets is read when parts > 1.
__kernel void plan_valid_pixels(__global const int *class_of, __global const uint *part_offsets,
                                __global const uint *group_offsets, __global uint *valid_pixels,
                                uint groups, uint group_pixels, uint parts, uint part_pixels) {
    uint j = get_global_id(0);
    if (j >= groups * parts) return;
    uint g = j / parts, part = j - g * parts;
    uint start = g * group_pixels + part * part_pixels;
    uint end = min(start + part_pixels, (g + 1) * group_pixels);
    uint at = group_offsets[g] + (parts > 1 ? part_offsets[j] : 0u);
    for (uint p = start; p < end; ++p) {
        if (class_of[p] >= 0) valid_pixels[at++] = p;
    }
}

// The same list with one work-group per part: each work-item takes a run of consecutive
// pixels of the part, a work-group scan of the runs' valid counts places them in order.
__kernel void plan_valid_pixels_grouped(__global const int *class_of, __global const uint *part_offsets,
                                        __global const uint *group_offsets, __global uint *valid_pixels,
                                        uint groups, uint group_pixels, uint parts, uint part_pixels) {
    __local uint prefix[LOCAL_SIZE];
    uint lid = get_local_id(0);
    uint j = get_group_id(0);
    uint g = j / parts, part = j - g * parts;
    uint start = g * group_pixels + part * part_pixels;
    uint end = min(start + part_pixels, (g + 1) * group_pixels);
    uint per = (part_pixels + LOCAL_SIZE - 1) / LOCAL_SIZE;
    uint first = min(start + lid * per, end), last = min(first + per, end);
    uint own = 0u;
    for (uint p = first; p < last; ++p) own += class_of[p] >= 0 ? 1u : 0u;
    uint at = group_offsets[g] + (parts > 1 ? part_offsets[j] : 0u) + lovasz_group_inclusive_scan(prefix, lid, own) - own;
    for (uint p = first; p < last; ++p) {
        if (class_of[p] >= 0) valid_pixels[at++] = p;
    }
}
