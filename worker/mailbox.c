/*
 * worker/mailbox.c - an actor's local mailbox: one FIFO lane per priority,
 * taken highest first, with an optional bound and overflow policy.
 *
 * Nothing leaves a mailbox unaccounted: every envelope is either taken by
 * the scheduler or becomes a dead letter with its reason (dropped or
 * refused by the bound, expired, or left when the actor stopped). The
 * system lane ignores the bound, so a full mailbox can still be stopped.
 */
#include <errno.h>

#include "worker/worker_impl.h"

static void lane_push(struct airsrt_worker *w, struct actor *a,
                      unsigned lane, struct msg *m)
{
    m->next = NULL;
    if (a->tail[lane] != NULL)
        a->tail[lane]->next = m;
    else
        a->head[lane] = m;
    a->tail[lane] = m;
    a->lane_mask |= (uint8_t)(1u << lane);
    a->depth++;
    w->queued++;
}

static struct msg *lane_pop(struct airsrt_worker *w, struct actor *a,
                            unsigned lane)
{
    struct msg *m = a->head[lane];

    a->head[lane] = m->next;
    if (a->head[lane] == NULL) {
        a->tail[lane] = NULL;
        a->lane_mask &= (uint8_t)~(1u << lane);
    }
    a->depth--;
    w->queued--;
    return m;
}

/* Makes room for an envelope of priority prio by dropping the oldest
 * envelope of the lowest non-empty lane at or below it. False if every
 * queued envelope outranks it. */
static bool drop_oldest(struct airsrt_worker *w, struct actor *a,
                        unsigned prio)
{
    for (unsigned lane = 0; lane <= prio && lane < AIRSRT_PRIO_SYSTEM;
         lane++) {
        if (a->head[lane] != NULL) {
            airsrt__dead_letter(w, lane_pop(w, a, lane),
                                AIRSRT_DL_MAILBOX_FULL);
            return true;
        }
    }
    return false;
}

int airsrt__mailbox_put(struct airsrt_worker *w, struct actor *a,
                        struct msg *m)
{
    unsigned prio = m->env.priority;

    if (a->bound != 0 && a->depth >= a->bound && prio != AIRSRT_PRIO_SYSTEM &&
        !(a->overflow == AIRSRT_OVERFLOW_DROP_OLDEST &&
          drop_oldest(w, a, prio))) {
        /* Dropping the oldest did not make room: everything queued
         * outranks m. A refused m goes back to the caller, who tells
         * its sender before it becomes a dead letter. */
        if (a->overflow == AIRSRT_OVERFLOW_REJECT)
            return -ENOBUFS;
        airsrt__dead_letter(w, m, AIRSRT_DL_MAILBOX_FULL);
        return 0;
    }
    lane_push(w, a, prio, m);
    airsrt__stat_add(&w->self->envelopes_in, 1);
    if (!a->is_queued)
        airsrt__runq_push(w, a);
    return 0;
}

struct msg *airsrt__mailbox_take(struct airsrt_worker *w, struct actor *a)
{
    if (a->lane_mask == 0)
        return NULL;
    return lane_pop(w, a, 31u - (unsigned)__builtin_clz(a->lane_mask));
}

void airsrt__mailbox_drain(struct airsrt_worker *w, struct actor *a,
                           unsigned reason)
{
    struct msg *m;

    while ((m = airsrt__mailbox_take(w, a)) != NULL)
        airsrt__dead_letter(w, m, reason);
}
