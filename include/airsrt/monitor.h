/*
 * airsrt/monitor.h - monitors: being told once when another actor ends.
 *
 * An actor watches any actor, in its own worker or another, with
 * airsrt_monitor(). When the watched actor (the target) ends, the watcher
 * gets exactly one AIRSRT_MSG_DOWN envelope saying why, at system
 * priority, unless it called airsrt_demonitor() first:
 *
 *   AIRSRT_DOWN_NORMAL       it stopped (airsrt_stop, its parent stopped,
 *                            its worker shut down)
 *   AIRSRT_DOWN_FAILED       it ended by a failure (on_error said STOP or
 *                            ESCALATE, or a restart could not bring it up)
 *   AIRSRT_DOWN_NO_ACTOR     it did not exist when the monitor arrived
 *   AIRSRT_DOWN_WORKER_DIED  its worker's incarnation died (the supervisor
 *                            announced it: AIRSRT_CTL_WORKER_DOWN)
 *
 * A restart (AIRSRT_RESTART) does not end an actor: no DOWN, and the
 * monitors it set stay too (its state is new, so it may get the DOWN of a
 * ref it no longer remembers). Monitors are one-way and not links: the
 * watcher is told, nothing else happens to it.
 *
 * Exactly once: the watcher's worker keeps the monitors its actors set,
 * and hands a DOWN to the watcher only while its monitor is still there,
 * removing it as it does. So a DOWN after airsrt_demonitor(), or a DOWN
 * from the target's worker that comes after the WORKER_DIED one (the two
 * race), is dropped, not delivered; a worker counts those it drops.
 * A watcher that ends drops its monitors with it.
 *
 * All functions here may only be called from an actor's callback, with
 * its ctx.
 */
#ifndef AIRSRT_MONITOR_H
#define AIRSRT_MONITOR_H

#include <assert.h>
#include <stdint.h>

#include "airsrt/actor.h"
#include "airsrt/envelope.h"

/* To the watcher: payload struct airsrt_down, correlation_id the
 * monitor's ref, sender the target. Reaches handle. */
#define AIRSRT_MSG_DOWN       0xFFFF0300u
/* Between workers only, never to handle: the watcher's worker asks the
 * target's worker to watch recipient for sender (correlation_id = ref,
 * no payload), or to forget it. */
#define AIRSRT_MSG_MONITOR    0xFFFF0301u
#define AIRSRT_MSG_DEMONITOR  0xFFFF0302u
/* Every type id of this header is in [FIRST, LAST]. */
#define AIRSRT_MSG_MONITOR_FIRST 0xFFFF0300u
#define AIRSRT_MSG_MONITOR_LAST  0xFFFF03FFu

enum airsrt_down_reason {
    AIRSRT_DOWN_NORMAL = 0,
    AIRSRT_DOWN_FAILED,
    AIRSRT_DOWN_NO_ACTOR,
    AIRSRT_DOWN_WORKER_DIED,
    AIRSRT_DOWN_REASONS
};

/*
 * Payload of AIRSRT_MSG_DOWN. err depends on reason:
 *   NORMAL       0
 *   FAILED       the negative error of the failure on_error last saw
 *                for it (handle's return, or the child's for
 *                AIRSRT_FAILED_IN_CHILD)
 *   NO_ACTOR     0; or, from a target in another worker that exists
 *                but could not be watched: -ENOSPC (it had
 *                AIRSRT_MONITOR_WATCHERS_MAX watchers already), -ENOMEM
 *   WORKER_DIED  -signal when a signal ended the worker, else its exit
 *                status (>= 0)
 * Crosses processes as bytes: fixed size, no pointers.
 */
struct airsrt_down {
    struct airsrt_address target;
    uint32_t reason;                /* enum airsrt_down_reason */
    int32_t err;
};
static_assert(sizeof(struct airsrt_down) == 24,
              "struct airsrt_down crosses processes: keep its size");

/* Watchers one actor may have at once. Each costs 24 bytes in the
 * target's worker, until the watcher demonitors, ends, or its worker is
 * announced dead. */
#define AIRSRT_MONITOR_WATCHERS_MAX 65536u

/*
 * The calling actor starts watching target and gets the monitor's ref in
 * *ref (unique in the runtime; never 0). One DOWN will come, with
 * correlation_id = *ref, also when target is stale already (NO_ACTOR:
 * sent as an envelope, never from inside this call). Watching the same
 * target twice gives two monitors and two DOWNs.
 *
 * 0; -EINVAL no calling actor, ref NULL, or target null, malformed or of
 * a worker the runtime does not have; -EHOSTUNREACH target on another
 * node; -ENOSPC target in this worker has AIRSRT_MONITOR_WATCHERS_MAX
 * watchers; -EAGAIN this worker's outbox to target's worker is full;
 * -ENOMEM.
 */
int airsrt_monitor(struct airsrt_ctx *ctx, const struct airsrt_address *target,
                   uint64_t *ref);

/*
 * Forgets the calling actor's monitor ref: no DOWN for it will be
 * handled from now on. 0; -ENOENT no such monitor of the caller: it
 * fired already (its DOWN may be in the mailbox), was forgotten, or never
 * was.
 */
int airsrt_demonitor(struct airsrt_ctx *ctx, uint64_t ref);

/* "normal", "failed", "no_actor", "worker_died"; "unknown" out of range. */
const char *airsrt_down_reason_name(unsigned reason);

/* The DOWN payload of env, or NULL if env is no well-formed DOWN. */
static inline const struct airsrt_down *
airsrt_down_get(const struct airsrt_envelope *env)
{
    if (env->type != AIRSRT_MSG_DOWN ||
        env->payload_len != sizeof(struct airsrt_down))
        return (const struct airsrt_down *)0;
    return (const struct airsrt_down *)(const void *)env->payload;
}

#endif
