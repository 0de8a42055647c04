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

static int prod_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                      size_t len)
{
    struct prod *p = state;
    int id = chaos_parse_id(arg, len, L->prod_per_worker, L->nproducers);

    if (id < 0)
        return -EINVAL;
    p->id = (uint32_t)id;
    /* A predecessor killed between a send and its next tick leaves
     * (published, pending] unknown: logged, and never sent again. */
    for (uint32_t c = 0; c < L->nconsumers; c++) {
        uint32_t stream = chaos_stream_of(L, p->id, c);
        struct chaos_stream *s = &L->streams[stream];
        uint64_t pub = atomic_load(&s->published);
        uint64_t pend = atomic_load(&s->pending);

        if (pend > pub) {
            chaos_log_resume(L, stream, pub, pend);
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
        struct chaos_stream *s = &L->streams[chaos_stream_of(L, p->id, c)];

        atomic_store(&s->published, atomic_load(&s->pending));
    }
    if (atomic_load(&L->stop)) {
        atomic_store(&L->stopped[p->id], 1);
        return 0;
    }
    for (uint32_t c = 0; c < L->nconsumers; c++)
        send_stream(ctx, chaos_stream_of(L, p->id, c), c);
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
    int id = chaos_parse_id(arg, len, L->cons_per_worker, L->nconsumers);

    (void)ctx;
    if (id < 0)
        return -EINVAL;
    c->id = (uint32_t)id;
    return 0;
}

static int cons_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    struct cons *c = state;
    uint64_t seq;
    int stream = chaos_msg_stream(L, c->id, env, &seq);
    uint32_t p;

    (void)ctx;
    if (stream < 0) {
        atomic_fetch_add(&L->bad_payloads, 1);
        return 0;
    }
    p = (uint32_t)stream / L->nconsumers;
    chaos_record(L, (uint32_t)stream, seq, !c->has_seen[p]);
    c->has_seen[p] = true;
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
