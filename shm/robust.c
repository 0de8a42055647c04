/*
 * shm/robust.c - robust mutex helpers (see robust.h for the contract).
 */
#include <errno.h>
#include <time.h>

#include "shm/robust.h"

int airsrt_robust_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t attr;
    int rc;

    rc = pthread_mutexattr_init(&attr);
    if (rc != 0)
        return -rc;
    rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);
    return -rc;
}

int airsrt_robust_lock(pthread_mutex_t *m, bool *owner_died)
{
    struct timespec deadline;
    int rc;

    rc = pthread_mutex_trylock(m);
    if (rc == EBUSY) {
        /* Read the clock only when we must wait. CLOCK_MONOTONIC: a step
         * of the wall clock cannot stretch the bound. */
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += AIRSRT_ROBUST_LOCK_TIMEOUT_MS / 1000;
        deadline.tv_nsec +=
            (long)(AIRSRT_ROBUST_LOCK_TIMEOUT_MS % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
        rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &deadline);
    }

    *owner_died = false;
    if (rc == EOWNERDEAD) {
        /* We own it now; without this the next unlock would make the
         * lock unusable for everyone (ENOTRECOVERABLE). The caller
         * repairs the data it protects. */
        *owner_died = true;
        rc = pthread_mutex_consistent(m);
    }
    return -rc;
}

void airsrt_robust_unlock(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
}
