/*
 * tools/bench/timers.c - `airsrt-bench timers` and `airsrt-bench request`.
 *
 * timers: one worker, one actor. It sets --actors timers (default
 * 1,000,000) far in the future, to itself, at spread-out due times: they
 * stay pending for the whole run and never fire. Then, with all of them
 * pending, it sets --count more with delay 0, BATCH at a time, each
 * carrying a sequence-checked payload; each fires at the worker's next
 * poll (sift up past the whole heap, then pop from the root) and comes
 * back to the actor's handle, which checks it arrived whole and in the
 * order set, and sets the next batch when the last of one is back. The
 * figure is the time from the first of those to the last handled,
 * divided by --count: schedule + fire + delivery of one timer with a
 * million pending. Two more: the time to set the pending ones (ns per
 * set into a growing heap) and to cancel all of them at the end, in the
 * order set (ns per cancel).
 *
 * request: airsrt_request() from an actor in worker 0 to one in worker
 * 1, which answers with airsrt_reply(); the caller checks correlation
 * id and payload, keeps the time since the previous round trip, and
 * sends the next, BENCH_WARMUP + --samples times. Both workers spin when
 * idle (awake). A timeout (10 s) or a late reply fails the run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/bench/host.h"

#define TIMERS_BATCH     1000u
#define FAR_NS           3600000000000ull   /* an hour: never fires */
#define REQUEST_TIMEOUT  10000000000ull

enum { T_START = 1, T_NEAR, T_FAR, T_REQ, T_REP };
enum { V_SET_NS, V_FIRE_NS, V_CANCEL_NS };
enum { V_MEAN, V_P50, V_P99, V_P999 };

/* ---- timers ---- */

struct timers_cfg {
    uint64_t pending, count;
};

struct armer {
    struct timers_cfg cfg;
    uint64_t *ids;                  /* of the pending ones */
    uint64_t set, fired, t0;        /* of the near ones */
    uint8_t payload[BENCH_PAYLOAD_LEN];
};

static int armer_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                       size_t len)
{
    struct armer *a = state;

    (void)ctx;
    if (len != sizeof(a->cfg))
        return bench_host_fail("armer: a %zu-byte start argument", len);
    memcpy(&a->cfg, arg, sizeof(a->cfg));
    a->ids = malloc(a->cfg.pending * sizeof(*a->ids));
    if (a->ids == NULL)
        return bench_host_fail("no memory for %" PRIu64 " timer ids",
                               a->cfg.pending);
    bench_payload_init(a->payload);
    return 0;
}

static void armer_stop(struct airsrt_ctx *ctx, void *state)
{
    struct armer *a = state;

    (void)ctx;
    free(a->ids);
    a->ids = NULL;
}

/* The pending ones, due an hour on, in an order that is not the order
 * set (i * a prime, mod pending), 8 bytes each: the heap does real work. */
static int arm_far(struct airsrt_ctx *ctx, struct armer *a)
{
    uint64_t t0 = airsrt_now_ns();

    for (uint64_t i = 0; i < a->cfg.pending; i++) {
        uint64_t spread = (i * 7919u) % a->cfg.pending * 1000u;
        int rc = airsrt_send_after(ctx, airsrt_self(ctx), NULL,
                                   FAR_NS + spread, T_FAR, &i, sizeof(i),
                                   &a->ids[i]);

        if (rc < 0)
            return bench_host_fail("timer %" PRIu64 " of the pending: %s",
                                   i, airsrt_strerror(rc));
    }
    bench_host_values()[V_SET_NS] = airsrt_now_ns() - t0;
    return 0;
}

static int arm_batch(struct airsrt_ctx *ctx, struct armer *a)
{
    uint64_t end = a->set + TIMERS_BATCH;

    if (end > a->cfg.count)
        end = a->cfg.count;
    for (; a->set < end; a->set++) {
        int rc;

        bench_payload_set_seq(a->payload, a->set);
        rc = airsrt_send_after(ctx, airsrt_self(ctx), NULL, 0, T_NEAR,
                               a->payload, BENCH_PAYLOAD_LEN, NULL);
        if (rc < 0)
            return bench_host_fail("timer %" PRIu64 ": %s", a->set,
                                   airsrt_strerror(rc));
    }
    return 0;
}

static int cancel_far(struct airsrt_ctx *ctx, struct armer *a)
{
    uint64_t t0 = airsrt_now_ns();

    for (uint64_t i = 0; i < a->cfg.pending; i++) {
        int rc = airsrt_cancel_timer(ctx, a->ids[i]);

        if (rc != 0)
            return bench_host_fail("cancel of pending timer %" PRIu64
                                   ": %s", i, airsrt_strerror(rc));
    }
    bench_host_values()[V_CANCEL_NS] = airsrt_now_ns() - t0;
    bench_host_finished();
    return 0;
}

static int armer_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    struct armer *a = state;
    char why[200];
    int rc;

    if (env->type == T_START) {
        rc = arm_far(ctx, a);
        a->t0 = airsrt_now_ns();
        return rc < 0 ? rc : arm_batch(ctx, a);
    }
    if (bench_payload_check(env->type, env->payload, env->payload_len,
                            T_NEAR, a->fired, why, sizeof(why)) < 0)
        return bench_host_fail("armer: %s", why);
    if (++a->fired < a->set)
        return 0;
    if (a->set < a->cfg.count)
        return arm_batch(ctx, a);
    bench_host_values()[V_FIRE_NS] = airsrt_now_ns() - a->t0;
    return cancel_far(ctx, a);
}

static const struct airsrt_actor_type armer_type = {
    .name = "armer", .state_size = sizeof(struct armer),
    .pre_start = armer_start, .handle = armer_handle,
    .post_stop = armer_stop, .on_error = bench_host_on_error,
};

/* ---- request ---- */

struct caller_cfg {
    uint64_t count;                 /* round trips */
    struct airsrt_address peer;
};

struct caller {
    struct caller_cfg cfg;
    uint64_t seq, corr, prev_ns;
    uint64_t *samples;              /* cfg.count - BENCH_WARMUP */
    uint8_t payload[BENCH_PAYLOAD_LEN];
};

struct callee {
    uint64_t seq;
};

static int caller_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    struct caller *c = state;

    (void)ctx;
    if (len != sizeof(c->cfg))
        return bench_host_fail("caller: a %zu-byte start argument", len);
    memcpy(&c->cfg, arg, sizeof(c->cfg));
    c->samples = malloc((c->cfg.count - BENCH_WARMUP) * sizeof(uint64_t));
    if (c->samples == NULL)
        return bench_host_fail("no memory for %" PRIu64 " samples",
                               c->cfg.count - BENCH_WARMUP);
    bench_payload_init(c->payload);
    return 0;
}

static void caller_stop(struct airsrt_ctx *ctx, void *state)
{
    struct caller *c = state;

    (void)ctx;
    free(c->samples);
    c->samples = NULL;
}

static int ask(struct airsrt_ctx *ctx, struct caller *c)
{
    int rc;

    bench_payload_set_seq(c->payload, c->seq);
    rc = airsrt_request(ctx, &c->cfg.peer, NULL, T_REQ, c->payload,
                        BENCH_PAYLOAD_LEN, REQUEST_TIMEOUT, &c->corr);
    if (rc != 0)
        return bench_host_fail("request %" PRIu64 ": %s", c->seq,
                               rc < 0 ? airsrt_strerror(rc)
                                      : "backpressure with one in flight");
    return 0;
}

static void caller_done(struct caller *c)
{
    uint64_t *v = bench_host_values();
    struct bench_lat l;

    bench_host_lat(c->samples, c->cfg.count - BENCH_WARMUP, &l);
    v[V_MEAN] = (uint64_t)(l.mean + 0.5);
    v[V_P50] = (uint64_t)l.p50;
    v[V_P99] = (uint64_t)l.p99;
    v[V_P999] = (uint64_t)l.p999;
    bench_host_finished();
}

static int caller_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct caller *c = state;
    uint64_t now;
    char why[200];

    if (env->type == T_START) {
        c->prev_ns = airsrt_now_ns();
        return ask(ctx, c);
    }
    if (env->type == AIRSRT_MSG_TIMEOUT)
        return bench_host_fail("request %" PRIu64 " timed out", c->seq);
    if (c->seq == c->cfg.count || env->correlation_id != c->corr ||
        !(env->flags & AIRSRT_ENV_F_REPLY))
        return bench_host_fail("caller: a reply to no request of its own");
    if (bench_payload_check(env->type, env->payload, env->payload_len,
                            T_REP, c->seq, why, sizeof(why)) < 0)
        return bench_host_fail("caller: %s", why);
    now = airsrt_now_ns();
    if (c->seq >= BENCH_WARMUP)
        c->samples[c->seq - BENCH_WARMUP] = now - c->prev_ns;
    c->prev_ns = now;
    if (++c->seq == c->cfg.count) {
        caller_done(c);
        return 0;
    }
    return ask(ctx, c);
}

static int callee_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct callee *c = state;
    char why[200];
    int rc;

    if (!(env->flags & AIRSRT_ENV_F_REQUEST))
        return bench_host_fail("callee: not a request");
    if (bench_payload_check(env->type, env->payload, env->payload_len,
                            T_REQ, c->seq, why, sizeof(why)) < 0)
        return bench_host_fail("callee: %s", why);
    c->seq++;
    rc = airsrt_reply(ctx, T_REP, env->payload, env->payload_len);
    if (rc != 0)
        return bench_host_fail("reply %" PRIu64 ": %s", c->seq - 1,
                               rc < 0 ? airsrt_strerror(rc)
                                      : "backpressure with one in flight");
    return 0;
}

static const struct airsrt_actor_type caller_type = {
    .name = "caller", .state_size = sizeof(struct caller),
    .pre_start = caller_start, .handle = caller_handle,
    .post_stop = caller_stop, .on_error = bench_host_on_error,
};
static const struct airsrt_actor_type callee_type = {
    .name = "callee", .state_size = sizeof(struct callee),
    .handle = callee_handle, .on_error = bench_host_on_error,
};
static const struct airsrt_actor_type *const timer_types[] = {
    &armer_type, &caller_type, &callee_type, NULL };

/* ---- runs ---- */

/* What setup and kick need: the workload's actor config. */
struct timer_plan {
    bool is_request;
    struct timers_cfg timers;
    struct caller_cfg caller;
};

static int plan_setup(struct airsrt_worker *w, void *arg)
{
    const struct timer_plan *p = arg;

    if (!p->is_request)
        return bench_host_spawn(w, &armer_type, &p->timers,
                                sizeof(p->timers), 1);
    if (w->index == 1)
        return bench_host_spawn(w, &callee_type, NULL, 0, 1);
    return bench_host_spawn(w, &caller_type, &p->caller,
                            sizeof(p->caller), 1);
}

static int plan_kick(struct airsrt_worker *w, void *arg)
{
    struct airsrt_address to = bench_host_address(0, 1);

    (void)arg;
    return w->index == 0 ? bench_host_send(w, &to, T_START) : 0;
}

static void plan_host(struct bench_host_run *run, struct timer_plan *p,
                      const int *cpus)
{
    *run = (struct bench_host_run){
        .nworkers = p->is_request ? 2 : 1, .types = timer_types,
        .wopts = { .spin_ns = HOST_SPIN_AWAKE_NS },
        .setup = plan_setup, .kick = plan_kick, .arg = p, .finisher = 0,
        .cpus = cpus,
    };
}

static void timers_setup_lines(const struct bench_opts *o,
                               struct bench_report *rep, const char *pin,
                               uint64_t pending)
{
    bench_report_setup(rep, "actors", "one actor in one worker process, "
                       "setting timers to itself");
    bench_report_setup(rep, "pending", "%" PRIu64 " timers due in an hour "
                       "(8-byte payload), pending through the run", pending);
    bench_report_setup(rep, "count", "%" PRIu64 " timers set with delay 0, "
                       "%u at a time, %u-byte sequence-checked payload",
                       o->count, TIMERS_BATCH, BENCH_PAYLOAD_LEN);
    bench_report_setup(rep, "pinning", "%s", pin);
    bench_report_setup(rep, "runs", "%u per figure, fresh segment and "
                       "process each; median, min and max across runs",
                       o->runs);
}

int bench_timers_run(const struct bench_opts *o, struct bench_report *rep)
{
    double set[BENCH_MAX_RUNS], fire[BENCH_MAX_RUNS], cancel[BENCH_MAX_RUNS];
    struct timer_plan p = { .timers = { .pending = o->actors[0],
                                        .count = o->count } };
    struct bench_host_run run;
    char pin[160];
    int cpus[1], rc;

    bench_pick_cpus(o, cpus, 1, pin, sizeof(pin));
    timers_setup_lines(o, rep, pin, p.timers.pending);
    fflush(stdout);
    plan_host(&run, &p, cpus);
    for (uint32_t i = 0; i < o->runs; i++) {
        rc = bench_host_run(&run);
        if (rc < 0)
            return rc;
        set[i] = (double)run.values[0][V_SET_NS] / (double)p.timers.pending;
        fire[i] = (double)run.values[0][V_FIRE_NS] / (double)o->count;
        cancel[i] = (double)run.values[0][V_CANCEL_NS] /
                    (double)p.timers.pending;
    }
    bench_report_section(rep, "with the pending timers in the heap, ns per "
                         "timer");
    bench_report_row(rep, "schedule_fire", "set + fire + handle, delay 0",
                     "ns", 0, fire, o->runs, NULL);
    bench_report_row(rep, "set", "set of a pending one, heap growing",
                     "ns", 0, set, o->runs, NULL);
    bench_report_row(rep, "cancel", "cancel of a pending one", "ns", 0,
                     cancel, o->runs, NULL);
    return 0;
}

int bench_request_run(const struct bench_opts *o, struct bench_report *rep)
{
    static const char *const names[] = { "mean", "p50", "p99", "p99.9" };
    struct timer_plan p = { .is_request = true,
        .caller = { .count = BENCH_WARMUP + o->samples,
                    .peer = bench_host_address(1, 1) } };
    double v[4][BENCH_MAX_RUNS];
    struct bench_host_run run;
    char pin[160], key[32];
    int cpus[2], rc;

    bench_pick_cpus(o, cpus, 2, pin, sizeof(pin));
    bench_report_setup(rep, "actors", "caller in worker 0, callee in "
                       "worker 1, one process each, both awake (spinning)");
    bench_report_setup(rep, "request", "airsrt_request, %u-byte "
                       "sequence-checked payload, timeout %llu s; answered "
                       "with airsrt_reply", BENCH_PAYLOAD_LEN,
                       REQUEST_TIMEOUT / 1000000000ull);
    bench_report_setup(rep, "pinning", "%s", pin);
    bench_report_setup(rep, "samples", "%" PRIu64 " round trips per run, "
                       "after %u warm-up; %u runs", o->samples,
                       BENCH_WARMUP, o->runs);
    fflush(stdout);
    plan_host(&run, &p, cpus);
    for (uint32_t i = 0; i < o->runs; i++) {
        rc = bench_host_run(&run);
        if (rc < 0)
            return rc;
        for (int k = 0; k < 4; k++)
            v[k][i] = (double)run.values[0][V_MEAN + k] / 1000.0;
    }
    bench_report_section(rep, "round trip, request -> reply across two "
                         "workers, us");
    for (int k = 0; k < 4; k++) {
        snprintf(key, sizeof(key), "latency.%s", names[k]);
        bench_report_row(rep, key, names[k], "us", 2, v[k], o->runs, NULL);
    }
    return 0;
}
