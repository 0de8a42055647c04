/*
 * shm/stat.h - counters in shared memory that one writer at a time adds
 * to (a ring's producer or consumer, the registry's lock holder, a worker
 * in its own pages) and anyone reads. Private to the library.
 */
#ifndef AIRSRT_SHM_STAT_H
#define AIRSRT_SHM_STAT_H

#include <stdatomic.h>
#include <stdint.h>

/* With one writer, a relaxed load and store is enough: no locked
 * instruction, and readers see each value whole. A writer that dies
 * between the two leaves the counter as it was. */
static inline void airsrt__stat_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

#endif
