#ifndef LOVASZ_CPU_FEATURES_H
#define LOVASZ_CPU_FEATURES_H

/// Nonzero when the processor has AVX2 and POPCNT (x86-64 only); set before main runs.
__attribute__((visibility("hidden"))) extern int lovasz_cpu_avx2;

/// Nonzero when the processor also has AVX-512F (and the system saves its registers): the
/// softmax and the foreground bests then take sixteen pixels at a time, the walk eight keys.
__attribute__((visibility("hidden"))) extern int lovasz_cpu_avx512;

/// Nonzero when the processor also has AVX-512CD: the radix scatter then moves eight keys of
/// distinct digits at a time.
__attribute__((visibility("hidden"))) extern int lovasz_cpu_avx512cd;

/// Nonzero when the processor has BMI1 and BMI2 (x86-64 only): the radix counts then shift
/// without flags.
__attribute__((visibility("hidden"))) extern int lovasz_cpu_bmi2;

/// Fills the lane-compaction table of the AVX2 key pass (keys.c).
__attribute__((visibility("hidden"))) void lovasz_cpu_fill_compaction(void);

/// Fills the foreground-prefix table of the AVX-512F walk (walk.c).
__attribute__((visibility("hidden"))) void lovasz_cpu_fill_walk_prefixes(void);

#endif
