/*
 * worker/monitor.c - monitors (airsrt/monitor.h): DOWN envelopes, exactly
 * one per monitor.
 *
 * Two sides, both kept by the worker they live in, in its one thread:
 *
 *  - the watcher's side: every monitor an actor of ours set, in the tree
 *    w->mon_refs by ref, and in a list per watcher (so that a watcher that
 *    ends drops its own in time proportional to them). A DOWN, made here
 *    or arrived from a ring, reaches the watcher only if its ref is still
 *    in the tree, for that watcher and target, and it leaves the tree as
 *    it is delivered. That one rule makes a DOWN exactly-once whatever
 *    races it: a DOWN after demonitor, or the target's worker's DOWN
 *    after our WORKER_DIED (or the other way round), finds no ref and is
 *    dropped (counted in w->mon_dropped, not as a dead letter of the
 *    user's: nobody lost anything).
 *
 *  - the watched side: per target actor, who watches it (ref, watcher
 *    address), local or remote. A remote watcher's worker adds itself by
 *    an AIRSRT_MSG_MONITOR envelope and leaves by AIRSRT_MSG_DEMONITOR.
 *    When the target ends, each entry becomes a DOWN: put in a local
 *    watcher's mailbox, or sent to a remote watcher's worker.
 *
 * What a crash leaves behind: everything here is process memory. If the
 * target's worker dies, its watched side is gone, and the watchers'
 * workers fire WORKER_DIED from their own tables when the supervisor
 * announces the death. If a watcher's worker dies, the targets' workers
 * keep stale watcher entries (bounded by AIRSRT_MONITOR_WATCHERS_MAX per
 * target) until that death is announced to them, which purges them; a
 * DOWN sent meanwhile to a stale watcher is a dead letter (stale) there.
 *
 * Nothing here runs a callback: DOWNs are envelopes put in mailboxes, so
 * airsrt_monitor() never re-enters the caller.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/queue.h>
#include <bsd/sys/tree.h>

#include "worker/worker_impl.h"

/* One monitor an actor of ours set. In w->mon_refs by ref and in its
 * watcher's refs list, or in neither (then freed). */
struct mon_ref {
    RB_ENTRY(mon_ref) link;
    LIST_ENTRY(mon_ref) by_watcher;
    uint64_t ref;
    struct airsrt_address watcher;      /* one of our actors, live */
    struct airsrt_address target;
};

/* One watcher of a target, on the target's side. */
struct mon_watch {
    uint64_t ref;
    struct airsrt_address watcher;      /* here or in another worker */
};

/* Hung off struct actor; freed when the actor ends. */
struct actor_monitors {
    LIST_HEAD(, mon_ref) refs;          /* monitors it set */
    struct mon_watch *watch;            /* its watchers, unordered */
    uint32_t nwatch, capwatch;
    int32_t err;                        /* its last failure's */
};

/* The last incarnation of a worker announced dead, and how it ended. */
struct mon_dead {
    uint32_t incarnation;
    int32_t err;
};

static int ref_cmp(const struct mon_ref *a, const struct mon_ref *b)
{
    return a->ref < b->ref ? -1 : a->ref > b->ref;
}

AIRSRT_RB_GENERATE_STATIC(mon_tree, mon_ref, link, ref_cmp)

static struct mon_ref *ref_find(struct airsrt_worker *w, uint64_t ref)
{
    struct mon_ref key = { .ref = ref };

    return RB_FIND(mon_tree, &w->mon_refs, &key);
}

static void ref_remove(struct airsrt_worker *w, struct mon_ref *r)
{
    RB_REMOVE(mon_tree, &w->mon_refs, r);
    LIST_REMOVE(r, by_watcher);
}

static struct actor_monitors *monitors_of(struct actor *a)
{
    if (a->monitors == NULL) {
        a->monitors = calloc(1, sizeof(*a->monitors));
        if (a->monitors != NULL)
            LIST_INIT(&a->monitors->refs);
    }
    return a->monitors;
}

const char *airsrt_down_reason_name(unsigned reason)
{
    static const char *const names[AIRSRT_DOWN_REASONS] = {
        "normal", "failed", "no_actor", "worker_died" };

    return reason < AIRSRT_DOWN_REASONS ? names[reason] : "unknown";
}

/* ---- envelopes ---- */

/* Sends a monitor envelope to another worker, at system priority. */
static int send_remote(struct airsrt_worker *w, uint32_t type,
                       const struct airsrt_address *from,
                       const struct airsrt_address *to, uint64_t ref,
                       const void *payload, uint32_t len)
{
    struct airsrt_ctx ctx = { .w = w, .self = *from };
    int rc = airsrt__send_system(&ctx, to, type, ref, payload, len);

    return rc < 0 ? rc : 0;     /* queued behind a full ring is sent */
}

/* Puts a DOWN for r in its watcher's mailbox and forgets r. */
static void deliver_down(struct airsrt_worker *w, struct mon_ref *r,
                         const struct airsrt_down *d)
{
    struct actor *a = airsrt__actor_find(w, &r->watcher);
    struct msg *m = airsrt__msg_build(w, AIRSRT_MSG_DOWN, AIRSRT_PRIO_SYSTEM,
                                      &d->target, &r->watcher, r->ref, d,
                                      sizeof(*d));

    /* Put straight in a mailbox, not sent: its id is taken here. */
    if (m != NULL)
        m->env.message_id = airsrt_msgid_next(&w->ids);
    ref_remove(w, r);
    free(r);
    if (m == NULL) {
        w->mon_dropped++;   /* out of memory: the DOWN is lost */
        return;
    }
    /* A watcher drops its refs as it ends, so a is live; the system lane
     * is never refused. */
    if (a == NULL || airsrt__mailbox_put(w, a, m) < 0)
        airsrt__dead_letter(w, m, AIRSRT_DL_STALE);
}

/* The target's side tells watcher (here or elsewhere) of a DOWN. */
static void fire(struct airsrt_worker *w, const struct mon_watch *x,
                 const struct airsrt_down *d)
{
    struct mon_ref *r;

    if (x->watcher.worker != w->index) {
        /* Lost only if the outbox is at outbox_max (see README). */
        if (send_remote(w, AIRSRT_MSG_DOWN, &d->target, &x->watcher, x->ref,
                        d, sizeof(*d)) < 0)
            w->mon_dropped++;
        return;
    }
    r = ref_find(w, x->ref);
    if (r == NULL || !airsrt_address_equal(&r->watcher, &x->watcher) ||
        !airsrt_address_equal(&r->target, &d->target)) {
        w->mon_dropped++;
        return;
    }
    deliver_down(w, r, d);
}

/* ---- the watched side ---- */

static int watch_add(struct airsrt_worker *w, struct actor *t, uint64_t ref,
                     const struct airsrt_address *watcher)
{
    struct actor_monitors *am = monitors_of(t);

    if (am == NULL)
        return -ENOMEM;
    if (am->nwatch == am->capwatch) {
        uint32_t cap = am->capwatch ? 2 * am->capwatch : 4;
        struct mon_watch *x;

        if (am->nwatch >= AIRSRT_MONITOR_WATCHERS_MAX)
            return -ENOSPC;
        if (cap > AIRSRT_MONITOR_WATCHERS_MAX)
            cap = AIRSRT_MONITOR_WATCHERS_MAX;
        x = reallocarray(am->watch, cap, sizeof(*x));
        if (x == NULL)
            return -ENOMEM;
        am->watch = x;
        am->capwatch = cap;
    }
    am->watch[am->nwatch++] = (struct mon_watch){ ref, *watcher };
    if (watcher->worker != w->index)
        w->mon_remote_watchers++;
    return 0;
}

static void watch_drop_at(struct airsrt_worker *w, struct actor_monitors *am,
                          uint32_t i)
{
    if (am->watch[i].watcher.worker != w->index)
        w->mon_remote_watchers--;
    am->watch[i] = am->watch[--am->nwatch];
}

/* Forgets watcher's monitor ref of t; false if t had none such. */
static bool watch_remove(struct airsrt_worker *w, struct actor *t,
                         uint64_t ref, const struct airsrt_address *watcher)
{
    struct actor_monitors *am = t->monitors;

    for (uint32_t i = 0; am != NULL && i < am->nwatch; i++) {
        if (am->watch[i].ref == ref &&
            airsrt_address_equal(&am->watch[i].watcher, watcher)) {
            watch_drop_at(w, am, i);
            return true;
        }
    }
    return false;
}

/* ---- the watcher's side ---- */

/* DOWN NO_ACTOR (or WORKER_DIED) for r at once, as an envelope. */
static void down_now(struct airsrt_worker *w, struct mon_ref *r,
                     uint32_t reason, int32_t err)
{
    struct airsrt_down d = { .target = r->target, .reason = reason,
                             .err = err };

    deliver_down(w, r, &d);
}

/* What we know without asking: target's incarnation was announced dead
 * (WORKER_DIED), or its worker runs a later incarnation (NO_ACTOR: the
 * announcement may not have reached us yet). -1: ask its worker. */
static int known_fate(struct airsrt_worker *w, const struct mon_ref *r,
                      int32_t *err)
{
    const struct airsrt_address *t = &r->target;
    struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(w->shm, t->worker);
    const struct mon_dead *dead = w->mon_dead ? &w->mon_dead[t->worker]
                                              : NULL;

    if (dead != NULL && t->incarnation <= dead->incarnation) {
        *err = dead->err;
        return AIRSRT_DOWN_WORKER_DIED;
    }
    *err = 0;
    /* Relaxed: a stale incarnation only means we ask, and its worker
     * answers the same. */
    if (sup != NULL &&
        t->incarnation < atomic_load_explicit(&sup->incarnation,
                                              memory_order_relaxed))
        return AIRSRT_DOWN_NO_ACTOR;
    return -1;
}

/* Sets r up on the target's side: here, or by asking its worker. */
static int watch_target(struct airsrt_worker *w, struct mon_ref *r)
{
    struct actor *t;
    int32_t err;
    int fate;

    if (r->target.worker != w->index) {
        fate = known_fate(w, r, &err);
        if (fate >= 0) {
            down_now(w, r, (uint32_t)fate, err);
            return 0;
        }
        return send_remote(w, AIRSRT_MSG_MONITOR, &r->watcher, &r->target,
                           r->ref, NULL, 0);
    }
    t = airsrt__actor_find(w, &r->target);
    if (t == NULL) {
        down_now(w, r, AIRSRT_DOWN_NO_ACTOR, 0);
        return 0;
    }
    return watch_add(w, t, r->ref, &r->watcher);
}

int airsrt_monitor(struct airsrt_ctx *ctx, const struct airsrt_address *target,
                   uint64_t *ref)
{
    struct airsrt_worker *w = ctx->w;
    struct actor_monitors *am;
    struct mon_ref *r;
    int rc;

    if (ctx->a == NULL || ref == NULL || target == NULL)
        return -EINVAL;
    rc = airsrt__send_check_address(w, target);
    if (rc < 0)
        return rc;
    am = monitors_of(ctx->a);
    r = calloc(1, sizeof(*r));
    if (am == NULL || r == NULL) {
        free(r);
        return -ENOMEM;
    }
    *r = (struct mon_ref){ .ref = airsrt_msgid_next(&w->ids),
                           .watcher = ctx->self, .target = *target };
    RB_INSERT(mon_tree, &w->mon_refs, r);
    LIST_INSERT_HEAD(&am->refs, r, by_watcher);
    *ref = r->ref;
    /* May fire (and free r) at once: a DOWN queued, not handled yet. */
    rc = watch_target(w, r);
    if (rc < 0) {
        ref_remove(w, r);
        free(r);
        *ref = 0;
    }
    return rc;
}

/* Tells r's target's side to forget r (r is out of the tree). */
static void unwatch(struct airsrt_worker *w, const struct mon_ref *r)
{
    struct actor *t;

    if (r->target.worker != w->index) {
        /* If this cannot be sent, the target's DOWN comes and is
         * dropped here: no ref. */
        send_remote(w, AIRSRT_MSG_DEMONITOR, &r->watcher, &r->target, r->ref,
                    NULL, 0);
        return;
    }
    t = airsrt__actor_find(w, &r->target);
    if (t != NULL)
        watch_remove(w, t, r->ref, &r->watcher);
}

int airsrt_demonitor(struct airsrt_ctx *ctx, uint64_t ref)
{
    struct airsrt_worker *w = ctx->w;
    struct mon_ref *r = ref_find(w, ref);

    if (ctx->a == NULL || r == NULL ||
        !airsrt_address_equal(&r->watcher, &ctx->self))
        return -ENOENT;
    ref_remove(w, r);
    unwatch(w, r);
    free(r);
    return 0;
}

/* ---- an actor ends ---- */

void airsrt__monitor_note_error(struct actor *a, int err)
{
    if (a->monitors != NULL)
        a->monitors->err = err;
}

/* a's own monitors go: it will handle no DOWN any more. */
static void drop_refs(struct airsrt_worker *w, struct actor_monitors *am)
{
    struct mon_ref *r;

    while ((r = LIST_FIRST(&am->refs)) != NULL) {
        ref_remove(w, r);
        unwatch(w, r);
        free(r);
    }
}

void airsrt__monitor_actor_ended(struct airsrt_worker *w, struct actor *a,
                                 bool failed)
{
    struct actor_monitors *am = a->monitors;
    struct airsrt_down d = { .target = a->addr };

    if (am == NULL)
        return;
    /* First its own: a watcher of itself gets no DOWN it cannot handle. */
    drop_refs(w, am);
    d.reason = failed ? AIRSRT_DOWN_FAILED : AIRSRT_DOWN_NORMAL;
    d.err = failed ? am->err : 0;
    for (uint32_t i = 0; i < am->nwatch; i++) {
        if (am->watch[i].watcher.worker != w->index)
            w->mon_remote_watchers--;
        fire(w, &am->watch[i], &d);
    }
    free(am->watch);
    free(am);
    a->monitors = NULL;
}

/* ---- envelopes from rings ---- */

/* The target's worker's answer, or anyone's forgery: delivered only for
 * a monitor of ours that names the same watcher and target. */
static void take_down(struct airsrt_worker *w, struct msg *m)
{
    struct airsrt_down d;
    struct mon_ref *r;

    if (m->env.payload_len != sizeof(d)) {
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
        return;
    }
    memcpy(&d, m->env.payload, sizeof(d));
    r = ref_find(w, m->env.correlation_id);
    if (r != NULL && airsrt_address_equal(&r->watcher, &m->env.recipient) &&
        airsrt_address_equal(&r->target, &d.target) &&
        d.reason < AIRSRT_DOWN_REASONS) {
        /* Its node goes back first, and the same node (its size class)
         * holds the DOWN delivered: it cannot fail for lack of memory. */
        airsrt__msg_free(&w->pool, m);
        deliver_down(w, r, &d);
        return;
    }
    if (airsrt__actor_find(w, &m->env.recipient) == NULL) {
        airsrt__dead_letter(w, m, AIRSRT_DL_STALE);
        return;
    }
    w->mon_dropped++;
    airsrt__msg_free(&w->pool, m);
}

/* A watcher elsewhere asks us to watch one of our actors for it. */
static void take_monitor(struct airsrt_worker *w, struct msg *m)
{
    struct actor *t = airsrt__actor_find(w, &m->env.recipient);
    struct mon_watch x = { m->env.correlation_id, m->env.sender };
    struct airsrt_down d = { .target = m->env.recipient,
                             .reason = AIRSRT_DOWN_NO_ACTOR };
    int rc = t != NULL ? watch_add(w, t, x.ref, &x.watcher) : -ESRCH;

    if (rc == -ENOSPC || rc == -ENOMEM)
        d.err = rc;     /* it exists, but cannot be watched */
    if (rc < 0)
        fire(w, &x, &d);
    airsrt__msg_free(&w->pool, m);
}

static void take_demonitor(struct airsrt_worker *w, struct msg *m)
{
    struct actor *t = airsrt__actor_find(w, &m->env.recipient);

    if (t == NULL ||
        !watch_remove(w, t, m->env.correlation_id, &m->env.sender))
        w->mon_dropped++;
    airsrt__msg_free(&w->pool, m);
}

/* Sizes, addresses and ref of a monitor envelope from another process. */
static bool is_well_formed(const struct airsrt_worker *w,
                           const struct airsrt_envelope *e)
{
    const struct airsrt_address *to = &e->recipient, *from = &e->sender;

    if (e->recipient_name != 0 || e->correlation_id == 0 ||
        airsrt_address_is_null(to) || airsrt_address_is_null(from) ||
        to->node != 0 || to->worker != w->index || from->node != 0 ||
        from->worker >= w->nworkers)
        return false;
    if (e->type == AIRSRT_MSG_DOWN)
        return e->payload_len == sizeof(struct airsrt_down);
    return e->payload_len == 0;
}

void airsrt__monitor_arrived(struct airsrt_worker *w, struct msg *m)
{
    if (!is_well_formed(w, &m->env)) {
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
        return;
    }
    switch (m->env.type) {
    case AIRSRT_MSG_DOWN:
        take_down(w, m);
        break;
    case AIRSRT_MSG_MONITOR:
        take_monitor(w, m);
        break;
    case AIRSRT_MSG_DEMONITOR:
        take_demonitor(w, m);
        break;
    default:
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
        break;
    }
}

/* ---- worker deaths ---- */

/* Watched-side entries of watchers in the dead incarnation go: nobody
 * will handle their DOWN. Scans the table, but only while some watcher
 * is remote at all. */
static void purge_watchers(struct airsrt_worker *w, uint32_t worker,
                           uint32_t incarnation)
{
    for (uint32_t s = 1; s < w->high && w->mon_remote_watchers != 0; s++) {
        struct actor_monitors *am = airsrt__actor_at(w, s)->monitors;

        for (uint32_t i = 0; am != NULL && i < am->nwatch;) {
            const struct airsrt_address *x = &am->watch[i].watcher;

            if (x->worker == worker && x->incarnation <= incarnation)
                watch_drop_at(w, am, i);
            else
                i++;
        }
    }
}

static void remember_dead(struct airsrt_worker *w, uint32_t worker,
                          uint32_t incarnation, int32_t err)
{
    if (w->mon_dead == NULL)
        w->mon_dead = calloc(w->nworkers, sizeof(*w->mon_dead));
    if (w->mon_dead != NULL &&
        incarnation >= w->mon_dead[worker].incarnation)
        w->mon_dead[worker] = (struct mon_dead){ incarnation, err };
}

void airsrt__monitor_worker_down(struct airsrt_worker *w, uint32_t worker,
                                 uint32_t incarnation, int32_t err)
{
    struct mon_ref *r, *next;

    if (worker >= w->nworkers || worker == w->index)
        return;     /* not about another worker: nothing of ours died */
    remember_dead(w, worker, incarnation, err);
    RB_FOREACH_SAFE(r, mon_tree, &w->mon_refs, next) {
        if (r->target.worker == worker &&
            r->target.incarnation <= incarnation)
            down_now(w, r, AIRSRT_DOWN_WORKER_DIED, err);
    }
    purge_watchers(w, worker, incarnation);
}

void airsrt__monitor_fini(struct airsrt_worker *w)
{
    struct mon_ref *r, *next;

    RB_FOREACH_SAFE(r, mon_tree, &w->mon_refs, next) {
        RB_REMOVE(mon_tree, &w->mon_refs, r);
        free(r);
    }
    for (uint32_t s = 1; w->chunks != NULL && s < w->high; s++) {
        struct actor *a = airsrt__actor_at(w, s);

        if (a->monitors != NULL) {
            free(a->monitors->watch);
            free(a->monitors);
            a->monitors = NULL;
        }
    }
    free(w->mon_dead);
    w->mon_dead = NULL;
}
