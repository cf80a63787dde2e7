// The walk of Algorithm 1 over sorted keys (see include/lovasz_cpu.h): one scalar definition,
// and an AVX2 form that computes four steps' divisions at once with the same roundings.
#include "lovasz_cpu.h"
#include "features.h"
#include "float_bits.h"

#include <string.h>

#pragma STDC FP_CONTRACT OFF

/// The error a key's high word was made from (SortKey.error in Swift).
static inline float error_of(uint64_t key) {
    uint32_t word = (uint32_t)(key >> 32);
    return float_of(word ^ (((word >> 31) - 1u) & 0x7FFFFFFFu));
}

static inline uint64_t pixel_of(const lovasz_walk_segment *segment, uint64_t key) {
    uint64_t rank = (key & 0xFFFFFFFFu) >> 1;
    return segment->valid_pixels ? segment->valid_pixels[rank] : segment->first_pixel + rank;
}

/// Stores a loss term's bits at `terms[r]`.
static inline void store_term(uint64_t *terms, size_t r, double term) { memcpy(terms + r, &term, sizeof term); }

/// Keys `begin ..< end` of `sorted`, key `r` being at position `position + r` of its chunk; each
/// loss term is added to its partial sum, or stored at `terms[r]` when `terms` is not NULL.
static inline void walk_scalar(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t begin, size_t end, size_t position,
    lovasz_walk_state *state, uint64_t *terms)
{
    int64_t inter = state->intersection, uni = state->union_count;
    for (size_t r = begin; r < end; r++) {
        uint64_t key = sorted[r];
        int is_foreground = (int)(key & 1);
        double union_value = (double)uni;
        double numerator = is_foreground ? 1.0 : (double)inter;
        double denominator = is_foreground ? union_value : union_value * (double)(uni + 1);
        double g = numerator / denominator;
        inter -= is_foreground;
        uni += 1 - is_foreground;
        float error = error_of(key);
        int active = !segment->hinge || error > 0.0f;
        double term = active ? (double)error * g : 0.0;
        if (terms) {
            store_term(terms, r, term);
        } else {
            state->sums[(position + r) & 3] += term;
        }
        if (segment->plane) {
            double derivative = active ? (is_foreground ? -segment->weight : segment->weight) * g : 0.0;
            segment->plane[pixel_of(segment, key)] = (float)derivative;
        }
    }
    state->intersection = inter;
    state->union_count = uni;
}

void lovasz_cpu_walk_scalar(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t count, size_t position,
    lovasz_walk_state *state)
{
    walk_scalar(segment, sorted, 0, count, position, state, NULL);
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,popcnt")))

/// A non-negative integer below 2^52 as a double, exactly (AVX2 has no 64-bit conversion).
AVX2 static inline __m256d exact_double(__m256i x) {
    const __m256i magic = _mm256_set1_epi64x(0x4330000000000000);
    return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(x, magic)), _mm256_set1_pd(4503599627370496.0));
}

AVX2 static inline void walk_avx2(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t count, size_t position,
    lovasz_walk_state *state, uint64_t *terms)
{
    // One key at a time up to a position that is a multiple of 4: from there lane l of the
    // vectors is partial sum l.
    size_t head = (4 - (position & 3)) & 3;
    if (head > count) head = count;
    walk_scalar(segment, sorted, 0, head, position, state, terms);
    int64_t inter = state->intersection, uni = state->union_count;
    __m256d sums = _mm256_loadu_pd(state->sums);
    // Exclusive prefix counts of foreground lanes, by the 4-bit mask of foreground lanes.
    static const int64_t before[16][4] = {
        {0, 0, 0, 0}, {0, 1, 1, 1}, {0, 0, 1, 1}, {0, 1, 2, 2}, {0, 0, 0, 1}, {0, 1, 1, 2}, {0, 0, 1, 2}, {0, 1, 2, 3},
        {0, 0, 0, 0}, {0, 1, 1, 1}, {0, 0, 1, 1}, {0, 1, 2, 2}, {0, 0, 0, 1}, {0, 1, 1, 2}, {0, 0, 1, 2}, {0, 1, 2, 3},
    };
    const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d weight = _mm256_set1_pd(segment->weight);
    const __m256d negative_weight = _mm256_set1_pd(-segment->weight);
    // The error words of four keys: the odd 32-bit lanes.
    const __m256i high_words = _mm256_setr_epi32(1, 3, 5, 7, 1, 3, 5, 7);
    size_t r = head;
    for (; r + 4 <= count; r += 4) {
        __m256i keys = _mm256_loadu_si256((const __m256i *)(sorted + r));
        int mask = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_slli_epi64(keys, 63)));
        __m256i foreground_before = _mm256_loadu_si256((const __m256i *)before[mask]);
        __m256i background_before = _mm256_sub_epi64(lane, foreground_before);
        __m256d union_value = exact_double(_mm256_add_epi64(_mm256_set1_epi64x(uni), background_before));
        __m256d inter_value = exact_double(_mm256_sub_epi64(_mm256_set1_epi64x(inter), foreground_before));
        __m256d is_foreground = _mm256_castsi256_pd(_mm256_cmpeq_epi64(
            _mm256_and_si256(keys, _mm256_set1_epi64x(1)), _mm256_set1_epi64x(1)));
        __m256d numerator = _mm256_blendv_pd(inter_value, one, is_foreground);
        __m256d denominator = _mm256_blendv_pd(
            _mm256_mul_pd(union_value, _mm256_add_pd(union_value, one)), union_value, is_foreground);
        __m256d g = _mm256_div_pd(numerator, denominator);
        // Errors: the key words back to floats, widened exactly.
        __m128i words = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(keys, high_words));
        __m128i flip = _mm_and_si128(_mm_sub_epi32(_mm_srli_epi32(words, 31), _mm_set1_epi32(1)), _mm_set1_epi32(0x7FFFFFFF));
        __m128 errors = _mm_castsi128_ps(_mm_xor_si128(words, flip));
        __m256d error = _mm256_cvtps_pd(errors);
        // The hinge counts only positive errors.
        __m256d active = segment->hinge
            ? _mm256_cmp_pd(error, _mm256_setzero_pd(), _CMP_GT_OQ)
            : _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
        __m256d term = _mm256_and_pd(_mm256_mul_pd(error, g), active);
        if (terms) {
            _mm256_storeu_pd((double *)(void *)(terms + r), term);
        } else {
            sums = _mm256_add_pd(sums, term);
        }
        if (segment->plane) {
            __m256d signed_weight = _mm256_blendv_pd(weight, negative_weight, is_foreground);
            float values[4];
            _mm_storeu_ps(values, _mm256_cvtpd_ps(_mm256_and_pd(_mm256_mul_pd(signed_weight, g), active)));
            uint64_t k[4];
            _mm256_storeu_si256((__m256i *)k, keys);
            for (int l = 0; l < 4; l++) segment->plane[pixel_of(segment, k[l])] = values[l];
        }
        int foreground = _mm_popcnt_u32((unsigned)mask);
        inter -= foreground;
        uni += 4 - foreground;
    }
    _mm256_storeu_pd(state->sums, sums);
    state->intersection = inter;
    state->union_count = uni;
    walk_scalar(segment, sorted, r, count, position, state, terms);
}

AVX2 static void walk_avx2_sums(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t count, size_t position,
    lovasz_walk_state *state)
{
    walk_avx2(segment, sorted, count, position, state, NULL);
}

AVX2 static void walk_avx2_terms(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t count, size_t position,
    lovasz_walk_state *state, uint64_t *terms)
{
    walk_avx2(segment, sorted, count, position, state, terms);
}
#endif

void lovasz_cpu_walk(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t count, size_t position,
    lovasz_walk_state *state)
{
#if defined(__x86_64__)
    if (lovasz_cpu_avx2) {
        walk_avx2_sums(segment, sorted, count, position, state);
        return;
    }
#endif
    lovasz_cpu_walk_scalar(segment, sorted, count, position, state);
}

void lovasz_cpu_walk_terms(
    const lovasz_walk_segment *segment, const uint64_t *sorted, size_t count, size_t position,
    lovasz_walk_state *state, uint64_t *terms)
{
#if defined(__x86_64__)
    if (lovasz_cpu_avx2) {
        walk_avx2_terms(segment, sorted, count, position, state, terms);
        return;
    }
#endif
    walk_scalar(segment, sorted, 0, count, position, state, terms);
}
