// Planning on the device: the labels validated and mapped to classes, the class counts of
// every group, and the list of valid (non-ignored) pixels, so that the host never passes over
// the labels. The host reads back only the group counts (and the first bad label).
//
// A group (the batch, or one image when per image) of `group_pixels` pixels is cut into
// `parts` parts of at most `part_pixels` consecutive pixels. Work-item j owns part j and alone
// writes its row of `label_classes` counts: no atomics on the counts, the same numbers on every
// run, and the work is linear in pixels + parts * classes (one-pixel images stay cheap).

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

// group_counts[g * label_classes + c]: the sum of the group's part rows (when parts > 1).
__kernel void plan_group_counts(__global const uint *part_counts, __global uint *group_counts,
                                uint groups, uint parts, uint label_classes) {
    uint i = get_global_id(0);
    if (i >= groups * label_classes) return;
    uint g = i / label_classes, c = i - g * label_classes;
    __global const uint *column = part_counts + (size_t)g * parts * label_classes + c;
    uint sum = 0u;
    for (uint k = 0; k < parts; ++k) sum += column[(size_t)k * label_classes];
    group_counts[i] = sum;
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
