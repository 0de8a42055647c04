/*
 * airsrt/timer.h - envelopes sent later: send_after and cancel.
 *
 * A timer holds an envelope built when it is set (the payload is copied
 * at once) and sends it when it is due, from the worker that set it,
 * exactly as airsrt_send_ex() would send it at that moment: an address
 * is checked then (a stopped actor's address makes it a dead letter,
 * stale), a name is resolved then, and its message id is taken then.
 * Timers due at the same time fire in the order they were set.
 *
 * Timers live in their worker's process memory: a worker that dies
 * loses its pending timers (nothing of them is in shared memory), and a
 * worker that shuts down frees them unsent. An actor that stops leaves
 * its timers set: when they fire they are sent like any envelope, so
 * those to itself become dead letters (stale). An actor restarted by
 * its supervisor keeps its address, and so receives its timers.
 *
 * A worker holds millions of pending timers: setting and cancelling cost
 * O(log n) (a 4-ary heap), firing O(log n) each, at most
 * AIRSRT_TIMER_FIRE_BUDGET per poll of the worker so that a burst of
 * due timers cannot starve its rings. An idle worker sleeps until its
 * next timer is due, not longer.
 *
 * All functions here may only be called from a callback, with its ctx
 * (or with the worker's own context).
 */
#ifndef AIRSRT_TIMER_H
#define AIRSRT_TIMER_H

#include <stdint.h>

#include "airsrt/actor.h"
#include "airsrt/address.h"

/* Timers fired per poll of a worker at most; the rest fire in the next
 * polls, which do not sleep while timers are due. */
#define AIRSRT_TIMER_FIRE_BUDGET 4096u

/*
 * Sends an envelope of type with len bytes of payload to `to` (an
 * address) or name (a registered name), exactly one non-NULL, once
 * delay_ns have passed (0: at the worker's next poll). The sender is the
 * calling actor. Stores the timer's id in *timer if timer is not NULL:
 * nonzero, and never given to another timer of this worker incarnation,
 * so a stale id cannot cancel someone else's timer.
 *
 * 0, or a negative error and nothing was set:
 *   -EINVAL     no or two recipients, a malformed address or name, a
 *               reserved type
 *   -EMSGSIZE   len exceeds the runtime's payload_max
 *   -EHOSTUNREACH  an address on another node
 *   -ENOMEM
 * Errors of the send itself (no such name then, a dead address) are met
 * when the timer fires, and make the envelope a dead letter.
 */
int airsrt_send_after(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                      const char *name, uint64_t delay_ns, uint32_t type,
                      const void *payload, uint32_t len, uint64_t *timer);

/*
 * Cancels a pending timer: its envelope will never be sent. Only the
 * actor that set it may cancel it (the worker's own context, those it
 * set). 0 cancelled; -ENOENT it fired, was cancelled, or is no timer of
 * this worker incarnation; -EPERM another actor set it.
 */
int airsrt_cancel_timer(struct airsrt_ctx *ctx, uint64_t timer);

#endif
