// Inner loops of the radix sort (see include/lovasz_cpu.h): the LSD scatter pass, a scalar
// loop and an AVX-512F/CD form that moves eight keys with one gather of their offsets and two
// scatters when their digits differ; and the insertion pass that finishes a sort by the upper
// bits, a scalar loop and an AVX2 form that skips four keys at a time while they are in order.
#include "lovasz_cpu.h"
#include "features.h"

static inline void scatter_scalar(
    const uint64_t *source, uint64_t *destination, size_t begin, size_t end, unsigned shift, uint64_t mask,
    uint32_t *offsets)
{
    for (size_t i = begin; i < end; i++) {
        uint64_t key = source[i];
        size_t digit = (size_t)((key >> shift) & mask);
        destination[offsets[digit]++] = key;
    }
}

void lovasz_cpu_radix_scatter_scalar(
    const uint64_t *source, uint64_t *destination, size_t count, unsigned shift, uint64_t mask, uint32_t *offsets)
{
    scatter_scalar(source, destination, 0, count, shift, mask, offsets);
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512CD __attribute__((target("avx2,avx512f,avx512cd")))

/// Eight keys at a time: when their eight digits are distinct (`vpconflictq` finds no earlier
/// lane with the same digit), their offsets are gathered, the keys scattered to them and the
/// offsets plus one scattered back; otherwise the eight go one by one, in order. Either way
/// each key lands where the scalar loop puts it. In a C model of the 2×3×200×200 call's keys
/// (80 000 keys in cache, 2 048 buckets), medians: the middle digit's pass 213-227 against
/// 273-278 µs, the crowded top digit's 167-174 against 195-213 µs.
AVX512CD static void scatter_avx512(
    const uint64_t *source, uint64_t *destination, size_t count, unsigned shift, uint64_t mask, uint32_t *offsets)
{
    const __m512i digit_mask = _mm512_set1_epi64((long long)mask);
    const __m256i one = _mm256_set1_epi32(1);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m512i keys = _mm512_loadu_si512((const void *)(source + i));
        __m512i digits = _mm512_and_si512(_mm512_srli_epi64(keys, shift), digit_mask);
        __m512i conflicts = _mm512_conflict_epi64(digits);
        if (_mm512_test_epi64_mask(conflicts, conflicts) != 0) {
            scatter_scalar(source, destination, i, i + 8, shift, mask, offsets);
            continue;
        }
        __m256i positions = _mm512_i64gather_epi32(digits, (const void *)offsets, 4);
        _mm512_i64scatter_epi64((void *)destination, _mm512_cvtepu32_epi64(positions), keys, 8);
        _mm512_i64scatter_epi32((void *)offsets, digits, _mm256_add_epi32(positions, one), 4);
    }
    scatter_scalar(source, destination, i, count, shift, mask, offsets);
}
#endif

void lovasz_cpu_radix_scatter(
    const uint64_t *source, uint64_t *destination, size_t count, unsigned shift, uint64_t mask, uint32_t *offsets)
{
#if defined(__x86_64__)
    if (lovasz_cpu_avx512cd) {
        scatter_avx512(source, destination, count, shift, mask, offsets);
        return;
    }
#endif
    scatter_scalar(source, destination, 0, count, shift, mask, offsets);
}

int lovasz_cpu_has_conflict_scatter(void) { return lovasz_cpu_avx512cd; }

/// Inserts `keys[i]` (key word `word`) into the sorted `keys[0 ..< i]`; returns the keys moved.
static inline size_t insert(uint64_t *keys, size_t i, uint64_t word) {
    uint64_t key = keys[i];
    size_t j = i;
    while (j > 0 && (keys[j - 1] >> 32) > word) {
        keys[j] = keys[j - 1];
        j--;
    }
    keys[j] = key;
    return i - j;
}

int lovasz_cpu_insertion_fix_scalar(uint64_t *keys, size_t count, size_t budget) {
    size_t moved = 0;
    for (size_t i = 1; i < count; i++) {
        uint64_t word = keys[i] >> 32;
        if ((keys[i - 1] >> 32) <= word) continue;
        moved += insert(keys, i, word);
        if (moved > budget) return 0;
    }
    return 1;
}

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2")))

/// Four keys at a time are compared with their predecessors (the words, shifted down, are
/// below 2^32, so the signed comparison orders them): a block in order is passed over at once,
/// any other is taken key by key as the scalar loop takes it, so the keys move the same way
/// and the budget runs out at the same key. In a C model of the small call's 80 000 keys
/// sorted by their upper 22 bits (about 800 out of order): 23-25 against 48-51 µs.
AVX2 static int insertion_fix_avx2(uint64_t *keys, size_t count, size_t budget) {
    size_t moved = 0;
    size_t i = 1;
    while (i < count) {
        if (i + 4 <= count) {
            __m256i words = _mm256_srli_epi64(_mm256_loadu_si256((const __m256i *)(const void *)(keys + i)), 32);
            __m256i before = _mm256_srli_epi64(_mm256_loadu_si256((const __m256i *)(const void *)(keys + i - 1)), 32);
            if (_mm256_testz_si256(_mm256_cmpgt_epi64(before, words), _mm256_set1_epi64x(-1))) {
                i += 4;
                continue;
            }
        }
        size_t end = i + 4 < count ? i + 4 : count;
        for (; i < end; i++) {
            uint64_t word = keys[i] >> 32;
            if ((keys[i - 1] >> 32) <= word) continue;
            moved += insert(keys, i, word);
            if (moved > budget) return 0;
        }
    }
    return 1;
}
#endif

int lovasz_cpu_insertion_fix(uint64_t *keys, size_t count, size_t budget) {
#if defined(__x86_64__)
    if (lovasz_cpu_avx2) return insertion_fix_avx2(keys, count, budget);
#endif
    return lovasz_cpu_insertion_fix_scalar(keys, count, budget);
}

/// The counts of ``lovasz_cpu_count_digits`` for `digits` (1 ... 4, a constant after inlining).
static inline __attribute__((always_inline)) void count_digits(
    const uint64_t *keys, size_t count, const lovasz_digit *digit, const uint64_t *scratch, const int digits)
{
    // In locals: a counter's store could otherwise alias a digit's fields and reload them.
    unsigned shift[4] = {0, 0, 0, 0};
    uint64_t mask[4] = {0, 0, 0, 0};
    uint32_t *counts[4] = {0, 0, 0, 0};
    for (int d = 0; d < digits; d++) {
        shift[d] = digit[d].shift;
        mask[d] = digit[d].mask;
        counts[d] = digit[d].counts;
    }
    for (size_t i = 0; i < count; i += 8) {
        lovasz_cpu_prefetch_for_write(scratch + i);
        size_t end = i + 8 < count ? i + 8 : count;
        for (size_t k = i; k < end; k++) {
            uint64_t key = keys[k];
            for (int d = 0; d < digits; d++) counts[d][(key >> shift[d]) & mask[d]] += 1;
        }
    }
}

/// Every form, specialized for the number of digits.
#define COUNT_DIGITS_BODY                                                                         \
    switch (digits) {                                                                             \
    case 1: count_digits(keys, count, digit, scratch, 1); break;                                  \
    case 2: count_digits(keys, count, digit, scratch, 2); break;                                  \
    case 3: count_digits(keys, count, digit, scratch, 3); break;                                  \
    default: count_digits(keys, count, digit, scratch, 4); break;                                 \
    }

#if defined(__x86_64__)
/// Variable shifts without the flags (`shrx`): a shift by `cl` is three micro-ops on Intel cores.
/// Measured on the Intel Xeon VM (alternating processes, sixteen pairs): the 2×3×200×200
/// confident call 1.045x faster than the same loop in Swift for the baseline processor
/// (the pairs' median 1.042x; faster in fourteen of sixteen).
__attribute__((target("bmi,bmi2"))) static void count_digits_bmi2(
    const uint64_t *keys, size_t count, const lovasz_digit *digit, int digits, const uint64_t *scratch)
{
    COUNT_DIGITS_BODY
}
#endif

void lovasz_cpu_count_digits(
    const uint64_t *keys, size_t count, const lovasz_digit *digit, int digits, const uint64_t *scratch)
{
#if defined(__x86_64__)
    if (lovasz_cpu_bmi2) {
        count_digits_bmi2(keys, count, digit, digits, scratch);
        return;
    }
#endif
    COUNT_DIGITS_BODY
}
