/*
 * worker/fault.c - the fault hook: lets airsrt-inject(1) make this worker
 * die while it holds a robust lock, so that a test can prove the
 * supervisor's recovery end to end (kill-in-lock).
 *
 * Off unless the segment was created with AIRSRT_SHM_F_FAULT_INJECTION
 * ([runtime] fault_injection = true), a flag in the header page no worker
 * can write. The request is a word in this worker's supervisor part
 * (struct airsrt_worker_sup), also read-only to workers: only a process
 * with the whole segment mapped writable, i.e. the owner's uid, can ask.
 * No envelope is ever looked at here, so no message, reserved type or
 * payload can trigger it.
 *
 * What it leaves behind, on purpose: the registry lock owned by a dead
 * process (the next locker gets EOWNERDEAD and sweeps the table, see
 * shm/registry.h), and nothing half-written under it, since the hook
 * writes nothing while it holds the lock.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "shm/robust.h"
#include "worker/worker_impl.h"

static void die_in_registry_lock(struct airsrt_worker *w)
{
    bool owner_died;

    if (airsrt_robust_lock(&w->reg.hdr->lock, &owner_died) != 0) {
        /* Held by a hung process: say so and leave the request pending;
         * the next poll tries again. */
        fprintf(stderr, "airsrt worker %s: fault injection: registry lock "
                "busy\n", w->name);
        return;
    }
    fprintf(stderr, "airsrt worker %s: fault injection: dying with the "
            "registry lock held\n", w->name);
    kill(getpid(), SIGKILL);
    for (;;)
        pause();                  /* SIGKILL is never late for long */
}

void airsrt__fault_poll(struct airsrt_worker *w)
{
    const struct airsrt_worker_sup *sup;
    uint64_t req;

    if ((w->shm->params.flags & AIRSRT_SHM_F_FAULT_INJECTION) == 0)
        return;
    sup = airsrt_shm_worker_sup(w->shm, w->index);
    if (sup == NULL)
        return;
    /* Relaxed: the word is the whole request, nothing else rides on it. */
    req = atomic_load_explicit(&sup->fault_request, memory_order_relaxed);
    if (req == 0 || (uint32_t)(req >> 32) != w->incarnation)
        return;
    if ((uint32_t)req == AIRSRT_FAULT_DIE_IN_REGISTRY_LOCK)
        die_in_registry_lock(w);
}
