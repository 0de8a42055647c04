/*
 * worker/timer.c - envelopes sent later (airsrt/timer.h): a 4-ary
 * min-heap of (due time, order set) over a table of timer records.
 *
 * Why a heap and not a wheel: setting, cancelling and firing are
 * O(log n) with n in the millions at a few cache misses each (a 4-ary
 * heap is half as deep as a binary one, and its four children share a
 * cache line and a half), the order of equal due times is FIFO for free,
 * and the next due time - what an idle worker sleeps until - is the root.
 *
 * Memory: a pending timer costs one heap entry (24 bytes), one record
 * (24 bytes) and the msg node of its envelope (128 bytes for payloads up
 * to 24 bytes, msgpool.c): 176 bytes. Both arrays double when full and
 * never shrink while the worker lives.
 *
 * Ownership: a pending record owns its msg and its name copy; firing
 * hands the msg to the send path (airsrt__send_built), which consumes
 * it. Everything is process memory of the worker's one thread: a worker
 * that dies leaves nothing of its timers behind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "worker/worker_impl.h"

#define HEAP_ARITY   4u
#define TIMERS_FIRST 64u                /* first allocation, entries */

static uint64_t id_of(const struct timer_heap *t, uint32_t rec)
{
    return (uint64_t)t->recs[rec].gen << 32 | (uint64_t)(rec + 1);
}

/* The pending record id names, or UINT32_MAX. */
static uint32_t rec_of(const struct timer_heap *t, uint64_t id)
{
    uint32_t rec = (uint32_t)id - 1;

    if ((uint32_t)id == 0 || rec >= t->nrecs ||
        t->recs[rec].gen != (uint32_t)(id >> 32) || t->recs[rec].m == NULL)
        return UINT32_MAX;
    return rec;
}

static bool is_before(const struct timer_ent *a, const struct timer_ent *b)
{
    return a->due_ns < b->due_ns ||
           (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void place(struct timer_heap *t, uint32_t pos,
                  const struct timer_ent *e)
{
    t->heap[pos] = *e;
    t->recs[e->rec].pos = pos;
}

static void sift_up(struct timer_heap *t, uint32_t pos)
{
    struct timer_ent e = t->heap[pos];

    while (pos > 0) {
        uint32_t parent = (pos - 1) / HEAP_ARITY;

        if (!is_before(&e, &t->heap[parent]))
            break;
        place(t, pos, &t->heap[parent]);
        pos = parent;
    }
    place(t, pos, &e);
}

/* The earliest child of pos, or UINT32_MAX if it has none. */
static uint32_t first_child(const struct timer_heap *t, uint32_t pos)
{
    uint32_t c = pos * HEAP_ARITY + 1, best = UINT32_MAX;

    for (uint32_t i = 0; i < HEAP_ARITY && c + i < t->n; i++)
        if (best == UINT32_MAX || is_before(&t->heap[c + i], &t->heap[best]))
            best = c + i;
    return best;
}

static void sift_down(struct timer_heap *t, uint32_t pos)
{
    struct timer_ent e = t->heap[pos];
    uint32_t c;

    while ((c = first_child(t, pos)) != UINT32_MAX &&
           is_before(&t->heap[c], &e)) {
        place(t, pos, &t->heap[c]);
        pos = c;
    }
    place(t, pos, &e);
}

/* Takes the entry at pos out of the heap; the last one fills the hole. */
static void heap_remove(struct timer_heap *t, uint32_t pos)
{
    struct timer_ent last = t->heap[--t->n];

    if (pos == t->n)
        return;
    place(t, pos, &last);
    if (pos > 0 && is_before(&last, &t->heap[(pos - 1) / HEAP_ARITY]))
        sift_up(t, pos);
    else
        sift_down(t, pos);
}

/* Doubles *arr (of *cap elements of size) when it has no room left. */
static int grow(void **arr, uint32_t *cap, uint32_t used, size_t size)
{
    uint32_t want;
    void *p;

    if (used < *cap)
        return 0;
    if (*cap >= UINT32_MAX / 2)
        return -ENOMEM;
    want = *cap ? *cap * 2 : TIMERS_FIRST;
    p = reallocarray(*arr, want, size);
    if (p == NULL)
        return -ENOMEM;
    *arr = p;
    *cap = want;
    return 0;
}

/* A free record, or UINT32_MAX with no memory for one. */
static uint32_t rec_alloc(struct timer_heap *t)
{
    uint32_t rec;

    if (t->free_rec != 0) {
        rec = t->free_rec - 1;
        t->free_rec = t->recs[rec].pos;
        return rec;
    }
    if (grow((void **)&t->recs, &t->recs_cap, t->nrecs, sizeof(*t->recs)) < 0)
        return UINT32_MAX;
    rec = t->nrecs++;
    t->recs[rec] = (struct timer_rec){ .gen = 0 };
    return rec;
}

/* Gives rec back; its next timer gets the next generation. One whose
 * generation is spent is left out of the free list for good. */
static void rec_free(struct timer_heap *t, uint32_t rec)
{
    struct timer_rec *r = &t->recs[rec];

    r->m = NULL;
    r->name = NULL;
    if (r->gen == UINT32_MAX)
        return;
    r->pos = t->free_rec;
    t->free_rec = rec + 1;
}

int airsrt__timer_arm(struct airsrt_worker *w, struct msg *m,
                      const char *name, uint64_t delay_ns, uint64_t *id)
{
    struct timer_heap *t = &w->timers;
    char *copy = NULL;
    uint64_t now = airsrt_now_ns();
    uint32_t rec;

    if (name != NULL && (copy = strdup(name)) == NULL)
        goto nomem;
    if (grow((void **)&t->heap, &t->heap_cap, t->n, sizeof(*t->heap)) < 0)
        goto nomem;
    rec = rec_alloc(t);
    if (rec == UINT32_MAX)
        goto nomem;
    t->recs[rec].gen++;
    t->recs[rec].m = m;
    t->recs[rec].name = copy;
    t->heap[t->n] = (struct timer_ent){
        .due_ns = delay_ns > UINT64_MAX - now ? UINT64_MAX : now + delay_ns,
        .seq = t->seq++, .rec = rec };
    sift_up(t, t->n++);
    *id = id_of(t, rec);
    return 0;
nomem:
    free(copy);
    airsrt__msg_free(&w->pool, m);
    return -ENOMEM;
}

/* Frees what a record that will not fire holds, and the record. */
static void drop(struct airsrt_worker *w, uint32_t rec)
{
    struct timer_heap *t = &w->timers;

    airsrt__msg_free(&w->pool, t->recs[rec].m);
    free(t->recs[rec].name);
    rec_free(t, rec);
}

/* Cancels pending record rec. */
static void disarm_rec(struct airsrt_worker *w, uint32_t rec)
{
    heap_remove(&w->timers, w->timers.recs[rec].pos);
    drop(w, rec);
}

int airsrt__timer_disarm(struct airsrt_worker *w, uint64_t id)
{
    uint32_t rec = rec_of(&w->timers, id);

    if (rec == UINT32_MAX)
        return -ENOENT;
    disarm_rec(w, rec);
    return 0;
}

/* Sends the earliest timer's envelope; the record is free before the
 * send, which may set timers again (a dead-letter actor's). */
static void fire_first(struct airsrt_worker *w)
{
    struct timer_heap *t = &w->timers;
    uint32_t rec = t->heap[0].rec;
    struct msg *m = t->recs[rec].m;
    char *name = t->recs[rec].name;

    heap_remove(t, 0);
    rec_free(t, rec);
    if (m->env.type == AIRSRT_MSG_TIMEOUT)
        airsrt__request_expire(w, m->env.correlation_id);
    airsrt__send_built(w, m, name);
    free(name);
}

uint32_t airsrt__timers_fire(struct airsrt_worker *w, uint64_t now_ns,
                             uint32_t budget)
{
    struct timer_heap *t = &w->timers;
    uint32_t fired = 0;

    while (fired < budget && t->n > 0 && t->heap[0].due_ns <= now_ns) {
        fire_first(w);
        fired++;
    }
    return fired;
}

uint64_t airsrt__timers_next_due(const struct airsrt_worker *w)
{
    return w->timers.n > 0 ? w->timers.heap[0].due_ns : UINT64_MAX;
}

void airsrt__timers_fini(struct airsrt_worker *w)
{
    struct timer_heap *t = &w->timers;

    while (t->n > 0) {
        uint32_t rec = t->heap[--t->n].rec;

        drop(w, rec);
    }
    free(t->heap);
    free(t->recs);
    *t = (struct timer_heap){ 0 };
}

/* What airsrt_send_ex() would refuse at once, checked when it is set. */
static int check_target(const struct airsrt_worker *w,
                        const struct airsrt_address *to, const char *name)
{
    if (name != NULL)
        return airsrt_registry_name_validate(name) < 0 ? -EINVAL : 0;
    return airsrt__send_check_address(w, to);
}

int airsrt_send_after(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                      const char *name, uint64_t delay_ns, uint32_t type,
                      const void *payload, uint32_t len, uint64_t *timer)
{
    struct msg *m;
    uint64_t id;
    int rc;

    if (type >= AIRSRT_TYPE_RESERVED)
        return -EINVAL;
    rc = airsrt__send_check_args(ctx->w, to, name, payload, len);
    if (rc == 0)
        rc = check_target(ctx->w, to, name);
    if (rc < 0)
        return rc;
    /* Built now as a send would build it; its route and message id are
     * set when it fires. */
    m = airsrt__msg_build(ctx->w, type, AIRSRT_PRIO_NORMAL, &ctx->self, to,
                          0, payload, len);
    if (m == NULL)
        return -ENOMEM;
    rc = airsrt__timer_arm(ctx->w, m, name, delay_ns, &id);
    if (rc == 0 && timer != NULL)
        *timer = id;
    return rc;
}

int airsrt_cancel_timer(struct airsrt_ctx *ctx, uint64_t timer)
{
    struct timer_heap *t = &ctx->w->timers;
    uint32_t rec = rec_of(t, timer);

    if (rec == UINT32_MAX)
        return -ENOENT;
    /* A request's timeout is the runtime's: nobody's to cancel. */
    if (t->recs[rec].m->env.type >= AIRSRT_TYPE_RESERVED)
        return -ENOENT;
    if (!airsrt_address_equal(&t->recs[rec].m->env.sender, &ctx->self))
        return -EPERM;
    disarm_rec(ctx->w, rec);
    return 0;
}
