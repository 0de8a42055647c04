/*
 * worker/transport.c - envelopes between this worker and the others:
 * the data rings (one to and one from every other worker), the outboxes
 * behind full rings, and the control ring.
 *
 * Sending writes a record straight into the destination's ring and
 * publishes at the end of the poll, or as soon as an eighth of the ring
 * waits (one release store and one doorbell check for many envelopes).
 * When the ring is full, the envelope and every later one for that worker
 * wait in its outbox, in order, until the receiver frees room: per-pair
 * order holds, and nothing is dropped. The outbox is bounded
 * (opts.outbox_max): past it a send is refused, never lost. The outbox
 * count in the self page is derived from the outboxes once per flush.
 *
 * Receiving copies each envelope out of the ring into this worker's
 * memory, checks the copy (the producer may rewrite its ring at any time;
 * the copy cannot change), routes it, and releases the batch. What was
 * released is ours: if we crash, what we had read but not released is
 * read again by our next incarnation, and mailboxes are lost with us.
 * While the worker already holds AIRSRT_QUEUED_PAUSE envelopes in its
 * mailboxes it stops taking more from the data rings, so a slow
 * receiver shows as a full ring to its senders instead of growing
 * without bound.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/doorbell.h"
#include "worker/worker_impl.h"

#define AIRSRT_QUEUED_PAUSE 65536u

int airsrt__transport_init(struct airsrt_worker *w, char *err, size_t len)
{
    w->peers = calloc(w->nworkers, sizeof(*w->peers));
    w->dirty = calloc(w->nworkers, sizeof(*w->dirty));
    if (w->peers == NULL || w->dirty == NULL) {
        snprintf(err, len, "out of memory for %u peers", w->nworkers);
        return -ENOMEM;
    }
    for (uint32_t p = 0; p < w->nworkers; p++)
        w->peers[p].bell = airsrt_shm_doorbell(w->shm, p);
    return 0;
}

/*
 * Rings are bound here (addresses only) but attached - their positions
 * read, and repaired if need be - at their first use: a peer's inbound
 * ring at the first read of it, its outbound ring at the first envelope
 * for it. Nobody else takes our role on them meanwhile, so attaching
 * later resumes exactly where attaching now would. Each ring's control
 * words sit on their own pages, often under their own page table: a
 * worker that touched 2 per peer before it was ready would make a
 * restart cost grow with the number of workers.
 */
int airsrt__transport_open(struct airsrt_worker *w, char *err, size_t len)
{
    for (uint32_t p = 0; p < w->nworkers; p++) {
        struct peer *peer = &w->peers[p];

        if (p == w->index)
            continue;   /* local envelopes never use a ring */
        if (airsrt_shm_data_ring(w->shm, p, w->index, &peer->in) < 0 ||
            airsrt_shm_data_ring(w->shm, w->index, p, &peer->out) < 0) {
            snprintf(err, len, "cannot bind the rings with worker %u", p);
            return -EINVAL;
        }
    }
    if (airsrt_shm_ctl_ring(w->shm, w->index, &w->ctl) < 0) {
        snprintf(err, len, "cannot bind control ring %u", w->index);
        return -EINVAL;
    }
    airsrt_ring_consumer_attach(&w->ctl);
    return 0;
}

/* The ring from p, ready to read. */
static struct airsrt_ring *peer_in(struct peer *p)
{
    if (!p->is_in_attached) {
        airsrt_ring_consumer_attach(&p->in);
        p->is_in_attached = true;
    }
    return &p->in;
}

/* The ring to p, ready to write. */
static void peer_attach_out(struct peer *p)
{
    if (!p->is_out_attached) {
        airsrt_ring_producer_attach(&p->out);
        p->is_out_attached = true;
    }
}

static void mark_dirty(struct airsrt_worker *w, uint32_t to)
{
    struct peer *p = &w->peers[to];

    if (!p->is_dirty) {
        p->is_dirty = true;
        w->dirty[w->ndirty++] = to;
    }
}

static void outbox_push(struct peer *p, struct msg *m)
{
    m->next = NULL;
    if (p->outbox_tail != NULL)
        p->outbox_tail->next = m;
    else
        p->outbox_head = m;
    p->outbox_tail = m;
    p->outbox_len++;
}

/* True if p's receiver released room since we last loaded its head: a
 * reservation that failed loaded it, so before that nothing can fit. */
static bool peer_has_room(const struct peer *p)
{
    /* Pairs with the release in airsrt_ring_release(). */
    return atomic_load_explicit(&p->out.cons->head, memory_order_acquire) !=
           p->out.head_seen;
}

/* Makes what we wrote to p visible and wakes its worker: it cannot make
 * room in a ring whose records it cannot see. */
static void publish(struct peer *p)
{
    if (airsrt_ring_publish(&p->out))
        airsrt_doorbell_ring(p->bell);
}

/* Moves what fits of p's outbox into its ring, in order, and publishes
 * it: the outbox only empties if the receiver sees these and frees
 * room. Tries only when room may have come. */
static void outbox_drain(struct airsrt_worker *w, struct peer *p)
{
    uint32_t moved = 0;
    struct msg *m;

    if (p->outbox_head == NULL || !peer_has_room(p))
        return;
    while ((m = p->outbox_head) != NULL &&
           airsrt_ring_write(&p->out, &m->env) == 0) {
        p->outbox_head = m->next;
        airsrt__msg_free(&w->pool, m);
        moved++;
    }
    if (moved == 0)
        return;
    publish(p);
    if (p->outbox_head == NULL)
        p->outbox_tail = NULL;
    p->outbox_len -= moved;
}

int airsrt__transport_claim(struct airsrt_worker *w, uint32_t to,
                            uint32_t len, struct airsrt_envelope **e)
{
    struct peer *p = &w->peers[to];
    struct msg *m;

    peer_attach_out(p);
    /* Room may have come since the last flush: the oldest go first. */
    outbox_drain(w, p);
    if (p->outbox_head == NULL) {
        int rc = airsrt_ring_reserve(&p->out, len, e);

        if (rc != -EAGAIN)
            return rc;
        publish(p);
    }
    if (p->outbox_len >= w->opts.outbox_max)
        return -EAGAIN;
    m = airsrt__msg_alloc(&w->pool, len);
    if (m == NULL)
        return -ENOMEM;
    *e = &m->env;
    return AIRSRT_SENT_BACKPRESSURE;
}

void airsrt__transport_commit(struct airsrt_worker *w, uint32_t to,
                              struct airsrt_envelope *e, int how)
{
    struct peer *p = &w->peers[to];

    if (how == AIRSRT_SENT_BACKPRESSURE) {
        outbox_push(p, (struct msg *)(void *)
                    ((uint8_t *)e - offsetof(struct msg, env)));
        airsrt__stat_add(&w->self->backpressure, 1);
    } else {
        airsrt_ring_commit(&p->out);
        /* A poll can run many turns, and the receiver can neither read
         * nor make room for what it cannot see: publish every eighth of
         * the ring, not only at the end of the poll. */
        if (p->out.tail - p->out.published >= p->out.capacity / 8)
            publish(p);
    }
    mark_dirty(w, to);
}

int airsrt__transport_copy(struct airsrt_worker *w, uint32_t to,
                           const struct airsrt_envelope *env)
{
    struct airsrt_envelope *e;
    int rc = airsrt__transport_claim(w, to, env->payload_len, &e);

    if (rc < 0)
        return rc;
    memcpy(e, env, airsrt_envelope_size(env->payload_len));
    airsrt__transport_commit(w, to, e, rc);
    return rc;
}

void airsrt__transport_flush(struct airsrt_worker *w)
{
    uint64_t waiting = 0;
    uint32_t kept = 0;

    for (uint32_t i = 0; i < w->ndirty; i++) {
        struct peer *p = &w->peers[w->dirty[i]];

        outbox_drain(w, p);
        publish(p);
        waiting += p->outbox_len;
        if (p->outbox_head != NULL)
            w->dirty[kept++] = w->dirty[i];
        else
            p->is_dirty = false;
    }
    w->ndirty = kept;
    atomic_store_explicit(&w->self->outbox_envelopes, waiting,
                          memory_order_relaxed);
}

uint64_t airsrt__transport_give_up(struct airsrt_worker *w)
{
    uint64_t lost = 0;

    for (uint32_t i = 0; i < w->ndirty; i++) {
        struct peer *p = &w->peers[w->dirty[i]];
        struct msg *m;

        while ((m = p->outbox_head) != NULL) {
            p->outbox_head = m->next;
            airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
            lost++;
        }
        p->outbox_tail = NULL;
        p->outbox_len = 0;
        p->is_dirty = false;
    }
    w->ndirty = 0;
    atomic_store_explicit(&w->self->outbox_envelopes, 0, memory_order_relaxed);
    return lost;
}

bool airsrt__transport_is_backed_up(const struct airsrt_worker *w)
{
    return w->ndirty != 0;
}

bool airsrt__transport_has_room(const struct airsrt_worker *w)
{
    for (uint32_t i = 0; i < w->ndirty; i++)
        if (peer_has_room(&w->peers[w->dirty[i]]))
            return true;
    return false;
}

/* Copies one envelope out of a ring and routes the copy. */
static void take_view(struct airsrt_worker *w, const struct airsrt_ring_view *v,
                      bool is_ctl)
{
    uint32_t len = v->payload_len;
    struct msg *m = airsrt__msg_alloc(&w->pool, len);

    if (m == NULL) {
        /* Counted; the envelope itself is gone with the batch. */
        airsrt__stat_add(&w->self->dead_letters[AIRSRT_DL_UNROUTABLE], 1);
        return;
    }
    memcpy(&m->env, v->env, airsrt_envelope_size(len));
    m->env.payload_len = len;
    /* ring_read checked the record in the ring, but its producer may have
     * rewritten it since. The copy cannot change: check again what the
     * worker indexes or masks with. Addresses are judged by routing
     * (actor lookup, plan_address for replies) wherever they are used. */
    if (m->env.priority > AIRSRT_PRIO_SYSTEM ||
        (m->env.flags & ~AIRSRT_ENV_F_ALL) != 0) {
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
        return;
    }
    airsrt__route_arrived(w, m, is_ctl);
}

static uint32_t drain_ring(struct airsrt_worker *w, struct airsrt_ring *r,
                           bool is_ctl, int from)
{
    struct airsrt_ring_view v[AIRSRT_READ_BATCH];
    ssize_t n = airsrt_ring_read(r, v, AIRSRT_READ_BATCH), i;

    if (n <= 0) {
        /* What the read went past - padding, or damage it skipped - is
         * given back, or the producer would wait for that room forever. */
        airsrt_ring_release_all(r);
        if (n < 0)  /* counted by the ring; said here: a bug or a stray
                       write did this */
            fprintf(stderr, "airsrt worker %u: corrupt %s ring from %s %d "
                    "skipped (%llu corruptions so far)\n", w->index,
                    is_ctl ? "control" : "data", is_ctl ? "tools" : "worker",
                    from, (unsigned long long)atomic_load_explicit(
                        &r->cons->stats.corruptions, memory_order_relaxed));
        return 0;
    }
    for (i = 0; i < n && !w->is_shutting_down; i++)
        take_view(w, &v[i], is_ctl);
    /* After a shutdown command, what follows it stays in the ring for
     * our next incarnation instead of dying in a mailbox with us. */
    if (i == n)
        airsrt_ring_release_all(r);
    else
        airsrt_ring_release(r, v[i - 1].end);
    return (uint32_t)i;
}

static bool is_intake_paused(const struct airsrt_worker *w)
{
    return w->queued >= AIRSRT_QUEUED_PAUSE;
}

uint32_t airsrt__transport_drain(struct airsrt_worker *w)
{
    uint32_t n = drain_ring(w, &w->ctl, true, -1);

    if (is_intake_paused(w))
        return n;
    /* A ring with nothing new costs ring_read one acquire load. */
    for (uint32_t p = 0; p < w->nworkers && !w->is_shutting_down; p++)
        if (p != w->index)
            n += drain_ring(w, peer_in(&w->peers[p]), false, (int)p);
    return n;
}

bool airsrt__transport_has_input(struct airsrt_worker *w)
{
    if (airsrt_ring_has_data(&w->ctl))
        return true;
    if (is_intake_paused(w))
        return false;
    for (uint32_t p = 0; p < w->nworkers; p++)
        if (p != w->index && airsrt_ring_has_data(peer_in(&w->peers[p])))
            return true;
    return false;
}

void airsrt__transport_fini(struct airsrt_worker *w)
{
    for (uint32_t p = 0; w->peers != NULL && p < w->nworkers; p++) {
        struct msg *m;

        while ((m = w->peers[p].outbox_head) != NULL) {
            w->peers[p].outbox_head = m->next;
            airsrt__msg_free(&w->pool, m);
        }
    }
    free(w->peers);
    free(w->dirty);
    w->peers = NULL;
    w->dirty = NULL;
}
