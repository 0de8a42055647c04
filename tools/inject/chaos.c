/*
 * tools/inject/chaos.c - the chaos schedule: a function of the seed
 * alone, so that a run can be replayed (airsrt-inject(1), "chaos").
 * Timing decides only how much of the sequence a run gets through
 * (waits for a victim to be running again delay what follows), never
 * which (delay, fault, victim, parameter) comes next.
 */
#include "tools/inject/inject.h"

uint64_t inject_prng_next(struct inject_prng *p)
{
    uint64_t z = (p->s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t inject_prng_below(struct inject_prng *p, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)inject_prng_next(p) * n) >> 64);
}

void inject_chaos_next(struct inject_prng *p, double rate, uint32_t nfaults,
                       uint32_t nvictims, uint64_t prev_at_ms,
                       struct inject_step *st)
{
    /* Uniform gaps in [0, 2/rate] s: mean 1/rate, and no libm. */
    uint64_t span = (uint64_t)(2000.0 / rate) + 1;

    st->at_ms = prev_at_ms + inject_prng_below(p, span);
    st->fault = (uint32_t)inject_prng_below(p, nfaults);
    st->victim = (uint32_t)inject_prng_below(p, nvictims);
    st->param = inject_prng_next(p);
}
