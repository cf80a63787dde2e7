#ifndef LOVASZ_CPU_H
#define LOVASZ_CPU_H

#include <stddef.h>
#include <stdint.h>

/// The most label classes whose indices the class map stores in one byte each.
#define LOVASZ_CPU_NARROW_CLASSES 127

/// Class indices of a run of pixels, one per pixel (-1 for an ignored pixel): one byte each
/// where every class index fits (at most ``LOVASZ_CPU_NARROW_CLASSES`` label classes), four
/// otherwise. Exactly one of the two pointers is not NULL.
///
/// The one-byte form is a quarter of the memory traffic of the label pass's stores and of every
/// later pass's reads of the map (the key pass reads it once per class plane).
typedef struct lovasz_classes {
    const int8_t *narrow;
    const int32_t *wide;
} lovasz_classes;

/// The class map's entries from `offset` on.
static inline lovasz_classes lovasz_classes_advanced(lovasz_classes classes, size_t offset) {
    lovasz_classes result = classes;
    if (classes.narrow) result.narrow = classes.narrow + offset;
    else result.wide = classes.wide + offset;
    return result;
}

/// The class index of pixel `i` of a run (-1: ignored).
static inline int32_t lovasz_class_at(lovasz_classes classes, size_t i) {
    return classes.narrow ? (int32_t)classes.narrow[i] : classes.wide[i];
}

/// Where the label pass writes its class indices: one of the two pointers, as in
/// ``lovasz_classes``.
typedef struct lovasz_class_output {
    int8_t *narrow;
    int32_t *wide;
} lovasz_class_output;

/// The running state of the key pass over one chunk of a segment's pixels.
///
/// Keys are written at `keys[kept]`, where `keys` is the chunk's first slot; the chunk owns one
/// slot per valid pixel.
typedef struct lovasz_key_pass {
    /// Keys written so far.
    uint64_t kept;
    /// The rank (within the group) of the next valid pixel.
    uint64_t rank;
    /// AND and OR of the keys written so far.
    uint64_t and_bits;
    uint64_t or_bits;
    /// ``lovasz_cpu_create_keys_floored`` only: keys whose error word is below this are not
    /// kept, but counted in `below` (and in `below_foreground` when foreground).
    uint32_t floor_word;
    uint64_t below;
    uint64_t below_foreground;
    /// ``lovasz_cpu_create_keys_floored`` only, NULL or one slot per valid pixel of the chunk:
    /// the keys under the floor are also written, compacted, at `below_keys[below]` (slots from
    /// `below` on may be written, as for `keys`), their AND and OR in `below_and` and
    /// `below_or`. The floor must then be at most the cut's word, so that every key under it
    /// is at most the cut.
    uint64_t *below_keys;
    uint64_t below_and;
    uint64_t below_or;
    /// Foreground keys written so far.
    uint64_t kept_foreground;
    /// Set to 1 once a score of the runs seen (ignored pixels' included) is NaN or infinite.
    uint64_t nonfinite;
} lovasz_key_pass;

/// Sets `values[0 ..< count]` to zero, with non-temporal stores on x86-64 (the zeros go to
/// memory without first reading the lines they overwrite, and without displacing the cache):
/// a whole cache line per store with AVX-512F, 16 bytes otherwise.
void lovasz_cpu_zero_streaming(float *values, size_t count);

/// ``lovasz_cpu_zero_streaming`` with 16-byte stores on every x86-64 processor (compared with
/// it by the tests).
void lovasz_cpu_zero_streaming_narrow(float *values, size_t count);

/// The signature of every form of the key pass (below).
#define LOVASZ_CPU_KEY_PASS(name)                                                                  \
    void name(                                                                                     \
        lovasz_key_pass *pass, const float *scores, lovasz_classes labels, size_t count,           \
        int32_t foreground, float background, uint64_t cut, uint64_t *keys)

/// Writes the packed sort key of every valid pixel of one run of a class plane whose key is at
/// most `cut`, in pixel order, and updates `pass`.
///
/// A key is the error's descending word (high 32 bits), the rank (31 bits) and the foreground
/// bit. The error is `1 - x` for a foreground pixel (`labels[i] == foreground`) and
/// `background + x` for the others; pixels with a negative label are skipped and take no
/// rank. The values are those of the scalar definition bit for bit (the same IEEE additions,
/// no contraction); on x86-64 processors with AVX2 eight pixels are tested at a time and the
/// kept keys stored compacted, sixteen with AVX-512F.
///
/// - Parameters:
///   - scores: `count` floats, finite.
///   - labels: `count` class indices (one byte or four each, ``lovasz_classes``).
///   - keys: the chunk's first slot. Slots from `pass->kept` up to (not including) the number of
///     valid pixels the chunk has seen once this run is done may be written, kept or not; each
///     kept key ends at its final slot.
LOVASZ_CPU_KEY_PASS(lovasz_cpu_create_keys);

/// ``lovasz_cpu_create_keys`` one pixel at a time, on every processor: the definition the
/// vector form must match (the tests compare both with a naive one).
LOVASZ_CPU_KEY_PASS(lovasz_cpu_create_keys_scalar);

/// ``lovasz_cpu_create_keys``, keeping only the keys whose error word (high 32 bits) is at
/// least `pass->floor_word`; the valid pixels whose key is below that word are counted in
/// `pass->below`, the foreground ones among them also in `pass->below_foreground` (their keys
/// are at most `cut` when the floor is at most the cut's word).
LOVASZ_CPU_KEY_PASS(lovasz_cpu_create_keys_floored);

/// ``lovasz_cpu_create_keys_floored`` one pixel at a time, on every processor.
LOVASZ_CPU_KEY_PASS(lovasz_cpu_create_keys_floored_scalar);

/// ``lovasz_cpu_create_keys`` never more than eight pixels at a time (AVX2 where the processor
/// has it): the tests compare it with the sixteen-pixel form.
LOVASZ_CPU_KEY_PASS(lovasz_cpu_create_keys_avx2_only);

/// ``lovasz_cpu_create_keys_floored`` never more than eight pixels at a time.
LOVASZ_CPU_KEY_PASS(lovasz_cpu_create_keys_floored_avx2_only);

/// The foreground pixel (`labels[i] == foreground`) of a run with the smallest error `1 - x`,
/// the last one among ties, as `descending word << 32 | (first_pixel + i)`; 0 when the run has
/// no foreground pixel. The cut of a binary segment is the largest of these over its runs, with
/// the pixel turned into its rank.
///
/// - Parameter first_pixel: the index of the run's first pixel (`first_pixel + count` ≤ 2^31).
uint64_t lovasz_cpu_foreground_best(
    const float *scores, lovasz_classes labels, size_t count, int32_t foreground, uint64_t first_pixel);

/// ``lovasz_cpu_foreground_best`` one pixel at a time on every processor.
uint64_t lovasz_cpu_foreground_best_scalar(
    const float *scores, lovasz_classes labels, size_t count, int32_t foreground, uint64_t first_pixel);

/// What the walk of one segment needs besides its sorted keys.
typedef struct lovasz_walk_segment {
    /// The segment's class plane of the upstream buffer (`[b·S + s]`), or NULL for no gradient.
    float *plane;
    /// Rank → pixel (the group's part of the list of valid pixels), or NULL when no pixel is
    /// ignored: then the pixel of rank `r` is `first_pixel + r`.
    const uint32_t *valid_pixels;
    uint64_t first_pixel;
    /// The segment's weight in the loss.
    double weight;
    /// Nonzero for the hinge: only positive errors count.
    int hinge;
    /// Nonzero to let the AVX-512F form run: it stores eight gradient entries with one scatter,
    /// faster into a plane that stays in cache, slower into one that does not (then the AVX2
    /// form runs).
    int scatter;
    /// Only the gradient entries of pixels in `[store_begin, store_end)` are stored (every one
    /// for `0, UINT64_MAX`): threads that share a walk each store one part of the plane, which
    /// then stays in their own cache, and send the other entries away
    /// (``lovasz_cpu_walk_outbox``).
    uint64_t store_begin;
    uint64_t store_end;
} lovasz_walk_segment;

/// The running state of the walk of one segment.
typedef struct lovasz_walk_state {
    /// Foreground keys not yet passed.
    int64_t intersection;
    /// The foreground count plus the background keys passed (at least 1).
    int64_t union_count;
    /// The loss terms of the current chunk of sorted keys in four partial sums: the key at
    /// position `p` of the chunk adds to `sums[p % 4]`, each sum in sorted order.
    double sums[4];
} lovasz_walk_state;

/// The loss of a chunk from its partial sums: `(s0 + s1) + (s2 + s3)`.
static inline double lovasz_walk_total(const lovasz_walk_state *state) {
    return (state->sums[0] + state->sums[1]) + (state->sums[2] + state->sums[3]);
}

/// The walk of Algorithm 1 over `count` sorted keys with exact integer counts, the first at
/// position `position` of its chunk: adds each key's loss term `error · g` to its partial sum,
/// writes its gradient entry `±weight · g` (as a float) at its pixel of `segment->plane`, and
/// updates the counts. `g` is `1 / union` for a foreground key and
/// `intersection / (union · (union + 1))` for a background one, in double (the union before
/// the key). With AVX2 four keys' divisions run at once; every value is the scalar form's,
/// bit for bit; with AVX-512F and `segment->scatter` eight, their entries stored by one
/// (masked) scatter. Entries of pixels outside `[store_begin, store_end)` are not stored. A walk
/// may be split anywhere: the parts give what one walk gives.
void lovasz_cpu_walk(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t count, size_t position,
    lovasz_walk_state *state);

/// ``lovasz_cpu_walk`` one key at a time on every processor.
void lovasz_cpu_walk_scalar(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t count, size_t position,
    lovasz_walk_state *state);

/// ``lovasz_cpu_walk``, but each key's loss term (`error · g`, or 0 where the hinge does not
/// count it) is stored as the bit pattern of a double at `terms[r]` instead of being added to
/// `state->sums`: the terms of a part of a chunk walked apart from the rest of it, added to the
/// chunk's partial sums later in sorted order.
void lovasz_cpu_walk_terms(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t count, size_t position,
    lovasz_walk_state *state, uint64_t *terms);

/// ``lovasz_cpu_walk`` storing the entries of pixels in `[store_begin, store_end)` into the plane
/// and those of every other pixel at `outbox` (value bits << 32 | (pixel - outbox_base); the
/// caller keeps pixel - outbox_base below 2^32); returns how many went to the outbox (at most
/// `count`).
size_t lovasz_cpu_walk_outbox(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t count, size_t position,
    lovasz_walk_state *state, uint64_t *outbox, uint64_t outbox_base);

/// Stores the outbox entries (``lovasz_cpu_walk_outbox``) whose pixels lie in
/// `[store_begin, store_end)` into `plane`.
void lovasz_cpu_drain_outbox(
    float *plane, uint64_t base, uint64_t store_begin, uint64_t store_end, const uint64_t *entries, size_t count);

/// Adds `value` to `*counter` atomically (relaxed).
static inline void lovasz_cpu_atomic_add(int64_t *counter, int64_t value) {
    __atomic_fetch_add(counter, value, __ATOMIC_RELAXED);
}

/// Adds `value` to `*counter` atomically (relaxed); returns the value it held before.
static inline int64_t lovasz_cpu_atomic_fetch_add(int64_t *counter, int64_t value) {
    return __atomic_fetch_add(counter, value, __ATOMIC_RELAXED);
}

/// Writes the softmax over `channels` planes (`stride` floats apart) of `length` pixels from
/// `input` into `output` (same layout), per pixel: `m = max_c x(c)`, `e(c) = exp(x(c) - m)` in
/// PortableMath's exp, the sum in class order, `e(c) / sum` flushed below the smallest normal;
/// bit for bit the values of PortableMath in Swift and of the kernels (no contraction).
///
/// - Returns: nonzero when an input was NaN or infinite (`output` is then meaningless).
int lovasz_cpu_softmax(const float *input, float *output, size_t length, size_t channels, size_t stride);

/// ``lovasz_cpu_softmax`` one pixel at a time on every processor (compared with it by the tests).
int lovasz_cpu_softmax_scalar(const float *input, float *output, size_t length, size_t channels, size_t stride);

/// ``lovasz_cpu_softmax`` eight pixels at a time where the processor has AVX2, never sixteen
/// (``lovasz_cpu_softmax`` takes sixteen with AVX-512F): the tests compare both forms on
/// processors that have both.
int lovasz_cpu_softmax_avx2_only(const float *input, float *output, size_t length, size_t channels, size_t stride);

/// The softmax back-propagation of `length` pixels: on entry `gradient` holds the probabilities
/// `f(c)` (planes `gradient_stride` apart), on return `f(k) · (G(k) - Σ_c f(c) G(c))`, where
/// `G(c)` is `upstream[c · upstream_stride + i]`; the sum in class order.
void lovasz_cpu_softmax_backward(
    float *gradient, const float *upstream, size_t length, size_t channels,
    size_t gradient_stride, size_t upstream_stride);

/// ``lovasz_cpu_softmax_backward`` never more than eight pixels at a time (AVX2 where the
/// processor has it; the widest form takes sixteen with AVX-512F): the tests compare both.
void lovasz_cpu_softmax_backward_avx2_only(
    float *gradient, const float *upstream, size_t length, size_t channels,
    size_t gradient_stride, size_t upstream_stride);

/// For each class, the foreground pixel of a run whose error `1 - p` is smallest (the largest
/// pixel index among ties), as `descending word << 32 | pixel`; 0 for a class without
/// foreground in the run. The cut of a segment is the largest of these over its images.
///
/// - Parameters:
///   - probabilities: `channels` planes `stride` floats apart, `length` pixels each.
///   - classes: the run's labels as class indices (one byte or four each), negative for ignored
///     pixels.
///   - first_pixel: the index within its image of the run's first pixel (below 2^32 - length).
///   - best: `channels` entries, overwritten.
///
/// With AVX2 and at most ``LOVASZ_CPU_VECTOR_BESTS_CHANNELS`` channels, class by class eight
/// pixels at a time, sixteen with AVX-512F (the same entries).
void lovasz_cpu_foreground_bests(
    const float *probabilities, size_t length, size_t channels, size_t stride, lovasz_classes classes,
    uint64_t first_pixel, uint64_t *best);

/// ``lovasz_cpu_foreground_bests`` one pixel at a time on every processor.
void lovasz_cpu_foreground_bests_scalar(
    const float *probabilities, size_t length, size_t channels, size_t stride, lovasz_classes classes,
    uint64_t first_pixel, uint64_t *best);

/// ``lovasz_cpu_foreground_bests`` never more than eight pixels at a time (AVX2 where the
/// processor has it): the tests compare it with the sixteen-pixel form.
void lovasz_cpu_foreground_bests_avx2_only(
    const float *probabilities, size_t length, size_t channels, size_t stride, lovasz_classes classes,
    uint64_t first_pixel, uint64_t *best);

/// The most channels for which the foreground bests go class by class in vectors: each
/// class reads the run's labels once more, so many classes cost more than one scalar pass
/// (measured in one process: 3 classes 1.00-1.014x, VOC's 21 1.011-1.013x faster than the
/// scalar pass, ADE20K's 150 0.945-0.986x).
#define LOVASZ_CPU_VECTOR_BESTS_CHANNELS 32

/// Checks, maps and counts the labels of one image: `out[i]` is the class `labels[i]`, or -1
/// when it equals `ignore` (with `has_ignore`); `counts[c]` is increased by the pixels of class
/// `c`; `*ignored` is set to 1 when a pixel is ignored. With AVX2 and at most 1024 classes,
/// eight labels are checked at a time.
///
/// - Parameters:
///   - classes: the number of classes, at least 1.
///   - out: `count` entries, one byte each (`out.narrow`, for at most
///     ``LOVASZ_CPU_NARROW_CLASSES`` classes) or four; neither (both NULL): the labels are
///     checked and counted, nothing is stored (uint8 labels that are their own one-byte map).
///   - counts: `classes` entries, added to.
/// - Returns: the index of the first label that is neither a class (`0 ..< classes`) nor the
///   ignore value, or -1. After a bad label `out` and `counts` are incomplete.
#define LOVASZ_CPU_MAP_LABELS(name, type)                                                          \
    int64_t name(                                                                                  \
        const type *labels, size_t count, int has_ignore, int64_t ignore, int64_t classes,         \
        lovasz_class_output out, uint32_t *counts, int *ignored)
LOVASZ_CPU_MAP_LABELS(lovasz_cpu_map_labels_i64, int64_t);
LOVASZ_CPU_MAP_LABELS(lovasz_cpu_map_labels_i32, int32_t);
LOVASZ_CPU_MAP_LABELS(lovasz_cpu_map_labels_u8, uint8_t);

/// The label maps one pixel at a time on every processor (compared with the others by the tests).
LOVASZ_CPU_MAP_LABELS(lovasz_cpu_map_labels_i64_scalar, int64_t);
LOVASZ_CPU_MAP_LABELS(lovasz_cpu_map_labels_i32_scalar, int32_t);
LOVASZ_CPU_MAP_LABELS(lovasz_cpu_map_labels_u8_scalar, uint8_t);

/// One scatter pass of a stable LSD radix sort: key `i` of `source[0 ..< count]`, in order, goes
/// to `destination[offsets[d]++]`, where `d = (key >> shift) & mask` (`offsets` holds the
/// digits' first positions on entry, `mask + 1` of them). With AVX-512F and CD, eight keys
/// whose digits are distinct move at once (gather, scatter, scatter); the result is the
/// scalar loop's.
void lovasz_cpu_radix_scatter(
    const uint64_t *source, uint64_t *destination, size_t count, unsigned shift, uint64_t mask, uint32_t *offsets);

/// ``lovasz_cpu_radix_scatter`` one key at a time on every processor.
void lovasz_cpu_radix_scatter_scalar(
    const uint64_t *source, uint64_t *destination, size_t count, unsigned shift, uint64_t mask, uint32_t *offsets);

/// Nonzero when ``lovasz_cpu_radix_scatter`` runs its AVX-512 form on this processor.
int lovasz_cpu_has_conflict_scatter(void);

/// Stable insertion sort of `keys[0 ..< count]` by the key word (the high 32 bits), for keys
/// nearly in order: returns 0, the keys still in their relative order but not yet sorted, once
/// more than `budget` keys have been moved; 1 when sorted. With AVX2, blocks of four keys
/// already in order are passed over at once; the keys move as in the scalar form.
int lovasz_cpu_insertion_fix(uint64_t *keys, size_t count, size_t budget);

/// One digit of a radix sort's count: bits `shift ..< shift + bits` of each key, `mask` being
/// `2^bits - 1`, counted into `counts[0 ... mask]`.
typedef struct lovasz_digit {
    uint32_t shift;
    uint64_t mask;
    uint32_t *counts;
} lovasz_digit;

/// Counts `digits` (1 ... 4) digits of `keys[0 ..< count]` into their counters (added to what is
/// there), asking for the lines of `scratch[0 ..< count]` ready to be written as it goes
/// (`prefetchw`, one line per eight keys): the first scatter after the counts then writes into
/// lines already at hand, where a buffer last used by an earlier call would have them fetched
/// one scattered store at a time (measured in one process when the loop was in Swift: the
/// 2×3×200×200 confident call 1.038-1.057x faster, the hinge per image on random logits
/// 1.02-1.10x, VOC per image trained 1.02-1.06x). With BMI2, shifts without flags.
void lovasz_cpu_count_digits(
    const uint64_t *keys, size_t count, const lovasz_digit *digit, int digits, const uint64_t *scratch);

/// ``lovasz_cpu_insertion_fix`` one key at a time on every processor.
int lovasz_cpu_insertion_fix_scalar(uint64_t *keys, size_t count, size_t budget);

/// Nonzero when the loops above run their AVX2 forms on this processor.
int lovasz_cpu_has_vector_forms(void);

/// Nonzero when the softmax, its back-propagation, its foreground bests and the key pass run
/// their AVX-512F forms on this processor.
int lovasz_cpu_has_wide_vector_forms(void);

/// Asks for the cache line at `address` in a state ready to be written (x86 `prefetchw`): a
/// hint only, with no effect on what the program computes.
static inline void lovasz_cpu_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Tells the processor that the calling thread is in a spin-wait loop (x86 `pause`, Arm
/// `yield`): it saves power and leaves the core's resources to its sibling hyperthread.
static inline void lovasz_cpu_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

#endif
