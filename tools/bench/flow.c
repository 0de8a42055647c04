/*
 * tools/bench/flow.c - `airsrt-bench local` and `airsrt-bench cross`: two
 * actors exchanging envelopes through the public API, in one worker
 * (local) or in two worker processes (cross: send -> ring -> receiving
 * worker -> mailbox -> handle). The same actor types serve both; only
 * where they are spawned differs.
 *
 * One-way: a producer sends --batch envelopes per turn to a consumer,
 * which checks every payload's sequence number. The clock starts when the
 * producer handles its start envelope and stops when the consumer has
 * handled the last one.
 *
 * Between batches the producer sends a tick to a clock actor in its
 * worker, which sends it back, as examples/backpressure.c does: a tick to
 * itself would be handled in the same turn (a turn goes on while the
 * actor has mail), so the consumer would not run between batches and a
 * local mailbox, which never reports backpressure, would grow to nearly
 * the whole count. Through the clock, a tick comes back after every actor
 * with mail had its turn. The producer respects backpressure:
 * AIRSRT_SENT_BACKPRESSURE (queued behind a full ring) ends its batch,
 * and so does -EAGAIN (not queued; that envelope is sent again next
 * turn).
 *
 * When all is sent the producer goes on ticking until the consumer says
 * it has everything (an envelope back), then says FINISHED. So its worker
 * keeps polling, and flushing its outbox, while envelopes still wait
 * there: an idle worker retries a backed-up outbox only after its spin
 * time, which for an awake worker is the whole run. When FINISHED comes,
 * nothing is in flight any more, so the shutdown makes no dead letter.
 *
 * Round trip: a pinger sends a ping, a ponger replies with the same
 * payload, BENCH_WARMUP + --samples times; the pinger reads the clock
 * once per round trip and keeps the time since the previous one. Both
 * sides check every payload. The workers spin when idle (awake).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/bench/host.h"

#define TARGET_LOCAL_MPS  30.0
#define TARGET_CROSS_MPS  20.0
#define TARGET_CROSS_P50  1000.0

/* Message types. */
enum { T_START = 1, T_TICK, T_DATA, T_PING, T_PONG, T_DRAINED };

/* Values of the workers' DONE. */
enum { V_T0, V_T_END, V_BACKPRESSURE, V_EAGAIN, V_MEAN, V_P50, V_P99,
       V_P999 };

/* Spawn argument of the producer, the consumer and the pinger. */
struct sender_cfg {
    uint64_t count;                 /* envelopes, or round trips */
    uint32_t batch;
    uint32_t reserved;
    struct airsrt_address peer;     /* the consumer, or the ponger */
    struct airsrt_address clock;    /* the producer's clock */
};

struct producer {
    struct sender_cfg cfg;
    uint64_t seq;                   /* next to send */
    bool is_drained;                /* the consumer has them all */
    uint8_t payload[BENCH_PAYLOAD_LEN];
};

struct consumer {
    struct sender_cfg cfg;
    uint64_t seq;
};

struct pinger {
    struct sender_cfg cfg;
    uint64_t seq, prev_ns;
    uint64_t *samples;              /* cfg.count - BENCH_WARMUP */
    uint8_t payload[BENCH_PAYLOAD_LEN];
};

struct ponger {
    uint64_t seq;
};

/* ---- one-way ---- */

static int producer_start(struct airsrt_ctx *ctx, void *state,
                          const void *arg, size_t len)
{
    struct producer *p = state;

    (void)ctx;
    if (len != sizeof(p->cfg))
        return -EINVAL;
    memcpy(&p->cfg, arg, sizeof(p->cfg));
    bench_payload_init(p->payload);
    return 0;
}

/* Up to one batch; stops at backpressure. */
static int produce(struct airsrt_ctx *ctx, struct producer *p)
{
    uint64_t *v = bench_host_values();
    uint64_t end = p->seq + p->cfg.batch;
    int rc;

    if (end > p->cfg.count)
        end = p->cfg.count;
    while (p->seq < end) {
        bench_payload_set_seq(p->payload, p->seq);
        rc = airsrt_send(ctx, &p->cfg.peer, T_DATA, p->payload,
                         BENCH_PAYLOAD_LEN);
        if (rc == 0) {
            p->seq++;
            continue;
        }
        if (rc == AIRSRT_SENT_BACKPRESSURE) {
            p->seq++;           /* queued: it will be delivered in order */
            v[V_BACKPRESSURE]++;
            return 0;
        }
        if (rc == -EAGAIN) {
            v[V_EAGAIN]++;      /* not queued: again next turn */
            return 0;
        }
        return bench_host_fail("send of envelope %" PRIu64 ": %s", p->seq,
                               airsrt_strerror(rc));
    }
    return 0;
}

static int producer_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    struct producer *p = state;
    int rc;

    switch (env->type) {
    case T_START:
        bench_host_values()[V_T0] = airsrt_now_ns();
        break;
    case T_DRAINED:
        p->is_drained = true;
        return 0;               /* a tick is out: it ends the run */
    case T_TICK:
        if (!p->is_drained)
            break;
        bench_host_finished();
        return 0;
    default:
        return bench_host_fail("producer got type %#x", env->type);
    }
    rc = produce(ctx, p);
    if (rc < 0)
        return rc;
    rc = airsrt_send(ctx, &p->cfg.clock, T_TICK, NULL, 0);
    return rc < 0 ? bench_host_fail("tick: %s", airsrt_strerror(rc)) : 0;
}

static int consumer_start(struct airsrt_ctx *ctx, void *state,
                          const void *arg, size_t len)
{
    struct consumer *c = state;

    (void)ctx;
    if (len != sizeof(c->cfg))
        return -EINVAL;
    memcpy(&c->cfg, arg, sizeof(c->cfg));
    return 0;
}

static int consumer_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    struct consumer *c = state;
    char why[200];
    int rc;

    if (c->seq == c->cfg.count)
        return bench_host_fail("consumer got envelope %" PRIu64 " of %"
                               PRIu64, c->seq + 1, c->cfg.count);
    if (bench_payload_check(env->type, env->payload, env->payload_len,
                            T_DATA, c->seq, why, sizeof(why)) < 0)
        return bench_host_fail("consumer: %s", why);
    if (++c->seq < c->cfg.count)
        return 0;
    bench_host_values()[V_T_END] = airsrt_now_ns();
    rc = airsrt_send(ctx, &env->sender, T_DRAINED, NULL, 0);
    return rc < 0 ? bench_host_fail("drained: %s", airsrt_strerror(rc)) : 0;
}

/* Sends every tick back to whoever sent it. */
static int clock_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    int rc;

    (void)state;
    if (env->type != T_TICK)
        return bench_host_fail("clock got type %#x", env->type);
    rc = airsrt_reply(ctx, T_TICK, NULL, 0);
    return rc < 0 ? bench_host_fail("clock: %s", airsrt_strerror(rc)) : 0;
}

/* ---- round trip ---- */

static int pinger_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    struct pinger *p = state;

    (void)ctx;
    if (len != sizeof(p->cfg))
        return -EINVAL;
    memcpy(&p->cfg, arg, sizeof(p->cfg));
    p->samples = malloc((p->cfg.count - BENCH_WARMUP) * sizeof(uint64_t));
    if (p->samples == NULL)
        return -ENOMEM;
    bench_payload_init(p->payload);
    return 0;
}

static void pinger_stop(struct airsrt_ctx *ctx, void *state)
{
    struct pinger *p = state;

    (void)ctx;
    free(p->samples);
    p->samples = NULL;
}

static int ping(struct airsrt_ctx *ctx, struct pinger *p)
{
    int rc;

    bench_payload_set_seq(p->payload, p->seq);
    rc = airsrt_send(ctx, &p->cfg.peer, T_PING, p->payload,
                     BENCH_PAYLOAD_LEN);
    if (rc != 0)
        return bench_host_fail("ping %" PRIu64 ": %s", p->seq,
                               rc < 0 ? airsrt_strerror(rc)
                                      : "backpressure with one in flight");
    return 0;
}

/* The last round trip came back: the figures, then FINISHED. */
static void pinger_done(struct pinger *p)
{
    uint64_t *v = bench_host_values();
    struct bench_lat l;

    bench_host_lat(p->samples, p->cfg.count - BENCH_WARMUP, &l);
    v[V_MEAN] = (uint64_t)(l.mean + 0.5);
    v[V_P50] = (uint64_t)l.p50;
    v[V_P99] = (uint64_t)l.p99;
    v[V_P999] = (uint64_t)l.p999;
    bench_host_finished();
}

static int pinger_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct pinger *p = state;
    uint64_t now;
    char why[200];

    if (env->type == T_START) {
        p->prev_ns = airsrt_now_ns();
        return ping(ctx, p);
    }
    if (p->seq == p->cfg.count)
        return bench_host_fail("pinger got a pong after the last");
    if (bench_payload_check(env->type, env->payload, env->payload_len,
                            T_PONG, p->seq, why, sizeof(why)) < 0)
        return bench_host_fail("pinger: %s", why);
    now = airsrt_now_ns();
    if (p->seq >= BENCH_WARMUP)
        p->samples[p->seq - BENCH_WARMUP] = now - p->prev_ns;
    p->prev_ns = now;
    if (++p->seq == p->cfg.count) {
        pinger_done(p);
        return 0;
    }
    return ping(ctx, p);
}

static int ponger_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct ponger *p = state;
    char why[200];
    int rc;

    if (bench_payload_check(env->type, env->payload, env->payload_len,
                            T_PING, p->seq, why, sizeof(why)) < 0)
        return bench_host_fail("ponger: %s", why);
    p->seq++;
    rc = airsrt_reply(ctx, T_PONG, env->payload, env->payload_len);
    if (rc != 0)
        return bench_host_fail("pong %" PRIu64 ": %s", p->seq - 1,
                               rc < 0 ? airsrt_strerror(rc)
                                      : "backpressure with one in flight");
    return 0;
}

static const struct airsrt_actor_type producer_type = {
    .name = "producer", .state_size = sizeof(struct producer),
    .pre_start = producer_start, .handle = producer_handle,
    .on_error = bench_host_on_error,
};
static const struct airsrt_actor_type consumer_type = {
    .name = "consumer", .state_size = sizeof(struct consumer),
    .pre_start = consumer_start, .handle = consumer_handle,
    .on_error = bench_host_on_error,
};
static const struct airsrt_actor_type clock_type = {
    .name = "clock", .handle = clock_handle, .on_error = bench_host_on_error,
};
static const struct airsrt_actor_type pinger_type = {
    .name = "pinger", .state_size = sizeof(struct pinger),
    .pre_start = pinger_start, .handle = pinger_handle,
    .post_stop = pinger_stop, .on_error = bench_host_on_error,
};
static const struct airsrt_actor_type ponger_type = {
    .name = "ponger", .state_size = sizeof(struct ponger),
    .handle = ponger_handle, .on_error = bench_host_on_error,
};
static const struct airsrt_actor_type *const flow_types[] = {
    &producer_type, &consumer_type, &clock_type, &pinger_type,
    &ponger_type, NULL };

/* ---- placement and runs ---- */

/*
 * Where the actors live. The receiver is spawned first in its worker, so
 * it is slot 1 there; the sender is worker 0's next slot, and the
 * producer's clock the one after it.
 */
struct flow {
    bool is_cross;
    bool is_latency;
    struct sender_cfg cfg;          /* peer filled by flow_init */
    uint32_t sender_w, receiver_w;
    uint32_t sender_slot;
};

static void flow_init(struct flow *f, bool is_cross, bool is_latency,
                      uint64_t count, uint32_t batch)
{
    f->is_cross = is_cross;
    f->is_latency = is_latency;
    f->sender_w = 0;
    f->receiver_w = is_cross ? 1 : 0;
    f->sender_slot = is_cross ? 1 : 2;
    f->cfg = (struct sender_cfg){ .count = count, .batch = batch,
        .peer = bench_host_address(f->receiver_w, 1),
        .clock = bench_host_address(f->sender_w, f->sender_slot + 1) };
}

static int flow_setup(struct airsrt_worker *w, void *arg)
{
    const struct flow *f = arg;
    int rc = 0;

    if (w->index == f->receiver_w)
        rc = f->is_latency
                 ? bench_host_spawn(w, &ponger_type, NULL, 0, 1)
                 : bench_host_spawn(w, &consumer_type, &f->cfg,
                                    sizeof(f->cfg), 1);
    if (rc == 0 && w->index == f->sender_w)
        rc = bench_host_spawn(w, f->is_latency ? &pinger_type
                                               : &producer_type,
                              &f->cfg, sizeof(f->cfg), f->sender_slot);
    if (rc == 0 && w->index == f->sender_w && !f->is_latency)
        rc = bench_host_spawn(w, &clock_type, NULL, 0, f->sender_slot + 1);
    return rc;
}

static int flow_kick(struct airsrt_worker *w, void *arg)
{
    const struct flow *f = arg;
    struct airsrt_address to = bench_host_address(f->sender_w,
                                                  f->sender_slot);

    return w->index == f->sender_w ? bench_host_send(w, &to, T_START) : 0;
}

static void flow_host(struct bench_host_run *run, struct flow *f,
                      const struct bench_opts *o, const int *cpus)
{
    *run = (struct bench_host_run){
        .nworkers = f->is_cross ? 2 : 1,
        .ring_bytes = o->ring_bytes, .types = flow_types,
        .wopts = { .spin_ns = HOST_SPIN_AWAKE_NS,
                   .turn_budget = o->batch > AIRSRT_TURN_BUDGET_DEFAULT
                                      ? o->batch
                                      : AIRSRT_TURN_BUDGET_DEFAULT },
        .setup = flow_setup, .kick = flow_kick, .arg = f,
        .finisher = f->sender_w,
        .cpus = cpus,
    };
}

struct tput_runs {
    double mps[BENCH_MAX_RUNS], bp[BENCH_MAX_RUNS], eagain[BENCH_MAX_RUNS];
};

static int tput_runs(const struct bench_opts *o, bool is_cross,
                     const int *cpus, struct tput_runs *r)
{
    struct bench_host_run run;
    struct flow f;
    const uint64_t *sv, *rv;
    int rc;

    flow_init(&f, is_cross, false, o->count, o->batch);
    flow_host(&run, &f, o, cpus);
    for (uint32_t i = 0; i < o->runs; i++) {
        rc = bench_host_run(&run);
        if (rc < 0)
            return rc;
        sv = run.values[f.sender_w];
        rv = run.values[f.receiver_w];
        r->mps[i] = (double)o->count * 1e3 / (double)(rv[V_T_END] -
                                                      sv[V_T0]);
        r->bp[i] = (double)sv[V_BACKPRESSURE] * 1e3 / (double)o->count;
        r->eagain[i] = (double)sv[V_EAGAIN] * 1e3 / (double)o->count;
    }
    return 0;
}

static int tput_figures(const struct bench_opts *o, struct bench_report *rep,
                        bool is_cross, const int *cpus)
{
    static const struct bench_target t_local = { ">=", TARGET_LOCAL_MPS };
    static const struct bench_target t_cross = { ">=", TARGET_CROSS_MPS };
    struct tput_runs *r = malloc(sizeof(*r));
    char label[64];
    int rc;

    if (r == NULL)
        return bench_fail_errno("cannot allocate run figures");
    rc = tput_runs(o, is_cross, cpus, r);
    if (rc == 0) {
        bench_report_section(rep, is_cross
            ? "one-way, worker 0 -> worker 1, M envelopes/s"
            : "one-way, producer -> consumer, M envelopes/s");
        snprintf(label, sizeof(label), "batch of %u per turn", o->batch);
        bench_report_row(rep, "throughput", label, "M envelopes/s", 2,
                         r->mps, o->runs, is_cross ? &t_cross : &t_local);
    }
    if (rc == 0 && is_cross) {
        bench_report_row(rep, "throughput.backpressure_per_1k",
                         "sends answered BACKPRESSURE, per 1k", "per 1k", 2,
                         r->bp, o->runs, NULL);
        bench_report_row(rep, "throughput.eagain_per_1k",
                         "sends refused with -EAGAIN, per 1k", "per 1k", 2,
                         r->eagain, o->runs, NULL);
    }
    free(r);
    return rc;
}

static int lat_figures(const struct bench_opts *o, struct bench_report *rep,
                       bool is_cross, const int *cpus)
{
    static const struct bench_target t_p50 = { "<=", TARGET_CROSS_P50 };
    static const char *const names[] = { "mean", "p50", "p99", "p99.9" };
    double v[4][BENCH_MAX_RUNS];
    struct bench_host_run run;
    struct flow f;
    char key[32];
    int rc;

    flow_init(&f, is_cross, true, BENCH_WARMUP + o->samples, 1);
    flow_host(&run, &f, o, cpus);
    for (uint32_t i = 0; i < o->runs; i++) {
        rc = bench_host_run(&run);
        if (rc < 0)
            return rc;
        for (int k = 0; k < 4; k++)
            v[k][i] = (double)run.values[f.sender_w][V_MEAN + k];
    }
    bench_report_section(rep, is_cross
        ? "round trip, both workers awake (spinning), ns"
        : "round trip, pinger <-> ponger, ns");
    for (int k = 0; k < 4; k++) {
        snprintf(key, sizeof(key), "latency.%s", names[k]);
        bench_report_row(rep, key, names[k], "ns", 0, v[k], o->runs,
                         is_cross && k == 1 ? &t_p50 : NULL);
    }
    return 0;
}

static int flow_run(const struct bench_opts *o, struct bench_report *rep,
                    bool is_cross)
{
    int cpus[2];
    char pin[160];
    int rc;

    bench_pick_cpus(o, cpus, is_cross ? 2 : 1, pin, sizeof(pin));
    bench_report_setup(rep, "actors", is_cross
                       ? "producer (or pinger) in worker 0, consumer (or "
                         "ponger) in worker 1, one process each"
                       : "producer and consumer (or pinger and ponger) in "
                         "one worker process");
    bench_report_setup(rep, "envelope", "%u-byte payload, sequence-checked "
                       "by the receiver", BENCH_PAYLOAD_LEN);
    if (is_cross)
        bench_report_setup(rep, "ring", "%u bytes per data ring (%u KiB)",
                           o->ring_bytes, o->ring_bytes >> 10);
    bench_report_setup(rep, "workers", "awake: spin %llu ms before "
                       "sleeping; turn budget %u",
                       HOST_SPIN_AWAKE_NS / 1000000ull,
                       o->batch > AIRSRT_TURN_BUDGET_DEFAULT
                           ? o->batch : AIRSRT_TURN_BUDGET_DEFAULT);
    bench_report_setup(rep, "pinning", "%s", pin);
    bench_report_setup(rep, "runs", "%u per figure, fresh segment and "
                       "processes each; median, min and max across runs",
                       o->runs);
    bench_report_setup(rep, "count", "%" PRIu64 " envelopes per one-way "
                       "run, %u per producer turn", o->count, o->batch);
    bench_report_setup(rep, "pacing", "a tick through a clock actor between "
                       "batches; a batch ends early on BACKPRESSURE or "
                       "-EAGAIN");
    bench_report_setup(rep, "samples", "%" PRIu64 " round trips per "
                       "latency run, after %u warm-up", o->samples,
                       BENCH_WARMUP);
    fflush(stdout);
    rc = tput_figures(o, rep, is_cross, cpus);
    if (rc == 0)
        rc = lat_figures(o, rep, is_cross, cpus);
    return rc;
}

int bench_local_run(const struct bench_opts *o, struct bench_report *rep)
{
    return flow_run(o, rep, false);
}

int bench_cross_run(const struct bench_opts *o, struct bench_report *rep)
{
    return flow_run(o, rep, true);
}
