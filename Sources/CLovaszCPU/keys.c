// The key pass of the CPU path (see include/lovasz_cpu.h): one scalar definition, and AVX2 and
// AVX-512F forms chosen at run time on x86-64 that give the same keys.
#include "lovasz_cpu.h"
#include "features.h"
#include "float_bits.h"
#include "class_loads.h"

#pragma STDC FP_CONTRACT OFF

/// With `floored`, keys whose word is below `pass->floor_word` are not kept but counted.
static inline void create_keys_scalar_form(
    lovasz_key_pass *pass, const float *scores, lovasz_classes labels, size_t begin, size_t count,
    int32_t foreground, float background, uint64_t cut, uint64_t *keys, const int floored)
{
    uint64_t kept = pass->kept, rank = pass->rank, and_bits = pass->and_bits, or_bits = pass->or_bits;
    uint64_t below = pass->below, below_foreground = pass->below_foreground;
    uint64_t kept_foreground = pass->kept_foreground;
    uint32_t nonfinite = 0;
    const uint32_t floor_word = pass->floor_word;
    uint64_t *const below_keys = pass->below_keys;
    uint64_t below_and = pass->below_and, below_or = pass->below_or;
    for (size_t i = begin; i < count; i++) {
        float x = scores[i];
        nonfinite |= (bits_of(x) & 0x7F800000u) == 0x7F800000u;
        int32_t label = lovasz_class_at(labels, i);
        if (label < 0) continue;
        int is_foreground = label == foreground;
        // Both errors, then a select: labels are random, a branch would mispredict.
        uint32_t select = 0u - (uint32_t)is_foreground;
        uint32_t bits = (bits_of(1.0f - x) & select) | (bits_of(background + x) & ~select);
        uint64_t key = (uint64_t)descending_word(bits) << 32 | rank << 1 | (uint64_t)is_foreground;
        int keep = key <= cut;
        if (floored) {
            int under = (uint32_t)(key >> 32) < floor_word;
            if (below_keys) {
                below_keys[below] = key;
                below_and &= under ? key : ~(uint64_t)0;
                below_or |= under ? key : 0;
            }
            below += (uint64_t)under;
            below_foreground += (uint64_t)(under & is_foreground);
            keep &= !under;
        }
        keys[kept] = key;
        kept += (uint64_t)keep;
        kept_foreground += (uint64_t)(keep & is_foreground);
        and_bits &= keep ? key : ~(uint64_t)0;
        or_bits |= keep ? key : 0;
        rank += 1;
    }
    pass->kept = kept;
    pass->rank = rank;
    pass->and_bits = and_bits;
    pass->or_bits = or_bits;
    pass->below = below;
    pass->below_foreground = below_foreground;
    pass->kept_foreground = kept_foreground;
    pass->nonfinite |= nonfinite;
    pass->below_and = below_and;
    pass->below_or = below_or;
}

static void create_keys_scalar(
    lovasz_key_pass *pass, const float *scores, lovasz_classes labels, size_t begin, size_t count,
    int32_t foreground, float background, uint64_t cut, uint64_t *keys)
{
    create_keys_scalar_form(pass, scores, labels, begin, count, foreground, background, cut, keys, 0);
}

static void create_keys_scalar_floored(
    lovasz_key_pass *pass, const float *scores, lovasz_classes labels, size_t begin, size_t count,
    int32_t foreground, float background, uint64_t cut, uint64_t *keys)
{
    create_keys_scalar_form(pass, scores, labels, begin, count, foreground, background, cut, keys, 1);
}

LOVASZ_CPU_KEY_PASS(lovasz_cpu_create_keys_scalar)
{
    create_keys_scalar(pass, scores, labels, 0, count, foreground, background, cut, keys);
}

#if defined(__x86_64__)
#include <immintrin.h>

/// The `n` pixels of one vector of a vector form, one at a time (some are invalid, or ranks would
/// pass 2^31): the form's running counts go into `pass` for the scalar form and come back.
static inline __attribute__((always_inline)) void vector_by_scalar(
    lovasz_key_pass *pass, uint64_t *kept, uint64_t *rank, uint64_t *below, uint64_t *below_foreground,
    uint64_t *kept_foreground, const float *scores, lovasz_classes labels, size_t n, int32_t foreground,
    float background, uint64_t cut, uint64_t *keys, const int floored)
{
    pass->kept = *kept;
    pass->rank = *rank;
    pass->below = *below;
    pass->below_foreground = *below_foreground;
    pass->kept_foreground = *kept_foreground;
    if (floored) {
        create_keys_scalar_floored(pass, scores, labels, 0, n, foreground, background, cut, keys);
    } else {
        create_keys_scalar(pass, scores, labels, 0, n, foreground, background, cut, keys);
    }
    *kept = pass->kept;
    *rank = pass->rank;
    *below = pass->below;
    *below_foreground = pass->below_foreground;
    *kept_foreground = pass->kept_foreground;
}

/// For each 8-bit mask of kept lanes, the lanes to gather so that the kept ones come first.
static uint32_t compaction[256][8];

/// For each 8-bit mask of valid lanes, twice the number of valid lanes below each lane: what a
/// valid lane adds to twice the vector's first rank.
static uint32_t valid_rank_offsets[256][8];

/// For `n` in 0...4, the 64-bit lanes below `n` (a mask for `_mm256_maskstore_epi64`).
static int64_t first_lanes[5][4];

void lovasz_cpu_fill_compaction(void) {
    for (int mask = 0; mask < 256; mask++) {
        int n = 0;
        for (int lane = 0; lane < 8; lane++) {
            valid_rank_offsets[mask][lane] = (uint32_t)(2 * n);
            if (mask & (1 << lane)) compaction[mask][n++] = (uint32_t)lane;
        }
        while (n < 8) compaction[mask][n++] = 0;
    }
    for (int n = 0; n <= 4; n++) {
        for (int lane = 0; lane < 4; lane++) first_lanes[n][lane] = lane < n ? -1 : 0;
    }
}

__attribute__((target("avx2,popcnt")))
static uint64_t and_all(__m256i v) {
    uint32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, v);
    uint32_t r = ~0u;
    for (int i = 0; i < 8; i++) r &= lanes[i];
    return r;
}

__attribute__((target("avx2,popcnt")))
static uint64_t or_all(__m256i v) {
    uint32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, v);
    uint32_t r = 0;
    for (int i = 0; i < 8; i++) r |= lanes[i];
    return r;
}

/// Stores the keys of the lanes of `lanes` (their words in `high`, ranks and foreground bits in
/// `low`), compacted in lane order, from `slot`: all eight slots where every lane is valid (the
/// slots are then the chunk's: a slot per valid pixel seen), only the stored keys' slots
/// otherwise (the next chunk's may follow).
__attribute__((target("avx2,popcnt"), always_inline))
static inline void store_compacted_avx2(uint64_t *slot, __m256i high, __m256i low, int lanes, int invalid_lanes) {
    __m256i order = _mm256_loadu_si256((const __m256i *)compaction[lanes]);
    __m256i packed_high = _mm256_permutevar8x32_epi32(high, order);
    __m256i packed_low = _mm256_permutevar8x32_epi32(low, order);
    __m256i pairs_a = _mm256_unpacklo_epi32(packed_low, packed_high);  // keys 0 1 | 4 5
    __m256i pairs_b = _mm256_unpackhi_epi32(packed_low, packed_high);  // keys 2 3 | 6 7
    __m256i first_four = _mm256_permute2x128_si256(pairs_a, pairs_b, 0x20);
    __m256i last_four = _mm256_permute2x128_si256(pairs_a, pairs_b, 0x31);
    if (invalid_lanes == 0) {
        _mm256_storeu_si256((__m256i *)slot, first_four);
        _mm256_storeu_si256((__m256i *)(slot + 4), last_four);
    } else {
        int count = _mm_popcnt_u32((unsigned)lanes);
        int low_count = count < 4 ? count : 4;
        _mm256_maskstore_epi64((long long *)slot, _mm256_loadu_si256((const __m256i *)first_lanes[low_count]), first_four);
        _mm256_maskstore_epi64(
            (long long *)(slot + 4), _mm256_loadu_si256((const __m256i *)first_lanes[count - low_count]), last_four);
    }
}

__attribute__((target("avx2,popcnt"), always_inline))
static inline void create_keys_avx2_form(
    lovasz_key_pass *pass, const float *scores, lovasz_classes labels, size_t count,
    int32_t foreground, float background, uint64_t cut, uint64_t *keys, const int floored)
{
    const __m256i floor_flipped = _mm256_set1_epi32((int)(pass->floor_word ^ 0x80000000u));
    uint64_t below = pass->below, below_foreground = pass->below_foreground;
    uint64_t kept_foreground = pass->kept_foreground;
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u);
    const __m256i low31 = _mm256_set1_epi32(0x7FFFFFFF);
    const __m256i one_int = _mm256_set1_epi32(1);
    const __m256i ones = _mm256_set1_epi32(-1);
    const __m256i lanes = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i wanted = _mm256_set1_epi32(foreground);
    // Unsigned comparisons as signed ones on words with the sign bit flipped.
    const __m256i cut_high = _mm256_set1_epi32((int)((uint32_t)(cut >> 32) ^ 0x80000000u));
    const __m256i cut_low = _mm256_set1_epi32((int)((uint32_t)cut ^ 0x80000000u));
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 base = _mm256_set1_ps(background);
    // The cut's error: a lane whose error is below it has a larger word, so it is dropped
    // whatever its rank. Tested first on the floats (one comparison), it spares the words of
    // vectors with nothing to keep, most of them when few keys are kept (measured in one
    // process: VOC per batch random 1.028-1.031x, trained 0.99-1.00x, hinge per batch 1.02x).
    const uint32_t cut_word = (uint32_t)(cut >> 32);
    const uint32_t cut_bits = cut_word ^ (((cut_word >> 31) - 1u) & 0x7FFFFFFFu);
    const __m256 cut_error = _mm256_set1_ps(float_of(cut_bits));
    const int pretest = (cut_bits & 0x7FFFFFFFu) <= 0x7F800000u;  // a cut made from a number
    __m256i and_high = ones, and_low = ones, or_high = _mm256_setzero_si256(), or_low = _mm256_setzero_si256();
    uint64_t *const below_keys = floored ? pass->below_keys : NULL;
    __m256i below_and_high = ones, below_and_low = ones;
    __m256i below_or_high = _mm256_setzero_si256(), below_or_low = _mm256_setzero_si256();
    uint64_t kept = pass->kept, rank = pass->rank;
    size_t i = 0;
    const __m256i exponent = _mm256_set1_epi32(0x7F800000);
    __m256i nonfinite = _mm256_setzero_si256();
    for (; i + 8 <= count; i += 8) {
        __m256i label = load_eight_classes(labels, i);
        __m256 x = _mm256_loadu_ps(scores + i);
        // Every lane, ignored pixels' included: the hinge's scores are validated here.
        nonfinite = _mm256_or_si256(nonfinite, _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(x), exponent), exponent));
        __m256i is_foreground = _mm256_cmpeq_epi32(label, wanted);
        __m256i invalid = _mm256_cmpgt_epi32(_mm256_setzero_si256(), label);
        __m256 error = _mm256_blendv_ps(_mm256_add_ps(base, x), _mm256_sub_ps(one, x), _mm256_castsi256_ps(is_foreground));
        if (pretest) {
            __m256i reaching = _mm256_castps_si256(_mm256_cmp_ps(error, cut_error, _CMP_GE_OQ));
            if (_mm256_testz_si256(reaching, _mm256_andnot_si256(invalid, ones))) {
                rank += (uint64_t)(8 - _mm_popcnt_u32((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(invalid))));
                continue;
            }
        }
        __m256i bits = _mm256_castps_si256(error);
        bits = _mm256_andnot_si256(_mm256_cmpeq_epi32(bits, sign), bits);
        __m256i high = _mm256_xor_si256(
            bits, _mm256_and_si256(_mm256_sub_epi32(_mm256_srli_epi32(bits, 31), one_int), low31));
        __m256i high_flipped = _mm256_xor_si256(high, sign);
        __m256i above = _mm256_cmpgt_epi32(high_flipped, cut_high);
        int candidates = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_andnot_si256(_mm256_or_si256(above, invalid), ones)));
        int invalid_lanes = _mm256_movemask_ps(_mm256_castsi256_ps(invalid));
        if (candidates == 0) {
            rank += (uint64_t)(8 - _mm_popcnt_u32((unsigned)invalid_lanes));
            continue;
        }
        if (rank + 8 > 0x80000000u) {
            vector_by_scalar(
                pass, &kept, &rank, &below, &below_foreground, &kept_foreground, scores + i,
                lovasz_classes_advanced(labels, i), 8, foreground, background, cut, keys, floored);
            continue;
        }
        // A valid lane's rank counts the valid lanes before it (a table by the mask of valid
        // lanes); such vectors were taken one pixel at a time before: VOC per batch trained with
        // 16% of its pixels ignored, with this form in place of the AVX-512F one, 1.10-1.15x
        // faster for the whole call (two threads, alternating calls in one process).
        __m256i offsets = invalid_lanes
            ? _mm256_loadu_si256((const __m256i *)valid_rank_offsets[~invalid_lanes & 0xFF])
            : lanes;
        __m256i low = _mm256_or_si256(
            _mm256_add_epi32(_mm256_set1_epi32((int)(rank << 1)), offsets), _mm256_and_si256(is_foreground, one_int));
        __m256i equal_high = _mm256_cmpeq_epi32(high_flipped, cut_high);
        __m256i low_above = _mm256_cmpgt_epi32(_mm256_xor_si256(low, sign), cut_low);
        __m256i dropped = _mm256_or_si256(invalid, _mm256_or_si256(above, _mm256_and_si256(equal_high, low_above)));
        if (floored) {
            // A valid lane's word under the floor is counted, not kept.
            __m256i under = _mm256_andnot_si256(invalid, _mm256_cmpgt_epi32(floor_flipped, high_flipped));
            int under_lanes = _mm256_movemask_ps(_mm256_castsi256_ps(under));
            int foreground_lanes = _mm256_movemask_ps(_mm256_castsi256_ps(is_foreground));
            if (below_keys && under_lanes) {
                below_and_high = _mm256_and_si256(below_and_high, _mm256_or_si256(high, _mm256_andnot_si256(under, ones)));
                below_and_low = _mm256_and_si256(below_and_low, _mm256_or_si256(low, _mm256_andnot_si256(under, ones)));
                below_or_high = _mm256_or_si256(below_or_high, _mm256_and_si256(high, under));
                below_or_low = _mm256_or_si256(below_or_low, _mm256_and_si256(low, under));
                store_compacted_avx2(below_keys + below, high, low, under_lanes, invalid_lanes);
            }
            below += (uint64_t)_mm_popcnt_u32((unsigned)under_lanes);
            below_foreground += (uint64_t)_mm_popcnt_u32((unsigned)(under_lanes & foreground_lanes));
            dropped = _mm256_or_si256(dropped, under);
        }
        __m256i keep = _mm256_andnot_si256(dropped, ones);
        int keep_lanes = _mm256_movemask_ps(_mm256_castsi256_ps(keep));
        and_high = _mm256_and_si256(and_high, _mm256_or_si256(high, dropped));
        and_low = _mm256_and_si256(and_low, _mm256_or_si256(low, dropped));
        or_high = _mm256_or_si256(or_high, _mm256_and_si256(high, keep));
        or_low = _mm256_or_si256(or_low, _mm256_and_si256(low, keep));
        store_compacted_avx2(keys + kept, high, low, keep_lanes, invalid_lanes);
        int kept_count = _mm_popcnt_u32((unsigned)keep_lanes);
        kept += (uint64_t)kept_count;
        kept_foreground += (uint64_t)_mm_popcnt_u32(
            (unsigned)(keep_lanes & _mm256_movemask_ps(_mm256_castsi256_ps(is_foreground))));
        rank += (uint64_t)(8 - _mm_popcnt_u32((unsigned)invalid_lanes));
    }
    pass->kept = kept;
    pass->rank = rank;
    pass->below = below;
    pass->below_foreground = below_foreground;
    pass->kept_foreground = kept_foreground;
    pass->nonfinite |= (uint64_t)!_mm256_testz_si256(nonfinite, nonfinite);
    pass->and_bits &= and_all(and_low) | and_all(and_high) << 32;
    pass->or_bits |= or_all(or_low) | or_all(or_high) << 32;
    if (below_keys) {
        pass->below_and &= and_all(below_and_low) | and_all(below_and_high) << 32;
        pass->below_or |= or_all(below_or_low) | or_all(below_or_high) << 32;
    }
    if (floored) {
        create_keys_scalar_floored(pass, scores, labels, i, count, foreground, background, cut, keys);
    } else {
        create_keys_scalar(pass, scores, labels, i, count, foreground, background, cut, keys);
    }
}

#define AVX512 __attribute__((target("avx2,popcnt,avx512f")))

/// create_keys_avx2_form sixteen pixels at a time: the keys made as two vectors of eight 64-bit
/// keys, compared with the cut as unsigned 64-bit numbers, and the kept ones compressed in
/// registers and stored eight slots at a time where every lane is valid (the slots written are
/// then the chunk's, as in the AVX2 form), only the kept keys' slots where some pixels are
/// ignored (the valid lanes' ranks made by an expand; such vectors were taken one pixel at a
/// time before: VOC per batch trained with 16% of its pixels ignored, the whole call 1.25-1.30x
/// faster on two threads). The same keys, counts, AND and OR.
/// Measured on an Intel Xeon VM (Emerald Rapids) in one process, calls alternating with the AVX2
/// form: the hinge per batch 1.035-1.105x faster on trained logits and 0.99-1.07x on random
/// ones, the VOC batch 1.03-1.11x (random) and 1.03-1.23x (trained), the 2x3x200x200 call
/// 1.04-1.05x.
/// Stores the keys of lanes `lanes0` of `key0` and `lanes1` of `key1`, compressed in lane order,
/// from `slot`: sixteen slots where every lane is valid (the slots are then the chunk's), only
/// the stored keys' slots otherwise (the next chunk's may follow).
AVX512 static inline __attribute__((always_inline)) void store_compressed_avx512(
    uint64_t *slot, __m512i key0, __m512i key1, __mmask8 lanes0, __mmask8 lanes1, __mmask16 invalid)
{
    unsigned count0 = (unsigned)_mm_popcnt_u32((unsigned)lanes0), count1 = (unsigned)_mm_popcnt_u32((unsigned)lanes1);
    if (invalid == 0) {
        _mm512_storeu_si512((void *)slot, _mm512_maskz_compress_epi64(lanes0, key0));
        _mm512_storeu_si512((void *)(slot + count0), _mm512_maskz_compress_epi64(lanes1, key1));
    } else {
        _mm512_mask_storeu_epi64((void *)slot, (__mmask8)((1u << count0) - 1), _mm512_maskz_compress_epi64(lanes0, key0));
        _mm512_mask_storeu_epi64(
            (void *)(slot + count0), (__mmask8)((1u << count1) - 1), _mm512_maskz_compress_epi64(lanes1, key1));
    }
}

/// ANDs the keys of lanes `lanes0` of `key0` and `lanes1` of `key1` into `*and_keys`, and ORs
/// them into `*or_keys`.
AVX512 static inline __attribute__((always_inline)) void fold_keys_avx512(
    __m512i *and_keys, __m512i *or_keys, __m512i key0, __m512i key1, __mmask8 lanes0, __mmask8 lanes1)
{
    *and_keys = _mm512_mask_and_epi64(*and_keys, lanes0, *and_keys, key0);
    *and_keys = _mm512_mask_and_epi64(*and_keys, lanes1, *and_keys, key1);
    *or_keys = _mm512_mask_or_epi64(*or_keys, lanes0, *or_keys, key0);
    *or_keys = _mm512_mask_or_epi64(*or_keys, lanes1, *or_keys, key1);
}

AVX512 static inline __attribute__((always_inline)) void create_keys_avx512_form(
    lovasz_key_pass *pass, const float *scores, lovasz_classes labels, size_t count,
    int32_t foreground, float background, uint64_t cut, uint64_t *keys, const int floored)
{
    const __m512i floor_word = _mm512_set1_epi32((int)pass->floor_word);
    uint64_t below = pass->below, below_foreground = pass->below_foreground;
    uint64_t kept_foreground = pass->kept_foreground;
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    const __m512i low31 = _mm512_set1_epi32(0x7FFFFFFF);
    const __m512i one_int = _mm512_set1_epi32(1);
    const __m512i lanes = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i wanted = _mm512_set1_epi32(foreground);
    const __m512i cut_key = _mm512_set1_epi64((long long)cut);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 base = _mm512_set1_ps(background);
    // The cut's error, tested first on the floats (as in the AVX2 form).
    const uint32_t cut_word = (uint32_t)(cut >> 32);
    const uint32_t cut_bits = cut_word ^ (((cut_word >> 31) - 1u) & 0x7FFFFFFFu);
    const __m512 cut_error = _mm512_set1_ps(float_of(cut_bits));
    const int pretest = (cut_bits & 0x7FFFFFFFu) <= 0x7F800000u;  // a cut made from a number
    __m512i and_keys = _mm512_set1_epi64(-1), or_keys = _mm512_setzero_si512();
    uint64_t *const below_keys = floored ? pass->below_keys : NULL;
    __m512i below_and = _mm512_set1_epi64(-1), below_or = _mm512_setzero_si512();
    uint64_t kept = pass->kept, rank = pass->rank;
    size_t i = 0;
    const __m512i exponent = _mm512_set1_epi32(0x7F800000);
    __mmask16 nonfinite = 0;
    for (; i + 16 <= count; i += 16) {
        __m512i label = load_sixteen_classes(labels, i);
        __m512 x = _mm512_loadu_ps(scores + i);
        // Every lane, ignored pixels' included: the hinge's scores are validated here.
        nonfinite |= _mm512_cmpeq_epi32_mask(_mm512_and_si512(_mm512_castps_si512(x), exponent), exponent);
        __mmask16 is_foreground = _mm512_cmpeq_epi32_mask(label, wanted);
        __mmask16 invalid = _mm512_cmplt_epi32_mask(label, _mm512_setzero_si512());
        __m512 error = _mm512_mask_blend_ps(is_foreground, _mm512_add_ps(base, x), _mm512_sub_ps(one, x));
        if (pretest && (_mm512_cmp_ps_mask(error, cut_error, _CMP_GE_OQ) & (__mmask16)~invalid) == 0) {
            rank += (uint64_t)(16 - _mm_popcnt_u32((unsigned)invalid));
            continue;
        }
        if (rank + 16 > 0x80000000u) {
            vector_by_scalar(
                pass, &kept, &rank, &below, &below_foreground, &kept_foreground, scores + i,
                lovasz_classes_advanced(labels, i), 16, foreground, background, cut, keys, floored);
            continue;
        }
        __m512i bits = _mm512_castps_si512(error);
        bits = _mm512_mask_mov_epi32(bits, _mm512_cmpeq_epi32_mask(bits, sign), _mm512_setzero_si512());
        __m512i high = _mm512_xor_si512(
            bits, _mm512_and_si512(_mm512_sub_epi32(_mm512_srli_epi32(bits, 31), one_int), low31));
        // A valid lane's rank counts the valid lanes before it: the lanes' doubled indices
        // expanded into the valid lanes.
        __m512i ranks = _mm512_add_epi32(
            _mm512_set1_epi32((int)(rank << 1)), invalid ? _mm512_maskz_expand_epi32((__mmask16)~invalid, lanes) : lanes);
        __m512i low = _mm512_mask_or_epi32(ranks, is_foreground, ranks, one_int);
        // Keys of lanes 0-7 and 8-15: the word above, rank and foreground bit below.
        __m512i key0 = _mm512_or_si512(
            _mm512_slli_epi64(_mm512_cvtepu32_epi64(_mm512_castsi512_si256(high)), 32),
            _mm512_cvtepu32_epi64(_mm512_castsi512_si256(low)));
        __m512i key1 = _mm512_or_si512(
            _mm512_slli_epi64(_mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(high, 1)), 32),
            _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(low, 1)));
        __mmask16 keep = (__mmask16)~invalid
            & (__mmask16)(_mm512_cmple_epu64_mask(key0, cut_key) | (unsigned)_mm512_cmple_epu64_mask(key1, cut_key) << 8);
        if (floored) {
            // A valid lane's word under the floor is counted, not kept.
            __mmask16 under = (__mmask16)~invalid & _mm512_cmplt_epu32_mask(high, floor_word);
            if (below_keys && under) {
                __mmask8 under0 = (__mmask8)under, under1 = (__mmask8)(under >> 8);
                fold_keys_avx512(&below_and, &below_or, key0, key1, under0, under1);
                store_compressed_avx512(below_keys + below, key0, key1, under0, under1, invalid);
            }
            below += (uint64_t)_mm_popcnt_u32((unsigned)under);
            below_foreground += (uint64_t)_mm_popcnt_u32((unsigned)(under & is_foreground));
            keep &= (__mmask16)~under;
        }
        __mmask8 keep0 = (__mmask8)keep, keep1 = (__mmask8)(keep >> 8);
        fold_keys_avx512(&and_keys, &or_keys, key0, key1, keep0, keep1);
        store_compressed_avx512(keys + kept, key0, key1, keep0, keep1, invalid);
        kept += (uint64_t)_mm_popcnt_u32((unsigned)keep);
        kept_foreground += (uint64_t)_mm_popcnt_u32((unsigned)(keep & is_foreground));
        rank += (uint64_t)(16 - _mm_popcnt_u32((unsigned)invalid));
    }
    pass->kept = kept;
    pass->rank = rank;
    pass->below = below;
    pass->below_foreground = below_foreground;
    pass->kept_foreground = kept_foreground;
    pass->nonfinite |= (uint64_t)(nonfinite != 0);
    pass->and_bits &= (uint64_t)_mm512_reduce_and_epi64(and_keys);
    pass->or_bits |= (uint64_t)_mm512_reduce_or_epi64(or_keys);
    if (below_keys) {
        pass->below_and &= (uint64_t)_mm512_reduce_and_epi64(below_and);
        pass->below_or |= (uint64_t)_mm512_reduce_or_epi64(below_or);
    }
    // The last pixels (fewer than sixteen) eight at a time, then one at a time.
    if (i < count) {
        if (floored) {
            create_keys_avx2_form(
                pass, scores + i, lovasz_classes_advanced(labels, i), count - i, foreground, background, cut, keys, 1);
        } else {
            create_keys_avx2_form(
                pass, scores + i, lovasz_classes_advanced(labels, i), count - i, foreground, background, cut, keys, 0);
        }
    }
}

AVX512 static void create_keys_avx512(
    lovasz_key_pass *pass, const float *scores, lovasz_classes labels, size_t count,
    int32_t foreground, float background, uint64_t cut, uint64_t *keys)
{
    create_keys_avx512_form(pass, scores, labels, count, foreground, background, cut, keys, 0);
}

AVX512 static void create_keys_avx512_floored(
    lovasz_key_pass *pass, const float *scores, lovasz_classes labels, size_t count,
    int32_t foreground, float background, uint64_t cut, uint64_t *keys)
{
    create_keys_avx512_form(pass, scores, labels, count, foreground, background, cut, keys, 1);
}

__attribute__((target("avx2,popcnt")))
static void create_keys_avx2(
    lovasz_key_pass *pass, const float *scores, lovasz_classes labels, size_t count,
    int32_t foreground, float background, uint64_t cut, uint64_t *keys)
{
    create_keys_avx2_form(pass, scores, labels, count, foreground, background, cut, keys, 0);
}

__attribute__((target("avx2,popcnt")))
static void create_keys_avx2_floored(
    lovasz_key_pass *pass, const float *scores, lovasz_classes labels, size_t count,
    int32_t foreground, float background, uint64_t cut, uint64_t *keys)
{
    create_keys_avx2_form(pass, scores, labels, count, foreground, background, cut, keys, 1);
}

/// The arguments of a key pass, passed on.
#define KEY_PASS_ARGUMENTS pass, scores, labels, count, foreground, background, cut, keys

/// `name` (the widest form this processor runs) and `name##_avx2_only` (never more than eight
/// pixels at a time) of a key pass, plain or floored.
#define KEY_PASS_FORMS(name, avx512, avx2, scalar)                                                 \
    LOVASZ_CPU_KEY_PASS(name) {                                                                    \
        if (lovasz_cpu_avx512) avx512(KEY_PASS_ARGUMENTS);                                         \
        else name##_avx2_only(KEY_PASS_ARGUMENTS);                                                 \
    }                                                                                              \
    LOVASZ_CPU_KEY_PASS(name##_avx2_only) {                                                        \
        if (lovasz_cpu_avx2) avx2(KEY_PASS_ARGUMENTS);                                             \
        else scalar(KEY_PASS_ARGUMENTS);                                                           \
    }

KEY_PASS_FORMS(lovasz_cpu_create_keys, create_keys_avx512, create_keys_avx2, lovasz_cpu_create_keys_scalar)
KEY_PASS_FORMS(
    lovasz_cpu_create_keys_floored, create_keys_avx512_floored, create_keys_avx2_floored,
    lovasz_cpu_create_keys_floored_scalar)

#else

/// `name` and `name##_avx2_only`: the scalar form on other processors.
#define KEY_PASS_FORMS(name, scalar)                                                               \
    LOVASZ_CPU_KEY_PASS(name) { scalar(pass, scores, labels, count, foreground, background, cut, keys); } \
    LOVASZ_CPU_KEY_PASS(name##_avx2_only) { scalar(pass, scores, labels, count, foreground, background, cut, keys); }

KEY_PASS_FORMS(lovasz_cpu_create_keys, lovasz_cpu_create_keys_scalar)
KEY_PASS_FORMS(lovasz_cpu_create_keys_floored, lovasz_cpu_create_keys_floored_scalar)

#endif

LOVASZ_CPU_KEY_PASS(lovasz_cpu_create_keys_floored_scalar)
{
    create_keys_scalar_floored(pass, scores, labels, 0, count, foreground, background, cut, keys);
}

/// The foreground pixel of smallest error `1 - x` in a run (scalar form), from `begin`.
static uint64_t foreground_best_scalar(
    const float *scores, lovasz_classes labels, size_t begin, size_t count, int32_t foreground,
    uint64_t first_pixel, uint64_t best)
{
    for (size_t i = begin; i < count; i++) {
        if (lovasz_class_at(labels, i) != foreground) continue;
        uint64_t key = (uint64_t)descending_word(bits_of(1.0f - scores[i])) << 32 | (first_pixel + i);
        if (key > best) best = key;
    }
    return best;
}

uint64_t lovasz_cpu_foreground_best_scalar(
    const float *scores, lovasz_classes labels, size_t count, int32_t foreground, uint64_t first_pixel)
{
    return foreground_best_scalar(scores, labels, 0, count, foreground, first_pixel, 0);
}

#if defined(__x86_64__)
__attribute__((target("avx2,popcnt")))
static uint64_t foreground_best_avx2(
    const float *scores, lovasz_classes labels, size_t count, int32_t foreground, uint64_t first_pixel)
{
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u);
    const __m256i low31 = _mm256_set1_epi32(0x7FFFFFFF);
    const __m256i one_int = _mm256_set1_epi32(1);
    const __m256i wanted = _mm256_set1_epi32(foreground);
    const __m256 one = _mm256_set1_ps(1.0f);
    // Per lane: the largest word seen (sign-flipped, so that signed comparisons order it as
    // unsigned; the smallest value marks none) and the last pixel that had it.
    __m256i best_word = _mm256_set1_epi32((int)0x80000000u);
    __m256i best_pixel = _mm256_setzero_si256();
    __m256i seen = _mm256_setzero_si256();
    __m256i pixel = _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)first_pixel), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i step = _mm256_set1_epi32(8);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256i is_foreground = _mm256_cmpeq_epi32(load_eight_classes(labels, i), wanted);
        __m256i bits = _mm256_castps_si256(_mm256_sub_ps(one, _mm256_loadu_ps(scores + i)));
        bits = _mm256_andnot_si256(_mm256_cmpeq_epi32(bits, sign), bits);
        __m256i word = _mm256_xor_si256(
            bits, _mm256_and_si256(_mm256_sub_epi32(_mm256_srli_epi32(bits, 31), one_int), low31));
        __m256i flipped = _mm256_xor_si256(word, sign);
        // word >= best (the later pixel wins a tie), foreground lanes only.
        __m256i take = _mm256_and_si256(is_foreground, _mm256_or_si256(
            _mm256_cmpgt_epi32(flipped, best_word), _mm256_cmpeq_epi32(flipped, best_word)));
        best_word = _mm256_blendv_epi8(best_word, flipped, take);
        best_pixel = _mm256_blendv_epi8(best_pixel, pixel, take);
        seen = _mm256_or_si256(seen, take);
        pixel = _mm256_add_epi32(pixel, step);
    }
    uint32_t words[8], pixels[8], taken[8];
    _mm256_storeu_si256((__m256i *)words, best_word);
    _mm256_storeu_si256((__m256i *)pixels, best_pixel);
    _mm256_storeu_si256((__m256i *)taken, seen);
    uint64_t best = 0;
    for (int lane = 0; lane < 8; lane++) {
        if (!taken[lane]) continue;
        uint64_t key = (uint64_t)(words[lane] ^ 0x80000000u) << 32 | pixels[lane];
        if (key > best) best = key;
    }
    return foreground_best_scalar(scores, labels, i, count, foreground, first_pixel, best);
}
#endif

uint64_t lovasz_cpu_foreground_best(
    const float *scores, lovasz_classes labels, size_t count, int32_t foreground, uint64_t first_pixel)
{
#if defined(__x86_64__)
    if (lovasz_cpu_avx2) return foreground_best_avx2(scores, labels, count, foreground, first_pixel);
#endif
    return foreground_best_scalar(scores, labels, 0, count, foreground, first_pixel, 0);
}
