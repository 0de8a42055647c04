/*
 * shm/robust.h - process-shared robust mutexes.
 *
 * Every lock in shared memory is PTHREAD_PROCESS_SHARED and
 * PTHREAD_MUTEX_ROBUST: when its owner dies, the kernel hands the lock to
 * the next locker with EOWNERDEAD. airsrt_robust_lock() then makes the lock
 * consistent and tells the caller, who must repair whatever the dead owner
 * may have left half-done before relying on the protected data. A lock is
 * never left ENOTRECOVERABLE by this code, because every EOWNERDEAD is made
 * consistent before it is unlocked.
 */
#ifndef AIRSRT_SHM_ROBUST_H
#define AIRSRT_SHM_ROBUST_H

#include <pthread.h>
#include <stdbool.h>

/* Initializes m in place as a robust process-shared mutex: 0 or -errno. */
int airsrt_robust_init(pthread_mutex_t *m);

/* Nobody waits longer than this for a robust lock: every holder does
 * bounded work only, so a holder this slow is hung (stopped, or stuck),
 * and a waiter that blocked for good on it (the supervisor, above all)
 * would hang with it. */
#define AIRSRT_ROBUST_LOCK_TIMEOUT_MS 1000u

/*
 * Locks m. Returns 0 with *owner_died set when the previous owner died
 * holding it (the lock is already consistent again), -ETIMEDOUT when it
 * is still held after AIRSRT_ROBUST_LOCK_TIMEOUT_MS, or another -errno.
 * Callers hold it for bounded work only and never across a wait.
 */
int airsrt_robust_lock(pthread_mutex_t *m, bool *owner_died);

void airsrt_robust_unlock(pthread_mutex_t *m);

#endif
