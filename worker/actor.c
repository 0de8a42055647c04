/*
 * worker/actor.c - the actor table and the actor lifecycle: spawn, stop
 * (children first), restart, and what on_error's directives do.
 *
 * Callbacks call back into the runtime (spawn, stop, send), so nothing
 * here frees an actor that may be on the call stack: a stop asked for
 * during a callback is only recorded, and carried out at a safe point
 * (airsrt__actor_process_stops), when no callback runs. Restarts and
 * escalations happen after handle returned, so they are safe points too.
 *
 * Every actor is a child of another or of the root (slot 0, the worker
 * itself). Children are kept youngest first, so stopping a subtree visits
 * the youngest leaves first and every parent after its children.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "worker/worker_impl.h"

static inline void store32(_Atomic uint32_t *f, uint32_t v)
{
    atomic_store_explicit(f, v, memory_order_relaxed);
}

static void set_lifecycle(struct airsrt_worker *w, struct actor *a,
                          enum airsrt_actor_state s)
{
    a->lifecycle = (uint8_t)s;
    atomic_store_explicit(&w->stats[a->addr.slot].state, (uint8_t)s,
                          memory_order_relaxed);
}

static bool is_live(const struct actor *a)
{
    return a->lifecycle == AIRSRT_ACTOR_STARTING ||
           a->lifecycle == AIRSRT_ACTOR_RUNNING ||
           a->lifecycle == AIRSRT_ACTOR_STOPPING;
}

struct actor *airsrt__actor_find(const struct airsrt_worker *w,
                                 const struct airsrt_address *addr)
{
    struct actor *a;

    if (addr->node != 0 || addr->worker != w->index ||
        addr->incarnation != w->incarnation || addr->slot == 0 ||
        addr->slot >= w->high)
        return NULL;
    a = airsrt__actor_at(w, addr->slot);
    return a->addr.generation == addr->generation && is_live(a) ? a : NULL;
}

/* ---- slots ---- */

static struct actor *slot_alloc(struct airsrt_worker *w)
{
    struct actor *a;
    uint32_t slot = w->free_slot;

    if (slot != 0) {
        a = airsrt__actor_at(w, slot);
        w->free_slot = a->next_sibling;
        return a;
    }
    if (w->high > w->actors_max)
        return NULL;
    slot = w->high;
    if (w->chunks[slot >> AIRSRT_CHUNK_SHIFT] == NULL) {
        w->chunks[slot >> AIRSRT_CHUNK_SHIFT] =
            calloc(AIRSRT_CHUNK_SIZE, sizeof(struct actor));
        if (w->chunks[slot >> AIRSRT_CHUNK_SHIFT] == NULL)
            return NULL;
    }
    w->high++;
    atomic_store_explicit(&w->self->actors_high, w->high, memory_order_relaxed);
    a = airsrt__actor_at(w, slot);
    a->addr = (struct airsrt_address){ .worker = (uint16_t)w->index,
                                       .incarnation = w->incarnation,
                                       .slot = slot };
    return a;
}

/* The slot keeps its generation and queue link (see struct actor). */
static void slot_free(struct airsrt_worker *w, struct actor *a)
{
    a->next_sibling = w->free_slot;
    w->free_slot = a->addr.slot;
}

/* ---- the tree ---- */

static void link_child(struct airsrt_worker *w, struct actor *parent,
                       struct actor *a)
{
    a->parent = parent->addr.slot;
    a->prev_sibling = 0;
    a->next_sibling = parent->first_child;
    if (parent->first_child != 0)
        airsrt__actor_at(w, parent->first_child)->prev_sibling = a->addr.slot;
    parent->first_child = a->addr.slot;
}

static void unlink_child(struct airsrt_worker *w, struct actor *a)
{
    struct actor *parent = airsrt__actor_at(w, a->parent);

    if (a->prev_sibling != 0)
        airsrt__actor_at(w, a->prev_sibling)->next_sibling = a->next_sibling;
    else
        parent->first_child = a->next_sibling;
    if (a->next_sibling != 0)
        airsrt__actor_at(w, a->next_sibling)->prev_sibling = a->prev_sibling;
}

/* ---- stopping ---- */

/*
 * Ends one actor whose children are gone: post_stop (unless pre_start
 * never succeeded), its mail to the dead letters, its name unbound, its
 * slot freed. The shared entry keeps its last state and generation.
 */
static void finish_one(struct airsrt_worker *w, struct actor *a, bool failed,
                       bool call_post_stop)
{
    struct airsrt_actor_stats *st = &w->stats[a->addr.slot];

    set_lifecycle(w, a, AIRSRT_ACTOR_STOPPING);
    if (call_post_stop && a->type->post_stop != NULL) {
        struct airsrt_ctx ctx = airsrt__actor_ctx(w, a);

        a->type->post_stop(&ctx, a->state);
    }
    airsrt__monitor_actor_ended(w, a, failed);
    airsrt__mailbox_drain(w, a, AIRSRT_DL_STOPPED);
    airsrt__topic_drop_actor(w, a);
    airsrt__names_unbind(w, a);
    airsrt__pools_stopped(w, a);
    airsrt__supervision_child_ended(w, a, failed);
    unlink_child(w, a);
    free(a->state);
    free(a->arg);
    a->state = a->arg = NULL;
    a->is_stop_pending = false;
    airsrt__actor_publish(w, a);
    store32(&st->depth, 0);
    set_lifecycle(w, a, failed ? AIRSRT_ACTOR_FAILED : AIRSRT_ACTOR_STOPPED);
    slot_free(w, a);
    w->alive--;
    store32(&w->self->actors_alive, w->alive);
}

/* An actor already on its way out as a failure stays one, whoever
 * stops it in the end. */
static bool is_failing(const struct actor *a)
{
    return a->is_stop_pending && a->is_stop_failed;
}

/*
 * Ends top and everything under it, each child before its parent and the
 * youngest child first, in one pass (no recursion: trees may be deep).
 * top ends as failed if failed says so; descendants stop normally unless
 * they were failing themselves.
 */
static void finish_tree(struct airsrt_worker *w, struct actor *top,
                        bool failed, bool call_post_stop)
{
    struct actor *x = top;

    for (;;) {
        while (x->first_child != 0)
            x = airsrt__actor_at(w, x->first_child);
        if (x == top) {
            finish_one(w, x, failed || is_failing(x), call_post_stop);
            return;
        }
        struct actor *parent = airsrt__actor_at(w, x->parent);

        finish_one(w, x, is_failing(x), true);
        x = parent;
    }
}

/* Records a stop for the next safe point. Without memory for the list,
 * that safe point scans the table instead: stopping now could free an
 * actor whose callback (or whose descendant's) is running. */
static void stops_push(struct airsrt_worker *w, uint32_t slot)
{
    if (w->nstops == w->stops_cap) {
        uint32_t cap = w->stops_cap ? 2 * w->stops_cap : 64;
        uint32_t *s = realloc(w->stops, cap * sizeof(*s));

        if (s == NULL) {
            w->is_stop_scan_due = true;
            return;
        }
        w->stops = s;
        w->stops_cap = cap;
    }
    w->stops[w->nstops++] = slot;
}

void airsrt__actor_request_stop(struct airsrt_worker *w, struct actor *a,
                                bool failed)
{
    if (a->is_stop_pending) {
        a->is_stop_failed |= failed;
        return;
    }
    a->is_stop_pending = true;
    a->is_stop_failed = failed;
    set_lifecycle(w, a, AIRSRT_ACTOR_STOPPING);
    stops_push(w, a->addr.slot);
}

bool airsrt__actor_has_stops(const struct airsrt_worker *w)
{
    return w->nstops != 0 || w->is_stop_scan_due;
}

void airsrt__actor_process_stops(struct airsrt_worker *w)
{
    /* Post_stop hooks may ask for more stops: the list grows as we go.
     * An entry whose actor was stopped some other way (or whose slot now
     * holds an actor nobody asked to stop) is no longer pending. */
    for (uint32_t i = 0; i < w->nstops; i++) {
        struct actor *a = airsrt__actor_at(w, w->stops[i]);

        if (a->is_stop_pending)
            finish_tree(w, a, a->is_stop_failed, true);
    }
    w->nstops = 0;
    while (w->is_stop_scan_due) {
        w->is_stop_scan_due = false;
        for (uint32_t slot = 1; slot < w->high; slot++) {
            struct actor *a = airsrt__actor_at(w, slot);

            if (a->is_stop_pending)
                finish_tree(w, a, a->is_stop_failed, true);
        }
    }
    if (w->nsup_pending != 0 || w->is_sup_scan_due)
        airsrt__supervision_run_pending(w);
}

void airsrt__actor_stop_now(struct airsrt_worker *w, struct actor *a)
{
    finish_tree(w, a, false, true);
}

void airsrt__actor_stop_all(struct airsrt_worker *w)
{
    struct actor *root = airsrt__actor_at(w, AIRSRT_ROOT_SLOT);

    while (root->first_child != 0 || airsrt__actor_has_stops(w)) {
        airsrt__actor_process_stops(w);
        if (root->first_child != 0)
            finish_tree(w, airsrt__actor_at(w, root->first_child), false,
                        true);
    }
}

/* ---- spawning ---- */

static int type_index(const struct airsrt_worker *w,
                      const struct airsrt_actor_type *type)
{
    for (uint32_t i = 0; i < w->ntypes; i++)
        if (w->types[i] == type)
            return (int)i;
    return UINT16_MAX;  /* not listed: tools show no type name */
}

static int check_spawn(const struct actor *parent,
                       const struct airsrt_actor_type *type,
                       const struct airsrt_spawn_opts *o)
{
    if (type == NULL || type->handle == NULL)
        return -EINVAL;
    if (parent->lifecycle != AIRSRT_ACTOR_STARTING &&
        parent->lifecycle != AIRSRT_ACTOR_RUNNING)
        return -EINVAL;     /* a stopping parent cannot adopt */
    if (o->overflow > AIRSRT_OVERFLOW_REJECT ||
        (o->arg == NULL && o->arg_len != 0) || o->arg_len > UINT32_MAX)
        return -EINVAL;
    return 0;
}

/* Fills a fresh slot for type under parent; its pre_start has not run. */
static int actor_init(struct airsrt_worker *w, struct actor *a,
                      struct actor *parent,
                      const struct airsrt_actor_type *type,
                      const struct airsrt_spawn_opts *o)
{
    struct airsrt_actor_stats *st = &w->stats[a->addr.slot];

    a->state = type->state_size ? calloc(1, type->state_size) : NULL;
    a->arg = o->arg_len ? malloc(o->arg_len) : NULL;
    if ((type->state_size && a->state == NULL) || (o->arg_len && !a->arg)) {
        free(a->state);
        free(a->arg);
        a->state = a->arg = NULL;
        return -ENOMEM;
    }
    if (o->arg_len)
        memcpy(a->arg, o->arg, o->arg_len);
    a->arg_len = (uint32_t)o->arg_len;
    a->type = type;
    a->type_index = (uint16_t)type_index(w, type);
    a->addr.generation = a->addr.generation + 1 ? a->addr.generation + 1 : 1;
    a->bound = o->mailbox_bound;
    a->overflow = (uint8_t)o->overflow;
    a->first_child = a->name_id = a->restarts = a->handled_unpub = 0;
    a->is_stop_pending = a->is_stop_failed = false;
    link_child(w, parent, a);
    w->alive++;
    store32(&st->generation, a->addr.generation);
    atomic_store_explicit(&st->type, a->type_index, memory_order_relaxed);
    store32(&st->depth, 0);
    store32(&st->name_id, 0);
    store32(&st->restarts, 0);
    atomic_store_explicit(&st->handled, 0, memory_order_relaxed);
    atomic_store_explicit(&st->last_ns, 0, memory_order_relaxed);
    set_lifecycle(w, a, AIRSRT_ACTOR_STARTING);
    store32(&w->self->actors_alive, w->alive);
    return 0;
}

static int run_pre_start(struct airsrt_worker *w, struct actor *a)
{
    struct airsrt_ctx ctx = airsrt__actor_ctx(w, a);
    int rc = 0;

    if (a->type->pre_start != NULL)
        rc = a->type->pre_start(&ctx, a->state, a->arg, a->arg_len);
    if (rc < 0) {
        airsrt__stat_add(&w->self->actor_failures, 1);
        return rc;
    }
    /* A stop asked for in pre_start keeps the actor Stopping. */
    if (!a->is_stop_pending)
        set_lifecycle(w, a, AIRSRT_ACTOR_RUNNING);
    return 0;
}

int airsrt_spawn(struct airsrt_ctx *ctx, const struct airsrt_actor_type *type,
                 const struct airsrt_spawn_opts *opts,
                 struct airsrt_address *addr)
{
    static const struct airsrt_spawn_opts none;
    struct airsrt_worker *w = ctx->w;
    struct actor *parent = ctx->a ? ctx->a
                                  : airsrt__actor_at(w, AIRSRT_ROOT_SLOT);
    const struct airsrt_spawn_opts *o = opts ? opts : &none;
    struct actor *a;
    int rc = check_spawn(parent, type, o);

    if (rc < 0)
        return rc;
    a = slot_alloc(w);
    if (a == NULL)
        return w->high > w->actors_max ? -ENOSPC : -ENOMEM;
    rc = actor_init(w, a, parent, type, o);
    if (rc < 0) {
        slot_free(w, a);
        return rc;
    }
    if (o->name != NULL)
        rc = airsrt__names_bind(w, a, o->name);
    if (rc == 0)
        rc = run_pre_start(w, a);
    if (rc < 0) {
        /* It never started: no post_stop for it, but its children did. */
        finish_tree(w, a, true, false);
        return rc;
    }
    airsrt__stat_add(&w->self->actors_spawned, 1);
    if (addr != NULL)
        *addr = a->addr;
    return 0;
}

int airsrt_stop(struct airsrt_ctx *ctx, const struct airsrt_address *who)
{
    struct airsrt_worker *w = ctx->w;
    struct actor *a;

    if (who == NULL || airsrt_address_is_null(who) ||
        airsrt_address_validate(who) < 0)
        return -EINVAL;
    if (who->node != 0 || who->worker != w->index)
        return airsrt__send_system(ctx, who, AIRSRT_MSG_STOP, 0, NULL, 0);
    a = airsrt__actor_find(w, who);
    if (a == NULL)
        return -ESTALE;
    airsrt__actor_request_stop(w, a, false);
    return 0;
}

const struct airsrt_address *airsrt_self(const struct airsrt_ctx *ctx)
{
    return &ctx->self;
}

/* A parent outlives its children, so its address stays put meanwhile. */
const struct airsrt_address *airsrt_parent(const struct airsrt_ctx *ctx)
{
    static const struct airsrt_address none;

    if (ctx->a == NULL || ctx->a->parent == AIRSRT_ROOT_SLOT)
        return &none;
    return &airsrt__actor_at(ctx->w, ctx->a->parent)->addr;
}

uint32_t airsrt_worker_index(const struct airsrt_ctx *ctx)
{
    return ctx->w->index;
}

uint32_t airsrt_worker_count(const struct airsrt_ctx *ctx)
{
    return ctx->w->nworkers;
}

/* ---- failures ---- */

static enum airsrt_directive ask_on_error(struct airsrt_worker *w,
                                          struct actor *a,
                                          const struct airsrt_failure *f)
{
    struct airsrt_ctx ctx = airsrt__actor_ctx(w, a);
    enum airsrt_directive d;

    if (airsrt__supervision_is_supervised(w, a))
        return AIRSRT_STOP;     /* its supervisor decides what comes next */
    if (a->type->on_error == NULL)
        return AIRSRT_RESTART;
    ctx.env = f->env;
    d = a->type->on_error(&ctx, a->state, f);
    return d <= AIRSRT_ESCALATE ? d : AIRSRT_ESCALATE;
}

static void escalate(struct airsrt_worker *w, uint32_t parent_slot,
                     const struct airsrt_address *child, int err);

/* post_stop, children stopped, zeroed state, pre_start again. */
static void restart(struct airsrt_worker *w, struct actor *a)
{
    struct airsrt_ctx ctx = airsrt__actor_ctx(w, a);
    int rc;

    set_lifecycle(w, a, AIRSRT_ACTOR_STOPPING);
    if (a->type->post_stop != NULL)
        a->type->post_stop(&ctx, a->state);
    while (a->first_child != 0)
        finish_tree(w, airsrt__actor_at(w, a->first_child), false, true);
    if (a->type->state_size != 0)
        memset(a->state, 0, a->type->state_size);
    a->restarts++;
    store32(&w->stats[a->addr.slot].restarts, a->restarts);
    airsrt__stat_add(&w->self->actor_restarts, 1);
    set_lifecycle(w, a, AIRSRT_ACTOR_STARTING);
    rc = run_pre_start(w, a);
    if (rc < 0) {
        /* Its post_stop already ran; it cannot come back up. */
        uint32_t parent = a->parent;

        finish_tree(w, a, true, false);
        escalate(w, parent, &ctx.self, rc);
    }
}

/* Applies directive d to a, which failed with err. a is not running. */
static void apply(struct airsrt_worker *w, struct actor *a,
                  enum airsrt_directive d, int err)
{
    if (a->is_stop_pending && d != AIRSRT_ESCALATE)
        d = AIRSRT_STOP;    /* it asked to stop: do not bring it back */
    airsrt__monitor_note_error(a, err);
    switch (d) {
    case AIRSRT_RESUME:
        break;
    case AIRSRT_RESTART:
        restart(w, a);
        break;
    case AIRSRT_STOP:
        airsrt__actor_request_stop(w, a, true);
        break;
    case AIRSRT_ESCALATE: {
        struct airsrt_address self = a->addr;

        airsrt__actor_request_stop(w, a, true);
        escalate(w, a->parent, &self, err);
        break;
    }
    }
}

/* Tells the parent that its child failed for good; past the top-level
 * actors, the worker ends. */
static void escalate(struct airsrt_worker *w, uint32_t parent_slot,
                     const struct airsrt_address *child, int err)
{
    struct airsrt_failure f = { .where = AIRSRT_FAILED_IN_CHILD, .err = err,
                                .child = *child };
    struct actor *parent;

    if (parent_slot == AIRSRT_ROOT_SLOT) {
        airsrt__worker_shutdown(w, AIRSRT_EXIT_ESCALATED);
        return;
    }
    parent = airsrt__actor_at(w, parent_slot);
    airsrt__stat_add(&w->self->actor_failures, 1);
    apply(w, parent, ask_on_error(w, parent, &f), err);
}

void airsrt__actor_fail(struct airsrt_worker *w, struct actor *a, int err,
                        const struct airsrt_envelope *env)
{
    struct airsrt_failure f = { .where = AIRSRT_FAILED_IN_HANDLE,
                                .err = err, .env = env };

    airsrt__stat_add(&w->self->actor_failures, 1);
    apply(w, a, ask_on_error(w, a, &f), err);
}

/* ---- counters and teardown ---- */

void airsrt__actor_publish(struct airsrt_worker *w, struct actor *a)
{
    struct airsrt_actor_stats *st = &w->stats[a->addr.slot];

    if (a->handled_unpub != 0) {
        airsrt__stat_add(&st->handled, a->handled_unpub);
        atomic_store_explicit(&st->last_ns, w->now_ns, memory_order_relaxed);
        a->handled_unpub = 0;
    }
    store32(&st->depth, a->depth);
}

/* Frees what actors still hold without running their hooks: the worker
 * is being closed (after airsrt__worker_run, nothing is left). */
void airsrt__actor_table_fini(struct airsrt_worker *w)
{
    airsrt__supervision_fini(w);
    for (uint32_t c = 0; c < w->nchunks; c++) {
        struct actor *chunk = w->chunks[c];

        if (chunk == NULL)
            continue;
        for (uint32_t i = 0; i < AIRSRT_CHUNK_SIZE; i++) {
            struct msg *m;

            while ((m = airsrt__mailbox_take(w, &chunk[i])) != NULL)
                airsrt__msg_free(&w->pool, m);
            free(chunk[i].state);
            free(chunk[i].arg);
        }
        free(chunk);
    }
    free(w->chunks);
    free(w->stops);
    w->chunks = NULL;
    w->stops = NULL;
}
