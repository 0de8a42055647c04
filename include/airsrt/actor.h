/*
 * airsrt/actor.h - actors: types, lifecycle, spawn and stop.
 *
 * An actor is a state struct plus callbacks that run to completion on its
 * worker's single thread: no two callbacks of one worker ever run at once,
 * so state needs no lock. A callback must not block; it returns, and the
 * worker goes on with the next actor. Callbacks get a context (struct
 * airsrt_ctx) that is valid only during the call.
 *
 * Lifecycle (enum airsrt_actor_state, also shown to tools per actor):
 *
 *   spawn -> Starting (pre_start) -> Running (handle, once per envelope)
 *         -> Stopping (post_stop) -> Stopped, or Failed after an error
 *            that stopped it
 *
 * pre_start runs exactly once before the first handle, post_stop exactly
 * once after the last one (never if pre_start failed at spawn). Stopping
 * an actor stops its children first, youngest first.
 *
 * Failures: a callback fails by returning a negative error (by convention
 * -errno, or any negative code of the application's). The worker then asks
 * the actor's on_error what to do (enum airsrt_directive); without one the
 * directive is AIRSRT_RESTART. A worker that crashes (SIGSEGV, abort) is a
 * different matter: the OS-level supervisor restarts the whole process.
 */
#ifndef AIRSRT_ACTOR_H
#define AIRSRT_ACTOR_H

#include <stddef.h>
#include <stdint.h>

#include "airsrt/address.h"
#include "airsrt/envelope.h"

/* The running actor and its worker, valid during one callback. */
struct airsrt_ctx;

enum airsrt_actor_state {
    AIRSRT_ACTOR_FREE = 0,      /* slot never used */
    AIRSRT_ACTOR_STARTING,      /* in pre_start */
    AIRSRT_ACTOR_RUNNING,
    AIRSRT_ACTOR_STOPPING,      /* in post_stop, or asked to stop */
    AIRSRT_ACTOR_STOPPED,       /* stopped normally; the slot may be reused */
    AIRSRT_ACTOR_FAILED,        /* stopped by a failure */
};

/* What on_error decides about the failed actor. */
enum airsrt_directive {
    AIRSRT_RESUME = 0,  /* keep the state, go on with the next envelope */
    AIRSRT_RESTART,     /* post_stop, stop its children, fresh zeroed state,
                           pre_start with the spawn argument again; same
                           address, same mailbox */
    AIRSRT_STOP,        /* post_stop; Failed; its mail becomes dead letters */
    AIRSRT_ESCALATE,    /* stop it as for AIRSRT_STOP, then fail its parent
                           (AIRSRT_FAILED_IN_CHILD); an actor without a
                           parent ends the worker (AIRSRT_EXIT_ESCALATED) */
};

enum airsrt_failure_where {
    AIRSRT_FAILED_IN_HANDLE = 0,    /* handle returned an error */
    AIRSRT_FAILED_IN_CHILD,         /* a child escalated, or could not be
                                       restarted */
};

/* What on_error is told. */
struct airsrt_failure {
    enum airsrt_failure_where where;
    int err;                                /* the negative error */
    const struct airsrt_envelope *env;      /* being handled, or NULL */
    struct airsrt_address child;            /* AIRSRT_FAILED_IN_CHILD */
};

/*
 * An actor type, defined once (usually static const) and listed in the
 * types given to airsrt_worker_main(). Only handle is required.
 *
 * pre_start: state is state_size zeroed bytes; arg/arg_len the spawn
 *   argument (NULL/0 if none). Return 0, or a negative error: at spawn
 *   the actor then never exists and airsrt_spawn() returns that error; at
 *   a restart the actor is Failed and its parent is told.
 * handle: one envelope; env and its payload are valid during the call
 *   only. Return 0 or a negative error.
 * post_stop: last call; release what pre_start took. Cannot fail.
 * on_error: the directive after a failure of handle or of a child.
 */
struct airsrt_actor_type {
    const char *name;       /* 1..31 of [A-Za-z0-9_.-]; unique per worker */
    size_t state_size;      /* bytes of state, 0 allowed */
    int (*pre_start)(struct airsrt_ctx *ctx, void *state, const void *arg,
                     size_t arg_len);
    int (*handle)(struct airsrt_ctx *ctx, void *state,
                  const struct airsrt_envelope *env);
    void (*post_stop)(struct airsrt_ctx *ctx, void *state);
    enum airsrt_directive (*on_error)(struct airsrt_ctx *ctx, void *state,
                                      const struct airsrt_failure *f);
};

/* What a bounded mailbox does with an envelope that finds it full. Every
 * envelope it drops or refuses is counted as a dead letter
 * (AIRSRT_DL_MAILBOX_FULL). System-priority envelopes are never refused. */
enum airsrt_overflow {
    AIRSRT_OVERFLOW_DROP_NEWEST = 0,    /* drop the arriving one */
    AIRSRT_OVERFLOW_DROP_OLDEST,        /* drop the oldest of its priority
                                           or lower to make room */
    AIRSRT_OVERFLOW_REJECT,             /* refuse it: a local sender gets
                                           -ENOBUFS, a remote one an
                                           AIRSRT_MSG_REJECTED envelope */
};

struct airsrt_spawn_opts {
    const void *arg;            /* copied; given to every pre_start */
    size_t arg_len;
    uint32_t mailbox_bound;     /* envelopes; 0 = unbounded */
    enum airsrt_overflow overflow;
    const char *name;           /* registered while it lives; NULL = none */
};

/*
 * Spawns an actor of type in this worker as a child of the calling actor
 * (of nobody when ctx has no actor) and runs its pre_start before
 * returning. opts may be NULL. Stores its address in *addr if addr is not
 * NULL. 0; -EINVAL bad type or options; -ENOSPC the worker's actor table
 * is full (actors_max); -EEXIST the name is held by another live actor;
 * -ENOMEM; or the error pre_start returned.
 */
int airsrt_spawn(struct airsrt_ctx *ctx, const struct airsrt_actor_type *type,
                 const struct airsrt_spawn_opts *opts,
                 struct airsrt_address *addr);

/*
 * Stops an actor: the caller itself, an actor of this worker, or one in
 * another worker (by an AIRSRT_MSG_STOP envelope of system priority). A
 * local stop takes effect when the running callback returns: post_stop
 * runs, children first, and what is left in its mailbox becomes dead
 * letters (AIRSRT_DL_STOPPED). 0; -ESTALE no such actor (any more);
 * -EINVAL a null or malformed address; send errors for a remote one.
 */
int airsrt_stop(struct airsrt_ctx *ctx, const struct airsrt_address *who);

/* The calling actor's address (null outside an actor). */
const struct airsrt_address *airsrt_self(const struct airsrt_ctx *ctx);

/* The calling actor's parent (null for an actor spawned by the worker). */
const struct airsrt_address *airsrt_parent(const struct airsrt_ctx *ctx);

/* This worker's index and the number of workers in the runtime. */
uint32_t airsrt_worker_index(const struct airsrt_ctx *ctx);
uint32_t airsrt_worker_count(const struct airsrt_ctx *ctx);

#endif
