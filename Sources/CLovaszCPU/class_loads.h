// Vector loads of a run's class indices (see lovasz_classes in include/lovasz_cpu.h), shared by
// the key pass and the softmax's foreground bests.
#ifndef LOVASZ_CPU_CLASS_LOADS_H
#define LOVASZ_CPU_CLASS_LOADS_H

#include "lovasz_cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>

/// Class indices `i ..< i + 8` of a run as eight int32 lanes (sign-extended from the one-byte form).
__attribute__((target("avx2"), always_inline))
static inline __m256i load_eight_classes(lovasz_classes classes, size_t i) {
    if (classes.narrow) return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(classes.narrow + i)));
    return _mm256_loadu_si256((const __m256i *)(classes.wide + i));
}

/// Class indices `i ..< i + 16` of a run as sixteen int32 lanes.
__attribute__((target("avx2,avx512f"), always_inline))
static inline __m512i load_sixteen_classes(lovasz_classes classes, size_t i) {
    if (classes.narrow) return _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(classes.narrow + i)));
    return _mm512_loadu_si512((const void *)(classes.wide + i));
}
#endif

#endif
