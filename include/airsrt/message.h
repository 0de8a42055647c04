/*
 * airsrt/message.h - sending envelopes, replying, and typed messages.
 *
 * A send copies the payload at once: the caller's buffer is free again
 * when the call returns. Envelopes from one sender to one recipient are
 * handled in the order they were sent, in one worker or across two, for
 * each priority (higher priorities overtake lower ones). Nothing is
 * dropped silently: an envelope that cannot be delivered is a dead letter
 * (airsrt/deadletter.h), counted by reason.
 *
 * All functions here may only be called from a callback, with its ctx.
 */
#ifndef AIRSRT_MESSAGE_H
#define AIRSRT_MESSAGE_H

#include <assert.h>
#include <stdint.h>

#include "airsrt/actor.h"
#include "airsrt/envelope.h"

/* Type ids from here up belong to the runtime. Each feature's header
 * defines its own, in its own range:
 *
 *   0xFFFF0000-00FF  this header (stop, rejected, dead letter)
 *   0xFFFF0100-01FF  control-ring commands, this header
 *   0xFFFF0200-02FF  airsrt/request.h
 *   0xFFFF0300-03FF  airsrt/monitor.h
 *   0xFFFF0400-04FF  airsrt/topic.h
 *   0xFFFF0500-05FF  airsrt/pool.h
 *   0xFFFF0600-06FF  airsrt/supervision.h
 */
#define AIRSRT_TYPE_RESERVED    0xFFFF0000u
/* Stops its recipient; airsrt_stop() sends it. Never reaches handle. */
#define AIRSRT_MSG_STOP         0xFFFF0001u
/* To a sender whose envelope a full AIRSRT_OVERFLOW_REJECT mailbox in
 * another worker refused; payload struct airsrt_rejected. */
#define AIRSRT_MSG_REJECTED     0xFFFF0002u
/* To the dead-letter actor; payload in airsrt/deadletter.h. */
#define AIRSRT_MSG_DEAD_LETTER  0xFFFF0003u
/* On a worker's control ring, to nobody: stop every actor in order and
 * exit 0. */
#define AIRSRT_CTL_SHUTDOWN     0xFFFF0100u
/* On a worker's control ring, to nobody, from the supervisor (sender
 * null): another worker's incarnation has died; payload struct
 * airsrt_worker_down. The worker forgets what it cached about that
 * incarnation. Never reaches an actor and is no dead letter; taken from
 * anywhere but the control ring, it is one (unroutable). */
#define AIRSRT_CTL_WORKER_DOWN  0xFFFF0101u

/* Payload of AIRSRT_CTL_WORKER_DOWN: which incarnation died, and how. */
struct airsrt_worker_down {
    uint32_t worker;                    /* its worker index */
    uint32_t incarnation;               /* the incarnation that died */
    int32_t status;                     /* its exit status, or -1 when a
                                           signal ended it */
    int32_t signal;                     /* the signal that ended it, or 0 */
};
static_assert(sizeof(struct airsrt_worker_down) == 16,
              "struct airsrt_worker_down crosses processes: keep its size");

/* Payload of AIRSRT_MSG_REJECTED. */
struct airsrt_rejected {
    uint32_t type;                      /* of the refused envelope */
    uint32_t reserved;
    uint64_t message_id;
    uint64_t correlation_id;
    struct airsrt_address recipient;    /* who refused it */
};

/* Returned by a send that queued the envelope behind a full ring: it will
 * be delivered in order, but the sender should slow down. */
#define AIRSRT_SENT_BACKPRESSURE 1

struct airsrt_send_opts {
    uint8_t priority;               /* enum airsrt_priority */
    uint64_t ttl_ns;                /* dead after this long; 0 = never */
    struct airsrt_address reply_to; /* where replies go; null = sender */
    uint64_t correlation_id;        /* 0 = none */
};
/* Start from this: normal priority, no deadline, replies to the sender. */
#define AIRSRT_SEND_OPTS_INIT { .priority = AIRSRT_PRIO_NORMAL }

/*
 * Sends an envelope of type with len bytes of payload to one recipient:
 * to (an address) or name (a registered name), exactly one of them
 * non-NULL; opts may be NULL. A name travels as its registry id and is
 * resolved by the worker that receives it, so an envelope queued for a
 * worker that restarts reaches the name's next holder. A name that nobody
 * holds at this moment is sent to the worker that held it last (known to
 * this worker), to wait for its next incarnation.
 *
 * Returns 0 (queued) or AIRSRT_SENT_BACKPRESSURE (queued behind a full
 * ring), else a negative error and nothing was sent:
 *   -EINVAL     no or two recipients, a malformed address, a reserved type
 *   -EMSGSIZE   len exceeds the runtime's payload_max
 *   -ENOENT     no such name
 *   -EHOSTDOWN  the name has no holder and none is known to this worker
 *   -ESTALE     a local address whose actor no longer exists (also
 *               counted as a dead letter)
 *   -ENOBUFS    a local mailbox with AIRSRT_OVERFLOW_REJECT is full
 *   -EAGAIN     this worker's outbox for that worker is at its limit
 *   -EHOSTUNREACH  an address on another node (no gateway yet)
 *   -ENOMEM
 */
int airsrt_send_ex(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                   const char *name, const struct airsrt_send_opts *opts,
                   uint32_t type, const void *payload, uint32_t len);

int airsrt_send(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                uint32_t type, const void *payload, uint32_t len);

int airsrt_send_name(struct airsrt_ctx *ctx, const char *name, uint32_t type,
                     const void *payload, uint32_t len);

/*
 * Replies to the envelope being handled: to its reply_to, or its sender
 * if reply_to is null, with its correlation id. -EDESTADDRREQ outside
 * handle or when the envelope names nobody to reply to; otherwise as
 * airsrt_send().
 */
int airsrt_reply(struct airsrt_ctx *ctx, uint32_t type, const void *payload,
                 uint32_t len);

/* The envelope being handled (NULL outside handle). */
const struct airsrt_envelope *airsrt_current(const struct airsrt_ctx *ctx);

/*
 * Typed messages: a struct and its type id declared together, and checked
 * for size and alignment at compile time.
 *
 *   AIRSRT_MESSAGE(ping, 1, { uint64_t seq; });
 *
 * declares struct ping and the constant ping_type (= 1). Then
 *
 *   airsrt_send_msg(ctx, &to, ping, &(struct ping){ .seq = 7 });
 *   const struct ping *p = airsrt_msg_get(env, ping);
 *
 * send a struct ping, and give the payload of env as a struct ping, or
 * NULL if env is of another type or its payload has another size. Typed
 * ids are 1 .. 2^31 - 1 (an enum constant must fit an int).
 */
#define AIRSRT_MESSAGE(tag, type_id, ...)                                   \
    struct tag __VA_ARGS__;                                                 \
    enum { tag##_type = (type_id) };                                        \
    static_assert((type_id) > 0 && (type_id) <= 0x7FFFFFFF,                 \
                  "message type id of " #tag " out of range");              \
    static_assert(sizeof(struct tag) <= AIRSRT_PAYLOAD_MAX_DEFAULT,         \
                  "message " #tag " is larger than a payload may be");      \
    static_assert(_Alignof(struct tag) <= 8,                                \
                  "message " #tag " needs more than 8-byte alignment")

/* msg must point to a struct tag: a selection without a match (another
 * pointer type) is a compile error, whatever the warning flags. */
#define airsrt__msg_checked(tag, msg)                                       \
    _Generic((msg), struct tag *: (const void *)(msg),                      \
                    const struct tag *: (const void *)(msg))

#define airsrt_send_msg(ctx, to, tag, msg)                                  \
    airsrt_send((ctx), (to), tag##_type, airsrt__msg_checked(tag, msg),     \
                (uint32_t)sizeof(struct tag))

#define airsrt_send_name_msg(ctx, name, tag, msg)                           \
    airsrt_send_name((ctx), (name), tag##_type,                             \
                     airsrt__msg_checked(tag, msg),                         \
                     (uint32_t)sizeof(struct tag))

#define airsrt_reply_msg(ctx, tag, msg)                                     \
    airsrt_reply((ctx), tag##_type, airsrt__msg_checked(tag, msg),          \
                 (uint32_t)sizeof(struct tag))

#define airsrt_msg_get(env, tag)                                            \
    ((env)->type == (uint32_t)tag##_type &&                                 \
     (env)->payload_len == sizeof(struct tag)                               \
         ? (const struct tag *)(const void *)(env)->payload                 \
         : (const struct tag *)0)

#endif
