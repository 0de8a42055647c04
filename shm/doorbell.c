/*
 * shm/doorbell.c - futex doorbells. The futex is the shared (not PRIVATE)
 * kind: sender and receiver are different processes mapping one segment.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shm/cpu.h"
#include "shm/doorbell.h"

static long futex(_Atomic uint32_t *word, int op, uint32_t val,
                  const struct timespec *ts)
{
    return syscall(SYS_futex, (uint32_t *)word, op, val, ts, NULL, 0);
}

void airsrt_doorbell_ring(struct airsrt_doorbell *d)
{
    /* Pairs with the fence in airsrt_doorbell_wait(): orders our
     * publication before the load of is_sleeping. */
    atomic_thread_fence(memory_order_seq_cst);
    if (!atomic_load_explicit(&d->is_sleeping, memory_order_relaxed))
        return;
    atomic_fetch_add_explicit(&d->seq, 1, memory_order_release);
    atomic_fetch_add_explicit(&d->wakes, 1, memory_order_relaxed);
    futex(&d->seq, FUTEX_WAKE, 1, NULL);
}

void airsrt_doorbell_reset(struct airsrt_doorbell *d)
{
    atomic_store_explicit(&d->is_sleeping, 0, memory_order_relaxed);
}

int airsrt_doorbell_wait(struct airsrt_doorbell *d, bool (*has_work)(void *),
                         void *arg, uint32_t spin, int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    uint32_t seq;
    int rc = 0;

    for (uint32_t i = 0; i < spin; i++) {
        if (has_work(arg))
            return 1;
        airsrt__cpu_relax();
    }
    seq = atomic_load_explicit(&d->seq, memory_order_acquire);
    atomic_store_explicit(&d->is_sleeping, 1, memory_order_relaxed);
    /* Pairs with the fence in airsrt_doorbell_ring(): a sender that
     * published before this fence is seen by has_work() below; one that
     * publishes after it sees is_sleeping and bumps seq past our copy. */
    atomic_thread_fence(memory_order_seq_cst);
    if (has_work(arg)) {
        rc = 1;
        goto out;
    }
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    if (futex(&d->seq, FUTEX_WAIT, seq, tsp) < 0 && errno != EAGAIN &&
        errno != EINTR && errno != ETIMEDOUT)
        rc = -errno;
out:
    atomic_store_explicit(&d->is_sleeping, 0, memory_order_relaxed);
    return rc;
}
