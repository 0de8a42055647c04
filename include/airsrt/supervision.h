/*
 * airsrt/supervision.h - supervisor actors: OTP supervision inside one
 * worker.
 *
 * A supervisor is an actor of a built-in type that starts its children
 * from a list of child specs, watches them, and restarts them by its
 * strategy when they end. The semantics mirror the OS-level supervision
 * tree of airsrt-run (and OTP's supervisor), with the same words:
 *
 *  - children start in spec order, each once the one before has started
 *    (its pre_start returned 0); they stop in reverse spec order;
 *  - one_for_one restarts the child that ended; one_for_all stops the
 *    others in reverse order and restarts all in order; rest_for_one
 *    stops those after it in reverse order and restarts it and them;
 *  - permanent children are always restarted, transient ones only after
 *    a failure, temporary ones never (not even when a sibling's restart
 *    stopped them: they are then gone for good);
 *  - more than max_restarts restarts within period_ns: the supervisor
 *    stops its children (reverse order) and fails itself, with the error
 *    AIRSRT_SUPERVISOR_GAVE_UP. Under another supervisor, that is the
 *    failure of a child; under a plain actor, that actor's on_error is
 *    asked (AIRSRT_FAILED_IN_CHILD); as a top-level actor, the worker
 *    ends with AIRSRT_EXIT_ESCALATED (airsrt/worker.h), and the OS-level
 *    supervisor restarts the worker as it restarts any crashed one.
 *
 * A child "fails" when its handle returns an error (or one of its own
 * plain children escalates to it) and "stops" when anybody stops it.
 * The on_error of a supervised child is never asked: the supervisor
 * decides, as in OTP, where a child cannot ignore a crash. An actor that
 * wants to resume after an error handles it in handle and returns 0.
 *
 * A restart spawns a fresh actor: a new address (new slot generation,
 * maybe a new slot), zeroed state, pre_start with the spec's spawn
 * argument again. The old address goes stale (sends to it are dead
 * letters), as an OTP restart gives a new pid. A child's registered name
 * (its opts->name) follows it to every incarnation, so peers that send by
 * name never notice; others find the current address with
 * airsrt_supervisor_find_child().
 *
 * Restarts happen at the worker's next safe point after the child ended:
 * right after the failing handle returned, before any other actor runs.
 * Supervisors take no messages of their own: what reaches their handle
 * is ignored.
 */
#ifndef AIRSRT_SUPERVISION_H
#define AIRSRT_SUPERVISION_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "airsrt/actor.h"

/* Strategies and restart types, shared with the OS-level tree of
 * airsrt-run (its config's strategy and restart keys), which restarts
 * worker processes by the same rules. */
enum airsrt_strategy {
    AIRSRT_ONE_FOR_ONE = 0,
    AIRSRT_ONE_FOR_ALL,
    AIRSRT_REST_FOR_ONE,
};

enum airsrt_restart {
    AIRSRT_RESTART_PERMANENT = 0,   /* always restarted */
    AIRSRT_RESTART_TRANSIENT,       /* only after a failure (an abnormal
                                       exit, for a worker process) */
    AIRSRT_RESTART_TEMPORARY,       /* never */
};

struct airsrt_supervisor_spec;

/*
 * One child: either an actor type with its spawn options, or a nested
 * supervisor (exactly one of type and supervisor is non-NULL). opts may
 * be NULL; for a nested supervisor only opts->name is used. id: 1 to
 * AIRSRT_CHILD_ID_MAX bytes, unique among its siblings.
 */
struct airsrt_child_spec {
    const char *id;
    const struct airsrt_actor_type *type;
    const struct airsrt_spawn_opts *opts;
    enum airsrt_restart restart;
    const struct airsrt_supervisor_spec *supervisor;
};

/* max_restarts at most AIRSRT_MAX_RESTARTS_MAX; nesting at most
 * AIRSRT_SUPERVISION_DEPTH_MAX levels. */
struct airsrt_supervisor_spec {
    enum airsrt_strategy strategy;
    uint32_t max_restarts;
    uint64_t period_ns;
    const struct airsrt_child_spec *children;
    size_t nchildren;
};

#define AIRSRT_CHILD_ID_MAX            31u
#define AIRSRT_MAX_RESTARTS_MAX        65535u
#define AIRSRT_SUPERVISION_DEPTH_MAX   16u

/* The error a supervisor fails with when its restart intensity is
 * exceeded (what its parent's on_error sees in struct airsrt_failure). */
#define AIRSRT_SUPERVISOR_GAVE_UP      (-EMLINK)

/*
 * Spawns a supervisor for spec as a child of the calling actor (of
 * nobody when ctx has no actor), registered under name unless it is
 * NULL, and starts its children in order before returning. The spec is
 * copied whole (ids, options, spawn arguments, nested specs); actor type
 * pointers are kept, so types must outlive the supervisor (they are
 * static in practice). If a child fails to start, the children started
 * so far are stopped in reverse order and the supervisor never exists.
 * Stores its address in *addr if addr is not NULL.
 *
 * 0; -EINVAL a malformed spec; or what airsrt_spawn() returns, for the
 * supervisor or the first child that failed to start.
 */
int airsrt_supervise(struct airsrt_ctx *ctx,
                     const struct airsrt_supervisor_spec *spec,
                     const char *name, struct airsrt_address *addr);

/* One child of a supervisor, as airsrt_supervisor_which_children()
 * reports it. */
struct airsrt_child_info {
    char id[AIRSRT_CHILD_ID_MAX + 1];
    struct airsrt_address addr;     /* its current incarnation; null when
                                       it is not running (a temporary or
                                       transient child that ended) */
    enum airsrt_restart restart;
    bool is_supervisor;
};

/*
 * The children of supervisor sup, an actor of the caller's worker, in
 * spec order: up to max of them into out. Returns how many it has (may
 * exceed max); -EINVAL sup is not a supervisor; -ESTALE no such actor;
 * -EREMOTE sup lives in another worker.
 */
ssize_t airsrt_supervisor_which_children(struct airsrt_ctx *ctx,
                                         const struct airsrt_address *sup,
                                         struct airsrt_child_info *out,
                                         size_t max);

/*
 * The current address of child id of supervisor sup (of this worker).
 * 0; -ENOENT no child of that id; -ESRCH it is not running now; else as
 * airsrt_supervisor_which_children().
 */
int airsrt_supervisor_find_child(struct airsrt_ctx *ctx,
                                 const struct airsrt_address *sup,
                                 const char *id, struct airsrt_address *addr);

#endif
