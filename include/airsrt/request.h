/*
 * airsrt/request.h - request and reply, with a correlation id and a
 * timeout: the caller gets the reply or a timeout, never both.
 *
 * airsrt_request() sends a request (AIRSRT_ENV_F_REQUEST) whose reply_to
 * is the caller and whose correlation_id is fresh and unique in the
 * runtime, and arms a timeout in the caller's worker. The callee answers
 * with airsrt_reply() from its handle, which marks the answer
 * AIRSRT_ENV_F_REPLY and copies the correlation id.
 *
 * In the caller's worker, the first of these two settles the request:
 *  - the reply arrives while the request waits: the timeout is cancelled
 *    and the reply reaches the caller's handle as a normal envelope (the
 *    caller matches env->correlation_id); it has system priority from
 *    then on, as the timeout would have had, so a full bounded mailbox
 *    never drops it;
 *  - the timeout is due: the caller's handle gets AIRSRT_MSG_TIMEOUT
 *    (payload struct airsrt_timeout, correlation_id set too). A reply
 *    that comes after that, or that no request of this worker waits
 *    for, never reaches handle: it is a dead letter, late_reply.
 *
 * A caller that stops before it is settled leaves its request waiting
 * until the timeout is due; a reply meanwhile, then the timeout, go to
 * its stale address and are dead letters (stale). A caller restarted by
 * its supervisor keeps its address, and so its requests. A caller's
 * worker that dies loses its waiting requests: replies to them name the
 * dead incarnation and are dead letters (stale) at the next one.
 *
 * May only be called from a callback of an actor, with its ctx.
 */
#ifndef AIRSRT_REQUEST_H
#define AIRSRT_REQUEST_H

#include <assert.h>
#include <stdint.h>

#include "airsrt/actor.h"
#include "airsrt/address.h"

/* To a caller whose request was not answered in time; system priority,
 * so a full bounded mailbox never drops it. Payload struct
 * airsrt_timeout. Never comes from another worker: one that does is a
 * dead letter (unroutable). */
#define AIRSRT_MSG_TIMEOUT 0xFFFF0200u

/* Payload of AIRSRT_MSG_TIMEOUT. */
struct airsrt_timeout {
    uint64_t correlation_id;    /* of the request */
    uint32_t type;              /* the request's type */
    uint32_t reserved;
};
static_assert(sizeof(struct airsrt_timeout) == 16, "timeout payload");

/*
 * Sends a request of type with len bytes of payload to `to` or name
 * (exactly one non-NULL, as airsrt_send_ex()), and arms a timeout of
 * timeout_ns (0: due at the worker's next poll, unless the reply is
 * there first). Stores the request's correlation id in *corr if corr is
 * not NULL. Returns what the send returned (0 or
 * AIRSRT_SENT_BACKPRESSURE), or a negative error and nothing was sent
 * and nothing armed: the errors of airsrt_send_ex(), and -EINVAL when
 * ctx is not an actor's.
 */
int airsrt_request(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                   const char *name, uint32_t type, const void *payload,
                   uint32_t len, uint64_t timeout_ns, uint64_t *corr);

#endif
