// Which forms of the CPU path's loops this processor runs, decided once when the library loads.
#include "features.h"

int lovasz_cpu_avx2;
int lovasz_cpu_avx512;
int lovasz_cpu_avx512cd;
int lovasz_cpu_bmi2;

__attribute__((constructor))
static void lovasz_cpu_detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    lovasz_cpu_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
    if (lovasz_cpu_avx2) lovasz_cpu_fill_compaction();
    // (__builtin_cpu_supports also checks that the system saves the AVX-512 registers.)
    lovasz_cpu_avx512 = lovasz_cpu_avx2 && __builtin_cpu_supports("avx512f");
    if (lovasz_cpu_avx512) lovasz_cpu_fill_walk_prefixes();
    lovasz_cpu_avx512cd = lovasz_cpu_avx512 && __builtin_cpu_supports("avx512cd");
    lovasz_cpu_bmi2 = __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
#endif
}

int lovasz_cpu_has_vector_forms(void) { return lovasz_cpu_avx2; }

int lovasz_cpu_has_wide_vector_forms(void) { return lovasz_cpu_avx512; }
