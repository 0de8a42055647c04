/*
 * shm/doorbell.h - futex doorbells: how a sleeping receiver is woken.
 *
 * One doorbell per worker, in shared memory, rung by anyone who publishes
 * work for that worker and slept on by that worker alone. A sender pays a
 * fence and a load per publication, and a system call only when the
 * receiver really sleeps.
 *
 * No lost wake-up (Dekker): the receiver stores is_sleeping, fences, then
 * re-checks for work; a sender publishes its work, fences, then loads
 * is_sleeping. With both fences sequentially consistent, at least one of
 * them sees the other's store: either the receiver finds the work, or the
 * sender sees the sleeper and bumps seq, which makes a FUTEX_WAIT on the
 * old seq return at once.
 *
 * A crashed receiver can leave is_sleeping set: senders then make one
 * needless wake call each until the next incarnation clears it. A crashed
 * sender leaves nothing.
 */
#ifndef AIRSRT_SHM_DOORBELL_H
#define AIRSRT_SHM_DOORBELL_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

struct airsrt_doorbell {
    alignas(64) _Atomic uint32_t seq;     /* futex word; senders bump it */
    _Atomic uint32_t is_sleeping;         /* written by the receiver only */
    _Atomic uint64_t wakes;               /* futex wakes issued, for stats */
};

/* Called by a sender after the release store that published its work. */
void airsrt_doorbell_ring(struct airsrt_doorbell *d);

/*
 * Called by the receiver when it has nothing to do. Spins up to spin
 * rounds calling has_work, then sleeps until rung, or until timeout_ns
 * passes (timeout_ns < 0: no timeout). Returns 1 if has_work said yes,
 * 0 after a wake-up or timeout (the caller re-polls), -errno on failure.
 */
int airsrt_doorbell_wait(struct airsrt_doorbell *d, bool (*has_work)(void *),
                         void *arg, uint32_t spin, int64_t timeout_ns);

/* The receiver's next incarnation calls this before its first wait. */
void airsrt_doorbell_reset(struct airsrt_doorbell *d);

#endif
