/*
 * tests/bin/chaos_worker.c - the sequenced-traffic system that the chaos
 * tests (tests/integration/test_chaos.c) run under faults. Two actor
 * types, both recording in the ledger (tests/lib/chaos_ledger.h) named
 * by the environment variable CHAOS_LEDGER:
 *
 *   prod=W.K   producer K of producer worker W: every tick_us sends the
 *              next seqs of its stream to every consumer, by name
 *              ("chaos.cW.K"), at most batch per stream per tick and
 *              at most window beyond what the consumer handled
 *   cons=W.K   consumer K of consumer worker W, registered (by the start
 *              list: cons@chaos.c{i}.K={i}.K) as "chaos.cW.K": counts
 *              every seq and logs every departure from per-stream order
 *
 * The ledger's comment says why the accounting is exact across SIGKILL
 * of either side. Neither type ever fails: a fault comes from outside.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airsrt/airsrt.h"
#include "tests/lib/chaos_ledger.h"

static struct chaos_ledger *L;

/* Parses "W.K" into the actor's global id; -1 when malformed. */
static int parse_id(const void *arg, size_t len, uint32_t per, uint32_t max)
{
    char text[32], *dot, *end;
    unsigned long w, k;

    if (arg == NULL || len == 0 || len >= sizeof(text))
        return -1;
    memcpy(text, arg, len);
    text[len] = '\0';
    dot = strchr(text, '.');
    if (dot == NULL)
        return -1;
    w = strtoul(text, &end, 10);
    if (end != dot)
        return -1;
    k = strtoul(dot + 1, &end, 10);
    if (*end != '\0' || k >= per || w * per + k >= max)
        return -1;
    return (int)(w * per + k);
}

/* ---- producer ---- */

struct prod {
    uint32_t id;
};

static int tick_later(struct airsrt_ctx *ctx)
{
    return airsrt_send_after(ctx, airsrt_self(ctx), NULL,
                             (uint64_t)L->tick_us * 1000u, CHAOS_T_TICK,
                             NULL, 0, NULL);
}

static void log_resume(uint32_t stream, uint64_t published, uint64_t pending)
{
    uint32_t i = atomic_fetch_add(&L->nresumes, 1);
    struct chaos_resume *r;

    if (i >= CHAOS_RESUMES_MAX)
        return;
    r = &L->resumes[i];
    r->stream = stream;
    r->published = published;
    r->pending = pending;
    atomic_store_explicit(&r->is_valid, 1, memory_order_release);
}

static int prod_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                      size_t len)
{
    struct prod *p = state;
    int id = parse_id(arg, len, L->prod_per_worker, L->nproducers);

    if (id < 0)
        return -EINVAL;
    p->id = (uint32_t)id;
    /* A predecessor killed between a send and its next tick leaves
     * (published, pending] unknown: logged, and never sent again. */
    for (uint32_t c = 0; c < L->nconsumers; c++) {
        struct chaos_stream *s = &L->streams[p->id * L->nconsumers + c];
        uint64_t pub = atomic_load(&s->published);
        uint64_t pend = atomic_load(&s->pending);

        if (pend > pub) {
            log_resume(p->id * L->nconsumers + c, pub, pend);
            atomic_store(&s->published, pend);
        }
    }
    return tick_later(ctx);
}

/* Sends the next seqs of one stream; false if the send stopped short. */
static bool send_stream(struct airsrt_ctx *ctx, uint32_t stream, uint32_t c)
{
    struct chaos_stream *s = &L->streams[stream];
    uint64_t pend = atomic_load(&s->pending);
    uint64_t high = atomic_load(&s->high);
    char name[32];

    snprintf(name, sizeof(name), "chaos.c%u.%u", c / L->cons_per_worker,
             c % L->cons_per_worker);
    for (uint32_t i = 0; i < L->batch; i++) {
        struct chaos_msg m = { .magic = CHAOS_MSG_MAGIC, .stream = stream };
        int rc;

        if (pend + 1 >= CHAOS_SEQ_MAX || pend - high >= L->window)
            return true;
        m.seq = pend + 1;
        m.check = chaos_msg_check(stream, m.seq);
        rc = airsrt_send_name(ctx, name, CHAOS_T_DATA, &m, sizeof(m));
        if (rc == AIRSRT_SENT_BACKPRESSURE) {
            /* Queued in our outbox, which would die with us unseen by
             * the ledger: the run is void, and says so. */
            atomic_fetch_add(&s->backpressure, 1);
            atomic_store(&s->pending, m.seq);
            return false;
        }
        if (rc < 0) {
            atomic_fetch_add(&s->refused, 1);
            return false;
        }
        pend = m.seq;
        atomic_store(&s->pending, pend);
    }
    return true;
}

static int prod_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    struct prod *p = state;

    if (env->type != CHAOS_T_TICK)
        return 0;
    /* This tick runs in a later poll than the last one, whose end
     * published what it sent: confirm it. */
    for (uint32_t c = 0; c < L->nconsumers; c++) {
        struct chaos_stream *s = &L->streams[p->id * L->nconsumers + c];

        atomic_store(&s->published, atomic_load(&s->pending));
    }
    if (atomic_load(&L->stop)) {
        atomic_store(&L->stopped[p->id], 1);
        return 0;
    }
    for (uint32_t c = 0; c < L->nconsumers; c++)
        send_stream(ctx, p->id * L->nconsumers + c, c);
    return tick_later(ctx);
}

static const struct airsrt_actor_type prod_type = {
    .name = "prod", .state_size = sizeof(struct prod),
    .pre_start = prod_start, .handle = prod_handle,
};

/* ---- consumer ---- */

struct cons {
    uint32_t id;
    bool has_seen[CHAOS_PRODUCERS_MAX];     /* per stream, this process */
};

static int cons_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                      size_t len)
{
    struct cons *c = state;
    int id = parse_id(arg, len, L->cons_per_worker, L->nconsumers);

    (void)ctx;
    if (id < 0)
        return -EINVAL;
    c->id = (uint32_t)id;
    return 0;
}

static void log_jump(uint32_t stream, bool is_first, uint64_t last,
                     uint64_t seq)
{
    uint32_t i = atomic_fetch_add(&L->njumps, 1);
    struct chaos_jump *j;

    if (i >= CHAOS_JUMPS_MAX)
        return;
    j = &L->jumps[i];
    j->stream = stream;
    j->is_first = is_first;
    j->last = last;
    j->seq = seq;
    atomic_store_explicit(&j->is_valid, 1, memory_order_release);
}

/* The stream of a well-formed envelope for consumer c; -1 otherwise. */
static int msg_stream(const struct cons *c, const struct airsrt_envelope *env)
{
    const struct chaos_msg *m = env->payload_len == sizeof(*m)
                                ? (const void *)env->payload : NULL;

    if (env->type != CHAOS_T_DATA || m == NULL || m->magic != CHAOS_MSG_MAGIC ||
        m->stream >= L->nproducers * L->nconsumers ||
        m->stream % L->nconsumers != c->id || m->seq == 0 ||
        m->seq >= CHAOS_SEQ_MAX || m->check != chaos_msg_check(m->stream,
                                                               m->seq))
        return -1;
    return (int)m->stream;
}

static int cons_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    struct cons *c = state;
    int stream = msg_stream(c, env);
    struct chaos_stream *s;
    uint64_t seq, last;
    uint32_t p;

    (void)ctx;
    if (stream < 0) {
        atomic_fetch_add(&L->bad_payloads, 1);
        return 0;
    }
    s = &L->streams[stream];
    p = (uint32_t)stream / L->nconsumers;
    memcpy(&seq, env->payload + offsetof(struct chaos_msg, seq), sizeof(seq));
    atomic_fetch_add(&L->counts[stream][seq], 1);
    last = atomic_load(&s->last);
    if (seq != last + 1)
        log_jump((uint32_t)stream, !c->has_seen[p], last, seq);
    c->has_seen[p] = true;
    atomic_store(&s->last, seq);
    if (seq > atomic_load(&s->high))
        atomic_store(&s->high, seq);
    atomic_fetch_add(&s->handled, 1);
    return 0;
}

static const struct airsrt_actor_type cons_type = {
    .name = "cons", .state_size = sizeof(struct cons),
    .pre_start = cons_start, .handle = cons_handle,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &prod_type, &cons_type, NULL,
    };
    const char *path = getenv(CHAOS_ENV_LEDGER);

    if (path == NULL || (L = chaos_ledger_map(path)) == NULL) {
        fprintf(stderr, "chaos_worker: no ledger (%s=%s)\n", CHAOS_ENV_LEDGER,
                path ? path : "(unset)");
        return AIRSRT_EXIT_USAGE;
    }
    return airsrt_worker_main(argc, argv, types);
}
