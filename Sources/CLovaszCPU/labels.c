// The label pass of the CPU path (see include/lovasz_cpu.h): labels checked, mapped to class
// indices and counted, one pixel at a time or with AVX2 eight (int32, uint8) or four (int64)
// at a time.
#include "lovasz_cpu.h"
#include "features.h"

/// Counter rows: consecutive pixels count into different rows, so that a run of one class
/// does not make every increment wait for the one before it. Row slot `classes` counts the
/// ignored pixels (and is dropped).
#define ROWS 4
#define MOST_ROW_CLASSES 1024

typedef struct label_counts {
    uint32_t *rows;
    size_t width;
    int rows_used;
} label_counts;

/// Stores class index `value` (-1 ... 127 in the one-byte form) at `index` (nowhere when the
/// output has neither form: the labels are only checked and counted).
static inline void store_class(lovasz_class_output out, size_t index, int32_t value) {
    if (out.narrow) out.narrow[index] = (int8_t)value;
    else if (out.wide) out.wide[index] = value;
}

/// One label from `index`; returns 0 when it is bad (neither the ignore value nor a class).
static inline int map_one(
    int64_t value, size_t index, int has_ignore, int64_t ignore, int64_t classes, lovasz_class_output out,
    label_counts *counts, int *ignored)
{
    if (has_ignore && value == ignore) {
        *ignored = 1;
        store_class(out, index, -1);
        return 1;
    }
    if (value < 0 || value >= classes) return 0;
    store_class(out, index, (int32_t)value);
    counts->rows[(index & (size_t)(counts->rows_used - 1)) * counts->width + (size_t)value] += 1;
    return 1;
}

#define SCALAR_LOOP(begin)                                                                        \
    for (size_t k = (begin); k < count; k++) {                                                    \
        if (!map_one((int64_t)labels[k], k, has_ignore, ignore, classes, out, &rows, ignored)) {  \
            first_bad = (int64_t)k;                                                               \
            break;                                                                                \
        }                                                                                         \
    }

/// Sums the rows into `counts` (added to what is there).
static void fold_rows(const label_counts *rows, size_t classes, uint32_t *counts) {
    for (int r = 0; r < rows->rows_used; r++) {
        const uint32_t *row = rows->rows + (size_t)r * rows->width;
        for (size_t c = 0; c < classes; c++) counts[c] += row[c];
    }
}

/// The rows: on the stack for up to MOST_ROW_CLASSES classes, else `counts` itself as one row
/// (whose ignored slot would fall outside it: ignored pixels are then never counted, as
/// `map_one` returns before counting them).
#define WITH_ROWS(body)                                                                           \
    uint32_t stack_rows[ROWS * (MOST_ROW_CLASSES + 1)];                                           \
    label_counts rows;                                                                            \
    if (classes <= MOST_ROW_CLASSES) {                                                            \
        rows.rows = stack_rows;                                                                   \
        rows.width = (size_t)classes + 1;                                                         \
        rows.rows_used = ROWS;                                                                    \
        for (size_t z = 0; z < ROWS * rows.width; z++) stack_rows[z] = 0;                         \
    } else {                                                                                      \
        rows.rows = counts;                                                                       \
        rows.width = (size_t)classes;                                                             \
        rows.rows_used = 1;                                                                       \
    }                                                                                             \
    body                                                                                          \
    if (rows.rows != counts) fold_rows(&rows, (size_t)classes, counts);

#define SCALAR_FORM(name, type)                                                                   \
    LOVASZ_CPU_MAP_LABELS(name, type)                                                             \
    {                                                                                             \
        int64_t first_bad = -1;                                                                   \
        WITH_ROWS(SCALAR_LOOP(0))                                                                 \
        return first_bad;                                                                         \
    }

SCALAR_FORM(lovasz_cpu_map_labels_i64_scalar, int64_t)
SCALAR_FORM(lovasz_cpu_map_labels_i32_scalar, int32_t)
SCALAR_FORM(lovasz_cpu_map_labels_u8_scalar, uint8_t)

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

/// Counts eight labels (their slots: a class, or `classes` for an ignored pixel), lane `l`
/// into row `l % 4`.
AVX2 static inline void count_eight(label_counts *rows, __m256i slots) {
    int32_t slot[8];
    _mm256_storeu_si256((__m256i *)slot, slots);
    uint32_t *r = rows->rows;
    size_t w = rows->width;
    r[slot[0]] += 1;
    r[w + (size_t)slot[1]] += 1;
    r[2 * w + (size_t)slot[2]] += 1;
    r[3 * w + (size_t)slot[3]] += 1;
    r[slot[4]] += 1;
    r[w + (size_t)slot[5]] += 1;
    r[2 * w + (size_t)slot[6]] += 1;
    r[3 * w + (size_t)slot[7]] += 1;
}

/// Up to this many classes, the vector forms count with one vector of counters per class (a
/// comparison and a subtraction per class and eight pixels) instead of eight scalar
/// increments, whose chains of stores and loads on the same counters bound the pass (measured
/// in one process, the hinge per batch's 824 K uint8 labels of two classes: 0.55 -> 0.19 ms on
/// one thread, 0.32-0.40 -> 0.13-0.17 ms on two).
#define FEW_CLASSES 8

/// Counts eight slots (a class, or `classes` for an ignored pixel): into `few` vectors of
/// per-lane counters when `few` > 0 (a constant after inlining), else into the rows.
AVX2 static inline __attribute__((always_inline)) void count_slots(
    label_counts *rows, __m256i *few_counters, const int few, __m256i slots)
{
    if (few > 0) {
        for (int c = 0; c < few; c++)
            few_counters[c] = _mm256_sub_epi32(few_counters[c], _mm256_cmpeq_epi32(slots, _mm256_set1_epi32(c)));
    } else {
        count_eight(rows, slots);
    }
}

/// Adds the per-lane counters of the `few` classes to row 0 and clears them.
AVX2 static inline void fold_few(label_counts *rows, __m256i *few_counters, int few) {
    for (int c = 0; c < few; c++) {
        uint32_t lanes[8];
        _mm256_storeu_si256((__m256i *)lanes, few_counters[c]);
        for (int l = 0; l < 8; l++) rows->rows[c] += lanes[l];
        few_counters[c] = _mm256_setzero_si256();
    }
}

/// Stores eight class indices (-1 ... 127 in the one-byte form: the signed saturating packs
/// keep them) at `i`.
AVX2 static inline __attribute__((always_inline)) void store_eight(lovasz_class_output out, size_t i, __m256i v) {
    if (out.narrow) {
        __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)(out.narrow + i), _mm_packs_epi16(words, words));
    } else if (out.wide) {
        _mm256_storeu_si256((__m256i *)(out.wide + i), v);
    }
}

/// Eight int32 labels at `i` (lanes of `v`): mapped and counted when all are good; returns 0
/// (nothing written) when one is bad, for the scalar loop to find it.
AVX2 static inline __attribute__((always_inline)) int map_eight(
    __m256i v, size_t i, int has_ignore, __m256i ignore_v, __m256i classes_v, lovasz_class_output out,
    label_counts *rows, __m256i *few_counters, const int few, int *ignored)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i is_ignored = has_ignore ? _mm256_cmpeq_epi32(v, ignore_v) : zero;
    __m256i in_range = _mm256_andnot_si256(_mm256_cmpgt_epi32(zero, v), _mm256_cmpgt_epi32(classes_v, v));
    if (_mm256_movemask_epi8(_mm256_or_si256(is_ignored, in_range)) != -1) return 0;
    if (!_mm256_testz_si256(is_ignored, is_ignored)) *ignored = 1;
    store_eight(out, i, _mm256_or_si256(v, is_ignored));
    count_slots(rows, few_counters, few, _mm256_blendv_epi8(v, classes_v, is_ignored));
    return 1;
}

/// The vector forms need the stack rows (a slot for ignored pixels) and classes that fit an
/// int32 lane.
#define VECTOR_APPLIES (classes <= MOST_ROW_CLASSES)

/// Calls `loop(…, few)` with `few` the class count as a constant up to FEW_CLASSES, else 0.
#define WITH_FEW(loop)                                                                            \
    switch (classes) {                                                                            \
    case 1: return loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 1);     \
    case 2: return loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 2);     \
    case 3: return loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 3);     \
    case 4: return loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 4);     \
    case 5: return loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 5);     \
    case 6: return loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 6);     \
    case 7: return loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 7);     \
    case 8: return loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 8);     \
    default: return loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 0);    \
    }

/// The parameters of a vector loop: the map's, and `few`.
#define LOOP_PARAMETERS(type)                                                                     \
    const type *labels, size_t count, int has_ignore, int64_t ignore, int64_t classes,            \
    lovasz_class_output out, uint32_t *counts, int *ignored, const int few

/// The vector form for labels that widen to eight int32 lanes: `LOAD(i)` gives labels `i ..< i + 8`;
/// an ignore value outside `low ... high` (the label type's range) never matches.
#define NARROW_FORM(name, type, low, high, LOAD)                                                  \
    AVX2 static inline __attribute__((always_inline)) int64_t name##_loop(LOOP_PARAMETERS(type))  \
    {                                                                                             \
        int64_t first_bad = -1;                                                                   \
        has_ignore = has_ignore && ignore >= (low) && ignore <= (high);                           \
        const __m256i ignore_v = _mm256_set1_epi32(has_ignore ? (int32_t)ignore : 0);             \
        const __m256i classes_v = _mm256_set1_epi32((int32_t)classes);                            \
        __m256i few_counters[FEW_CLASSES];                                                        \
        for (int c = 0; c < FEW_CLASSES; c++) few_counters[c] = _mm256_setzero_si256();           \
        WITH_ROWS(                                                                                \
            size_t i = 0;                                                                         \
            for (; i + 8 <= count; i += 8) {                                                      \
                if (!map_eight(LOAD(i), i, has_ignore, ignore_v, classes_v, out, &rows,           \
                               few_counters, few, ignored))                                       \
                    break;                                                                        \
            }                                                                                     \
            fold_few(&rows, few_counters, few);                                                   \
            SCALAR_LOOP(i)                                                                        \
        )                                                                                         \
        return first_bad;                                                                         \
    }                                                                                             \
    AVX2 static LOVASZ_CPU_MAP_LABELS(name, type) { WITH_FEW(name##_loop) }

#define LOAD_I32(i) _mm256_loadu_si256((const __m256i *)(labels + (i)))
#define LOAD_U8(i) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(labels + (i))))
NARROW_FORM(map_i32_avx2, int32_t, INT32_MIN, INT32_MAX, LOAD_I32)
NARROW_FORM(map_u8_avx2, uint8_t, 0, 255, LOAD_U8)

/// uint8 labels into one-byte class indices for at most FEW_CLASSES classes: 32 labels at a time
/// as bytes, never widened, each class counted in byte lanes (a comparison and a subtraction per
/// class and 32 pixels) that are summed into 64-bit lanes (`_mm256_sad_epu8`) before they could
/// wrap. With the one-byte map, the hinge per batch's 824 K labels of two classes took 80 µs on
/// one thread and 50 µs on two (Intel Xeon VM, instrumented build), against 196-228 µs and
/// 143-167 µs widened into the four-byte map.
AVX2 static inline __attribute__((always_inline)) int64_t map_u8_bytes_loop(LOOP_PARAMETERS(uint8_t))
{
    int64_t first_bad = -1;
    has_ignore = has_ignore && ignore >= 0 && ignore <= 255;
    const __m256i zero = _mm256_setzero_si256();
    const __m256i ignore_v = _mm256_set1_epi8((char)(has_ignore ? ignore : 0));
    const __m256i last_class = _mm256_set1_epi8((char)(classes - 1));
    __m256i byte_counts[FEW_CLASSES], sums[FEW_CLASSES];
    for (int c = 0; c < FEW_CLASSES; c++) byte_counts[c] = sums[c] = zero;
    WITH_ROWS(
        size_t i = 0;
        int pending = 0;
        for (; i + 32 <= count; i += 32) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(labels + i));
            __m256i is_ignored = has_ignore ? _mm256_cmpeq_epi8(v, ignore_v) : zero;
            __m256i in_range = _mm256_cmpeq_epi8(_mm256_max_epu8(v, last_class), last_class);
            if (_mm256_movemask_epi8(_mm256_or_si256(is_ignored, in_range)) != -1) break;
            if (!_mm256_testz_si256(is_ignored, is_ignored)) *ignored = 1;
            __m256i mapped = _mm256_or_si256(v, is_ignored);
            if (out.narrow) _mm256_storeu_si256((__m256i *)(out.narrow + i), mapped);
            for (int c = 0; c < few; c++)
                byte_counts[c] = _mm256_sub_epi8(byte_counts[c], _mm256_cmpeq_epi8(mapped, _mm256_set1_epi8((char)c)));
            if (++pending == 255) {
                for (int c = 0; c < few; c++) {
                    sums[c] = _mm256_add_epi64(sums[c], _mm256_sad_epu8(byte_counts[c], zero));
                    byte_counts[c] = zero;
                }
                pending = 0;
            }
        }
        for (int c = 0; c < few; c++) {
            uint64_t lanes[4];
            _mm256_storeu_si256((__m256i *)lanes, _mm256_add_epi64(sums[c], _mm256_sad_epu8(byte_counts[c], zero)));
            rows.rows[c] += (uint32_t)(lanes[0] + lanes[1] + lanes[2] + lanes[3]);
        }
        SCALAR_LOOP(i)
    )
    return first_bad;
}

/// uint8 labels: as bytes where the classes are few and their indices take one byte each
/// (or are not stored), else widened eight at a time.
AVX2 static LOVASZ_CPU_MAP_LABELS(map_u8_avx2_any, uint8_t)
{
    if ((out.narrow || !out.wide) && classes <= FEW_CLASSES) {
        switch (classes) {
        case 1: return map_u8_bytes_loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 1);
        case 2: return map_u8_bytes_loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 2);
        case 3: return map_u8_bytes_loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 3);
        case 4: return map_u8_bytes_loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 4);
        case 5: return map_u8_bytes_loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 5);
        case 6: return map_u8_bytes_loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 6);
        case 7: return map_u8_bytes_loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 7);
        default: return map_u8_bytes_loop(labels, count, has_ignore, ignore, classes, out, counts, ignored, 8);
        }
    }
    return map_u8_avx2(labels, count, has_ignore, ignore, classes, out, counts, ignored);
}

AVX2 static inline __attribute__((always_inline)) int64_t map_i64_avx2_loop(LOOP_PARAMETERS(int64_t))
{
    int64_t first_bad = -1;
    const __m256i zero = _mm256_setzero_si256();
    const __m256i ignore_v = _mm256_set1_epi64x(ignore);
    const __m256i classes_v = _mm256_set1_epi64x(classes);
    // The low 32-bit lanes of two vectors of four, in order.
    const __m256i low_words = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    __m256i few_counters[FEW_CLASSES];
    for (int c = 0; c < FEW_CLASSES; c++) few_counters[c] = _mm256_setzero_si256();
    WITH_ROWS(
        size_t i = 0;
        for (; i + 8 <= count; i += 8) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(labels + i));
            __m256i b = _mm256_loadu_si256((const __m256i *)(labels + i + 4));
            __m256i bad_a = _mm256_or_si256(_mm256_cmpgt_epi64(zero, a), _mm256_cmpgt_epi64(a, _mm256_sub_epi64(classes_v, _mm256_set1_epi64x(1))));
            __m256i bad_b = _mm256_or_si256(_mm256_cmpgt_epi64(zero, b), _mm256_cmpgt_epi64(b, _mm256_sub_epi64(classes_v, _mm256_set1_epi64x(1))));
            if (has_ignore) {
                bad_a = _mm256_andnot_si256(_mm256_cmpeq_epi64(a, ignore_v), bad_a);
                bad_b = _mm256_andnot_si256(_mm256_cmpeq_epi64(b, ignore_v), bad_b);
            }
            if (!_mm256_testz_si256(_mm256_or_si256(bad_a, bad_b), _mm256_or_si256(bad_a, bad_b))) break;
            // Every label is a class or the ignore value: narrowed, an ignore value outside
            // int32 is told apart by the 64-bit comparison, so map it to -1 here.
            __m256i ignored_a = has_ignore ? _mm256_cmpeq_epi64(a, ignore_v) : zero;
            __m256i ignored_b = has_ignore ? _mm256_cmpeq_epi64(b, ignore_v) : zero;
            __m256i narrow = _mm256_permute2x128_si256(
                _mm256_permutevar8x32_epi32(_mm256_or_si256(a, ignored_a), low_words),
                _mm256_permutevar8x32_epi32(_mm256_or_si256(b, ignored_b), low_words), 0x20);
            __m256i narrow_ignored = _mm256_permute2x128_si256(
                _mm256_permutevar8x32_epi32(ignored_a, low_words), _mm256_permutevar8x32_epi32(ignored_b, low_words), 0x20);
            if (!_mm256_testz_si256(narrow_ignored, narrow_ignored)) *ignored = 1;
            store_eight(out, i, narrow);
            count_slots(&rows, few_counters, few, _mm256_blendv_epi8(narrow, _mm256_set1_epi32((int32_t)classes), narrow_ignored));
        }
        fold_few(&rows, few_counters, few);
        SCALAR_LOOP(i)
    )
    return first_bad;
}

AVX2 static LOVASZ_CPU_MAP_LABELS(map_i64_avx2, int64_t) { WITH_FEW(map_i64_avx2_loop) }
#endif

#if defined(__x86_64__)
#define DISPATCH(vector, scalar)                                                                  \
    if (lovasz_cpu_avx2 && VECTOR_APPLIES)                                                        \
        return vector(labels, count, has_ignore, ignore, classes, out, counts, ignored);         \
    return scalar(labels, count, has_ignore, ignore, classes, out, counts, ignored);
#else
#define DISPATCH(vector, scalar) return scalar(labels, count, has_ignore, ignore, classes, out, counts, ignored);
#endif

LOVASZ_CPU_MAP_LABELS(lovasz_cpu_map_labels_i64, int64_t) { DISPATCH(map_i64_avx2, lovasz_cpu_map_labels_i64_scalar) }
LOVASZ_CPU_MAP_LABELS(lovasz_cpu_map_labels_i32, int32_t) { DISPATCH(map_i32_avx2, lovasz_cpu_map_labels_i32_scalar) }
LOVASZ_CPU_MAP_LABELS(lovasz_cpu_map_labels_u8, uint8_t) { DISPATCH(map_u8_avx2_any, lovasz_cpu_map_labels_u8_scalar) }
