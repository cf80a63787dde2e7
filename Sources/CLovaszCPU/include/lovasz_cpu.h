#ifndef LOVASZ_CPU_H
#define LOVASZ_CPU_H

/// Asks the CPU to bring the cache line of `address` in for writing, ahead of a store whose
/// address is known early. A hint only: no fault, no effect on any value.
static inline void lovasz_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
