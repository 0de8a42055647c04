/*
 * worker/supervision.c - supervisor actors (airsrt/supervision.h), with
 * the semantics of the OS-level tree (supervisor/tree.c) at actor level.
 *
 * A supervisor is an actor of the built-in type sup_type. Its spawn
 * argument is its whole spec, flattened into one block (struct
 * flat_spec: offsets, plus actor type pointers, which are in-process), so
 * the runtime's copy of the argument owns the spec exactly as long as the
 * actor lives, and a nested supervisor's spec is a slice of its parent's
 * that airsrt_spawn copies in turn. Nothing leaves the process: the block
 * is never read by another one.
 *
 * How an end becomes a restart: finish_one (actor.c) reports every actor
 * that ends. If its parent is a supervisor, the end is noted in the
 * supervisor's kid record and, if the supervisor is running, the
 * supervisor goes on the worker's pending list. At the end of
 * airsrt__actor_process_stops - a safe point: no callback runs - each
 * pending supervisor acts: it restarts by its strategy, or gives up.
 * Nothing changes the tree inside finish_tree's walk.
 *
 * Invariant: the children of a running supervisor are exactly the
 * current incarnations of its kids (non-null kid.addr), linked in spec
 * order (the last kid youngest), so that a stop of the supervisor, which
 * ends the youngest child first, stops them in reverse spec order. A kid
 * the supervisor stops itself has its record cleared first, so its end is
 * not taken for an exit to act on.
 *
 * No shared memory is written here but through actor.c: a crashed worker
 * leaves nothing of this behind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "worker/restart_rules.h"
#include "worker/worker_impl.h"

/* ---- the flattened spec ---- */

/* Offsets are from the start of the struct flat_spec the child is in. */
struct flat_child {
    const struct airsrt_actor_type *type;   /* sup_type: a nested one */
    uint32_t restart;                       /* enum airsrt_restart */
    uint32_t bound;                         /* spawn options */
    uint32_t overflow;
    uint32_t id;                            /* NUL-terminated */
    uint32_t name;                          /* NUL-terminated; 0 = none */
    uint32_t arg;                           /* spawn argument, or the
                                               nested struct flat_spec */
    uint32_t arg_len;
};

/* Then children[nchildren], then strings and arguments, each 8-aligned. */
struct flat_spec {
    uint32_t strategy;                      /* enum airsrt_strategy */
    uint32_t max_restarts;
    uint64_t period_ns;
    uint32_t nchildren;
    struct flat_child children[];
};

/* ---- a supervisor's state ---- */

/* One child, in spec order. */
struct kid {
    struct airsrt_address addr;     /* current incarnation; null: none */
    bool has_exited;                /* ended, not yet acted on */
    bool is_failed;                 /* that end was a failure */
    bool is_due;                    /* strategy_apply's: to (re)start */
};

/*
 * spec is the actor's own spawn argument (valid while it lives). kids and
 * restarts_ns are one allocation, taken in pre_start and freed in
 * post_stop (or by airsrt__supervision_fini if the worker is closed with
 * the supervisor alive). restarts_ns is a ring of the times of the last
 * max_restarts + 1 restarts, as in supervisor/tree.c.
 */
struct sup {
    const struct flat_spec *spec;
    struct kid *kids;
    uint64_t *restarts_ns;
    uint64_t nrestarts;             /* recorded, ever (ring position) */
    bool is_pending;                /* on the worker's pending list */
};

static int sup_pre_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                         size_t arg_len);
static int sup_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env);
static void sup_post_stop(struct airsrt_ctx *ctx, void *state);
static enum airsrt_directive sup_on_error(struct airsrt_ctx *ctx, void *state,
                                          const struct airsrt_failure *f);

static const struct airsrt_actor_type sup_type = {
    .name = "airsrt.supervisor", .state_size = sizeof(struct sup),
    .pre_start = sup_pre_start, .handle = sup_handle,
    .post_stop = sup_post_stop, .on_error = sup_on_error };

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* ---- checking and flattening a spec ---- */

static int spec_check(const struct airsrt_supervisor_spec *s, unsigned depth);

static int child_check(const struct airsrt_supervisor_spec *s, size_t i,
                       unsigned depth)
{
    const struct airsrt_child_spec *c = &s->children[i];
    size_t len = c->id != NULL ? strnlen(c->id, AIRSRT_CHILD_ID_MAX + 1) : 0;

    if (len == 0 || len > AIRSRT_CHILD_ID_MAX ||
        c->restart > AIRSRT_RESTART_TEMPORARY ||
        (c->type == NULL) == (c->supervisor == NULL))
        return -EINVAL;
    if (c->opts != NULL && c->opts->arg == NULL && c->opts->arg_len != 0)
        return -EINVAL;
    if (c->opts != NULL && c->opts->name != NULL &&
        strnlen(c->opts->name, AIRSRT_REGISTRY_NAME_MAX + 1) >
            AIRSRT_REGISTRY_NAME_MAX)
        return -EINVAL;
    for (size_t j = 0; j < i; j++)
        if (strcmp(s->children[j].id, c->id) == 0)
            return -EINVAL;
    return c->supervisor != NULL ? spec_check(c->supervisor, depth + 1) : 0;
}

static int spec_check(const struct airsrt_supervisor_spec *s, unsigned depth)
{
    int rc;

    if (s == NULL || depth > AIRSRT_SUPERVISION_DEPTH_MAX ||
        s->strategy > AIRSRT_REST_FOR_ONE ||
        s->max_restarts > AIRSRT_MAX_RESTARTS_MAX ||
        (s->nchildren != 0 && s->children == NULL) ||
        s->nchildren > UINT16_MAX)
        return -EINVAL;
    for (size_t i = 0; i < s->nchildren; i++)
        if ((rc = child_check(s, i, depth)) < 0)
            return rc;
    return 0;
}

/* Bytes of the flattened s (checked: strings are bounded, depth too). */
static size_t spec_size(const struct airsrt_supervisor_spec *s)
{
    size_t n = sizeof(struct flat_spec) +
               s->nchildren * sizeof(struct flat_child);

    for (size_t i = 0; i < s->nchildren; i++) {
        const struct airsrt_child_spec *c = &s->children[i];

        n += align8(strlen(c->id) + 1);
        if (c->opts != NULL && c->opts->name != NULL)
            n += align8(strlen(c->opts->name) + 1);
        if (c->supervisor != NULL)
            n += spec_size(c->supervisor);
        else if (c->opts != NULL)
            n += align8(c->opts->arg_len);
    }
    return n;
}

/* Copies len bytes to base + *at; returns that offset and moves *at. */
static uint32_t put(uint8_t *base, size_t *at, const void *p, size_t len)
{
    size_t off = *at;

    memcpy(base + off, p, len);
    *at += align8(len);
    return (uint32_t)off;
}

/* Writes s flattened at base (spec_size(s) bytes, zeroed, 8-aligned);
 * returns how many it wrote. */
static size_t spec_write(uint8_t *base,
                         const struct airsrt_supervisor_spec *s)
{
    static const struct airsrt_spawn_opts none;
    struct flat_spec *f = (struct flat_spec *)(void *)base;
    size_t at = sizeof(*f) + s->nchildren * sizeof(struct flat_child);

    *f = (struct flat_spec){ .strategy = s->strategy,
                             .max_restarts = s->max_restarts,
                             .period_ns = s->period_ns,
                             .nchildren = (uint32_t)s->nchildren };
    for (size_t i = 0; i < s->nchildren; i++) {
        const struct airsrt_child_spec *c = &s->children[i];
        const struct airsrt_spawn_opts *o = c->opts ? c->opts : &none;
        struct flat_child *fc = &f->children[i];

        fc->type = c->supervisor != NULL ? &sup_type : c->type;
        fc->restart = c->restart;
        fc->bound = o->mailbox_bound;
        fc->overflow = o->overflow;
        fc->id = put(base, &at, c->id, strlen(c->id) + 1);
        if (o->name != NULL)
            fc->name = put(base, &at, o->name, strlen(o->name) + 1);
        if (c->supervisor != NULL) {
            size_t n = spec_write(base + at, c->supervisor);

            fc->arg = (uint32_t)at;
            fc->arg_len = (uint32_t)n;
            at += n;
        } else if (o->arg_len != 0) {
            fc->arg_len = (uint32_t)o->arg_len;
            fc->arg = put(base, &at, o->arg, o->arg_len);
        }
    }
    return at;
}

static const char *flat_str(const struct flat_spec *f, uint32_t off)
{
    return (const char *)f + off;
}

/* ---- kids ---- */

static void kid_clear(struct kid *k)
{
    k->addr = AIRSRT_ADDRESS_NULL;
}

static bool kid_is_running(const struct kid *k)
{
    return !airsrt_address_is_null(&k->addr);
}

/* The kid whose current incarnation is addr, or UINT32_MAX. */
static uint32_t kid_of(const struct sup *s, const struct airsrt_address *addr)
{
    for (uint32_t k = 0; k < s->spec->nchildren; k++)
        if (s->kids[k].addr.slot == addr->slot &&
            s->kids[k].addr.generation == addr->generation &&
            kid_is_running(&s->kids[k]))
            return k;
    return UINT32_MAX;
}

/* An end that is not restarted: temporary, or transient and normal. */
static bool kid_is_done(const struct sup *s, uint32_t k)
{
    uint32_t r = s->spec->children[k].restart;

    return r == AIRSRT_RESTART_TEMPORARY ||
           (r == AIRSRT_RESTART_TRANSIENT && !s->kids[k].is_failed);
}

/* Spawns kid k under supervisor p, from its spec. */
static int kid_start(struct airsrt_worker *w, struct actor *p, struct sup *s,
                     uint32_t k)
{
    const struct flat_child *c = &s->spec->children[k];
    struct airsrt_spawn_opts o = {
        .arg = c->arg_len != 0 ? flat_str(s->spec, c->arg) : NULL,
        .arg_len = c->arg_len, .mailbox_bound = c->bound,
        .overflow = (enum airsrt_overflow)c->overflow,
        .name = c->name != 0 ? flat_str(s->spec, c->name) : NULL };
    struct airsrt_ctx ctx = airsrt__actor_ctx(w, p);

    kid_clear(&s->kids[k]);
    s->kids[k].has_exited = false;
    return airsrt_spawn(&ctx, c->type, &o, &s->kids[k].addr);
}

/* Stops kid k now, if it runs; its end is not noted (record cleared). */
static void kid_stop(struct airsrt_worker *w, struct sup *s, uint32_t k)
{
    struct airsrt_address addr = s->kids[k].addr;
    struct actor *a;

    kid_clear(&s->kids[k]);
    if (!airsrt_address_is_null(&addr) &&
        (a = airsrt__actor_find(w, &addr)) != NULL)
        airsrt__actor_stop_now(w, a);
}

/* Stops kids [first, end) in reverse order. */
static void kids_stop(struct airsrt_worker *w, struct sup *s, uint32_t first,
                      uint32_t end)
{
    for (uint32_t k = end; k-- > first;)
        kid_stop(w, s, k);
}

/*
 * Relinks p's children in spec order (see the invariant above): a
 * restarted kid is spawned youngest, wherever it is in the spec. Skipped
 * if p has a child that is no kid, which the invariant rules out.
 */
static void kids_relink(struct airsrt_worker *w, struct actor *p,
                        const struct sup *s)
{
    uint32_t linked = 0, running = 0;

    for (uint32_t c = p->first_child; c != 0;
         c = airsrt__actor_at(w, c)->next_sibling)
        linked++;
    for (uint32_t k = 0; k < s->spec->nchildren; k++)
        running += kid_is_running(&s->kids[k]);
    if (linked != running)
        return;
    p->first_child = 0;
    for (uint32_t k = 0; k < s->spec->nchildren; k++) {
        struct actor *a;

        if (!kid_is_running(&s->kids[k]))
            continue;
        a = airsrt__actor_at(w, s->kids[k].addr.slot);
        a->prev_sibling = 0;
        a->next_sibling = p->first_child;
        if (p->first_child != 0)
            airsrt__actor_at(w, p->first_child)->prev_sibling = a->addr.slot;
        p->first_child = a->addr.slot;
    }
}

/* ---- restarts ---- */

/* Marks which kids of [first, end) this restart starts, and stops the
 * others that run, in reverse order: the one that ended, those that ran
 * and are not temporary, and those whose own end waits to be acted on
 * and calls for a restart. */
static void strategy_stop(struct airsrt_worker *w, struct sup *s, uint32_t pos,
                          uint32_t first, uint32_t end)
{
    for (uint32_t k = end; k-- > first;) {
        struct kid *c = &s->kids[k];
        uint32_t r = s->spec->children[k].restart;

        c->is_due = k == pos ||
                    (kid_is_running(c) && r != AIRSRT_RESTART_TEMPORARY) ||
                    (c->has_exited && !kid_is_done(s, k));
        c->has_exited = false;
        if (k != pos)
            kid_stop(w, s, k);
    }
}

/*
 * One restart of the kids of p by its strategy, for the end of kid pos:
 * stop, then start in order. 0, or -1 with *failed the kid that failed to
 * start; the due kids after it are noted as failed exits, so that the
 * next try starts them too.
 */
static int strategy_apply(struct airsrt_worker *w, struct actor *p,
                          struct sup *s, uint32_t pos, uint32_t *failed)
{
    uint32_t first, end;
    int rc = 0;

    airsrt__strategy_range(s->spec->strategy, pos, s->spec->nchildren, &first,
                           &end);
    strategy_stop(w, s, pos, first, end);
    for (uint32_t k = first; k < end; k++) {
        struct kid *c = &s->kids[k];

        if (!c->is_due)
            continue;
        c->is_due = false;
        if (rc < 0) {
            c->has_exited = c->is_failed = true;
        } else if ((rc = kid_start(w, p, s, k)) < 0) {
            *failed = k;
        } else {
            airsrt__stat_add(&w->self->actor_restarts, 1);
        }
    }
    kids_relink(w, p, s);
    return rc < 0 ? -1 : 0;
}

/* Intensity exceeded: p stops its kids and fails, which its parent (or
 * the worker) is told of as of any failed actor. */
static void give_up(struct airsrt_worker *w, struct actor *p, struct sup *s)
{
    kids_stop(w, s, 0, s->spec->nchildren);
    airsrt__actor_fail(w, p, AIRSRT_SUPERVISOR_GAVE_UP, NULL);
}

/* Restarts for the end of kid pos until it works or the intensity gives
 * out (false: p gave up). A kid that fails to start counts as one more
 * restart, as in the OS-level tree. All of it happens within one poll,
 * so a period shorter than a failed start would never see the
 * intensity exceeded: more than max_restarts failed starts in a row give
 * up as well. */
static bool sup_restart(struct airsrt_worker *w, struct actor *p,
                        struct sup *s, uint32_t pos)
{
    uint32_t failed = pos;     /* set by strategy_apply on failure */

    for (uint32_t tries = 0;; tries++) {
        if (tries > s->spec->max_restarts ||
            !airsrt__intensity_allows(s->restarts_ns, &s->nrestarts,
                                      s->spec->max_restarts,
                                      s->spec->period_ns, airsrt_now_ns())) {
            give_up(w, p, s);
            return false;
        }
        if (strategy_apply(w, p, s, pos, &failed) == 0)
            return true;
        pos = failed;
    }
}

static bool sup_is_acting(const struct airsrt_worker *w, const struct actor *p)
{
    return p->lifecycle == AIRSRT_ACTOR_RUNNING && !p->is_stop_pending &&
           !w->is_shutting_down;
}

/* Acts on every noted end of p's kids, in spec order. */
static void sup_act(struct airsrt_worker *w, struct actor *p)
{
    struct sup *s = p->state;

    s->is_pending = false;
    for (uint32_t k = 0; k < s->spec->nchildren; k++) {
        if (!sup_is_acting(w, p))
            return;
        if (!s->kids[k].has_exited)
            continue;
        s->kids[k].has_exited = false;
        if (!kid_is_done(s, k) && !sup_restart(w, p, s, k))
            return;
    }
}

/* ---- the supervisor actor ---- */

static bool is_sup(const struct actor *a)
{
    return a->type == &sup_type && a->state != NULL &&
           ((const struct sup *)a->state)->kids != NULL;
}

static void sup_free(struct sup *s)
{
    free(s->restarts_ns);
    s->restarts_ns = NULL;
    s->kids = NULL;
}

static int sup_pre_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                         size_t arg_len)
{
    struct sup *s = state;
    const struct flat_spec *f = arg;
    size_t ring = ((size_t)f->max_restarts + 1) * sizeof(uint64_t);
    int rc;

    (void)arg_len;  /* made by airsrt_supervise or a parent: trusted */
    s->spec = f;
    s->restarts_ns = calloc(1, ring + f->nchildren * sizeof(struct kid));
    if (s->restarts_ns == NULL)
        return -ENOMEM;
    s->kids = (struct kid *)(void *)((uint8_t *)s->restarts_ns + ring);
    for (uint32_t k = 0; k < f->nchildren; k++) {
        if ((rc = kid_start(ctx->w, ctx->a, s, k)) < 0) {
            kids_stop(ctx->w, s, 0, k);
            sup_free(s);
            return rc;
        }
    }
    return 0;
}

/* Supervisors take no messages: whatever arrives is dropped. */
static int sup_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    (void)env;
    return 0;
}

/* Its kids were stopped before it (children first). */
static void sup_post_stop(struct airsrt_ctx *ctx, void *state)
{
    (void)ctx;
    sup_free(state);
}

/* It fails only when it gives up: that goes up the tree. */
static enum airsrt_directive sup_on_error(struct airsrt_ctx *ctx, void *state,
                                          const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    (void)f;
    return AIRSRT_ESCALATE;
}

/* ---- hooks of actor.c ---- */

bool airsrt__supervision_is_supervised(const struct airsrt_worker *w,
                                       const struct actor *a)
{
    return a->parent != AIRSRT_ROOT_SLOT &&
           airsrt__actor_at(w, a->parent)->type == &sup_type;
}

static void pending_push(struct airsrt_worker *w, struct actor *p)
{
    if (w->nsup_pending == w->sup_pending_cap) {
        uint32_t cap = w->sup_pending_cap ? 2 * w->sup_pending_cap : 16;
        struct airsrt_address *n =
            realloc(w->sup_pending, cap * sizeof(*n));

        if (n == NULL) {
            w->is_sup_scan_due = true;
            return;
        }
        w->sup_pending = n;
        w->sup_pending_cap = cap;
    }
    w->sup_pending[w->nsup_pending++] = p->addr;
}

void airsrt__supervision_child_ended(struct airsrt_worker *w,
                                     const struct actor *a, bool failed)
{
    struct actor *p;
    struct sup *s;
    uint32_t k;

    if (a->parent == AIRSRT_ROOT_SLOT)
        return;
    p = airsrt__actor_at(w, a->parent);
    if (!is_sup(p))
        return;
    s = p->state;
    if ((k = kid_of(s, &a->addr)) == UINT32_MAX)
        return;
    kid_clear(&s->kids[k]);
    s->kids[k].has_exited = true;
    s->kids[k].is_failed = failed;
    if (!sup_is_acting(w, p) || s->is_pending)
        return;
    s->is_pending = true;
    pending_push(w, p);
}

/* The pending list had no memory: every supervisor with a noted end. */
static void scan_all(struct airsrt_worker *w)
{
    w->is_sup_scan_due = false;
    for (uint32_t slot = 1; slot < w->high; slot++) {
        struct actor *p = airsrt__actor_at(w, slot);

        if (is_sup(p) && sup_is_acting(w, p))
            sup_act(w, p);
    }
}

void airsrt__supervision_run_pending(struct airsrt_worker *w)
{
    /* Acting stops actors, which calls back here: the loop below takes
     * what they add. */
    if (w->is_supervising)
        return;
    w->is_supervising = true;
    while (w->nsup_pending != 0 || w->is_sup_scan_due) {
        for (uint32_t i = 0; i < w->nsup_pending; i++) {
            struct actor *p = airsrt__actor_find(w, &w->sup_pending[i]);

            if (p != NULL && is_sup(p))
                sup_act(w, p);
        }
        w->nsup_pending = 0;
        if (w->is_sup_scan_due)
            scan_all(w);
        if (airsrt__actor_has_stops(w))
            airsrt__actor_process_stops(w);
    }
    w->is_supervising = false;
}

void airsrt__supervision_fini(struct airsrt_worker *w)
{
    for (uint32_t slot = 1; slot < w->high && w->chunks != NULL; slot++) {
        struct actor *a = airsrt__actor_at(w, slot);

        if (is_sup(a))
            sup_free(a->state);
    }
    free(w->sup_pending);
    w->sup_pending = NULL;
    w->nsup_pending = w->sup_pending_cap = 0;
}

/* ---- public API ---- */

int airsrt_supervise(struct airsrt_ctx *ctx,
                     const struct airsrt_supervisor_spec *spec,
                     const char *name, struct airsrt_address *addr)
{
    struct airsrt_spawn_opts o = { .name = name };
    uint8_t *blob;
    size_t len;
    int rc = spec_check(spec, 1);

    if (rc < 0)
        return rc;
    len = spec_size(spec);
    if (len > UINT32_MAX)
        return -EINVAL;
    blob = calloc(1, len);
    if (blob == NULL)
        return -ENOMEM;
    spec_write(blob, spec);
    o.arg = blob;
    o.arg_len = len;
    rc = airsrt_spawn(ctx, &sup_type, &o, addr);
    free(blob);
    return rc;
}

static int sup_lookup(struct airsrt_ctx *ctx, const struct airsrt_address *at,
                      const struct sup **s)
{
    struct actor *a;

    if (at == NULL || airsrt_address_is_null(at) ||
        airsrt_address_validate(at) < 0)
        return -EINVAL;
    if (at->node != 0 || at->worker != ctx->w->index)
        return -EREMOTE;
    if ((a = airsrt__actor_find(ctx->w, at)) == NULL)
        return -ESTALE;
    if (!is_sup(a))
        return -EINVAL;
    *s = a->state;
    return 0;
}

ssize_t airsrt_supervisor_which_children(struct airsrt_ctx *ctx,
                                         const struct airsrt_address *sup,
                                         struct airsrt_child_info *out,
                                         size_t max)
{
    const struct sup *s;
    int rc = sup_lookup(ctx, sup, &s);

    if (rc < 0)
        return rc;
    for (uint32_t k = 0; k < s->spec->nchildren && k < max; k++) {
        const struct flat_child *c = &s->spec->children[k];

        strlcpy(out[k].id, flat_str(s->spec, c->id), sizeof(out[k].id));
        out[k].addr = s->kids[k].addr;
        out[k].restart = (enum airsrt_restart)c->restart;
        out[k].is_supervisor = c->type == &sup_type;
    }
    return (ssize_t)s->spec->nchildren;
}

int airsrt_supervisor_find_child(struct airsrt_ctx *ctx,
                                 const struct airsrt_address *sup,
                                 const char *id, struct airsrt_address *addr)
{
    const struct sup *s;
    int rc = sup_lookup(ctx, sup, &s);

    if (rc < 0)
        return rc;
    if (id == NULL)
        return -EINVAL;
    for (uint32_t k = 0; k < s->spec->nchildren; k++) {
        if (strcmp(flat_str(s->spec, s->spec->children[k].id), id) != 0)
            continue;
        if (!kid_is_running(&s->kids[k]))
            return -ESRCH;
        if (addr != NULL)
            *addr = s->kids[k].addr;
        return 0;
    }
    return -ENOENT;
}
