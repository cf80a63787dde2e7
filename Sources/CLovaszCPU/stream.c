// Zeroing with non-temporal stores (see include/lovasz_cpu.h).
#include "lovasz_cpu.h"
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

void lovasz_cpu_zero_streaming(float *values, size_t count)
{
#if defined(__x86_64__)
    size_t i = 0;
    while (i < count && ((uintptr_t)(values + i) & 15u) != 0) values[i++] = 0.0f;
    const __m128 zero = _mm_setzero_ps();
    for (; i + 4 <= count; i += 4) _mm_stream_ps(values + i, zero);
    for (; i < count; i++) values[i] = 0.0f;
    // The stores are weakly ordered: fence them before another thread may read the values.
    _mm_sfence();
#else
    memset(values, 0, count * sizeof(float));
#endif
}
