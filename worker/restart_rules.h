/*
 * worker/restart_rules.h - the two rules every supervisor in airsrt
 * applies, whether its children are actors (worker/supervision.c) or
 * worker processes (supervisor/tree.c): the restart intensity and the
 * range of children a strategy restarts. Written once so that the two
 * levels cannot drift apart.
 */
#ifndef AIRSRT_WORKER_RESTART_RULES_H
#define AIRSRT_WORKER_RESTART_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "airsrt/supervision.h"

/*
 * Records a restart at now in times_ns, a ring of max_restarts + 1 times
 * of which *n were ever recorded; false when it is one too many: the
 * oldest of the last max_restarts + 1 is within period_ns of now.
 */
static inline bool airsrt__intensity_allows(uint64_t *times_ns, uint64_t *n,
                                            uint32_t max_restarts,
                                            uint64_t period_ns, uint64_t now)
{
    uint64_t size = (uint64_t)max_restarts + 1;

    times_ns[*n % size] = now;
    (*n)++;
    if (*n < size)
        return true;
    /* The slot written next holds the oldest of the last size restarts. */
    return now - times_ns[*n % size] > period_ns;
}

/* The children [*first, *end) that strategy restarts when the one at pos
 * of nchildren ends. */
static inline void airsrt__strategy_range(enum airsrt_strategy strategy,
                                          uint32_t pos, uint32_t nchildren,
                                          uint32_t *first, uint32_t *end)
{
    *first = strategy == AIRSRT_ONE_FOR_ALL ? 0 : pos;
    *end = strategy == AIRSRT_ONE_FOR_ONE ? pos + 1 : nchildren;
}

#endif
