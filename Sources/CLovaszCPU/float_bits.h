#ifndef LOVASZ_CPU_FLOAT_BITS_H
#define LOVASZ_CPU_FLOAT_BITS_H

#include <stdint.h>
#include <string.h>

/// The bits of a float, and a float from its bits.
static inline uint32_t bits_of(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

static inline float float_of(uint32_t bits) {
    float x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/// The error's word of a sort key, ascending for descending errors, -0 folded into +0
/// (SortKey.descending in Swift).
static inline uint32_t descending_word(uint32_t bits) {
    if (bits == 0x80000000u) bits = 0;
    return bits ^ (((bits >> 31) - 1u) & 0x7FFFFFFFu);
}

#endif
