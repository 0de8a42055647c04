/*
 * tools/bench/fanout.c - `airsrt-bench fanout`: a publisher and N
 * subscribers of one topic spread over W worker processes, for each N of
 * --actors. Two figures: how long one publish takes to reach its last
 * subscriber (one publish at a time), and how many copies reach
 * subscribers per second when the publisher keeps a window of publishes
 * in flight.
 *
 * Placement: the publisher is actor 1 of worker 0; the subscribers are
 * split evenly over the W workers (worker 0 included), so each publish
 * crosses W - 1 rings once and is fanned out inside every worker.
 *
 * Measuring: every publish carries its sequence number at both ends of
 * its payload, and every subscriber checks that it gets each number once
 * and in order. In each worker the subscriber that completes a number
 * (the last of that worker to get it) sends the publisher an ack with
 * the time it got it (CLOCK_MONOTONIC is one clock for every process);
 * a number is done once every worker has acked it, and its latency is the
 * latest of those times minus the time just before the publish. So the
 * latency includes the local fan-out, the ring, the remote fan-out and
 * every subscriber's handle, but not the ack's way back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/bench/host.h"

#define TOPIC   "bench.fanout"
/* Publishes in flight in the throughput phase; also the size of the
 * per-number counters, which a number reuses only once it is done. */
#define WINDOW  32u
#define WARMUP  100u

enum { T_START = 1, T_NEWS, T_ACK };
enum { V_P50, V_P99, V_T0, V_T_END, V_COUNT };

struct fanout_plan {
    uint32_t workers;
    uint32_t count[BENCH_MAX_WORKERS];  /* subscribers per worker */
    uint64_t samples, warmup;       /* latency phase publishes */
    uint64_t publishes;             /* throughput phase */
};

/* What an ack says: number seq was had by every subscriber of worker
 * at t_ns. */
struct fanout_ack {
    uint64_t seq;
    uint64_t t_ns;
    uint32_t worker;
    uint32_t reserved;
};

/* The plan of the running child: forked after it was written. */
static const struct fanout_plan *g_plan;
/* In each worker: how many of its subscribers have number k, at
 * k % WINDOW. */
static uint32_t g_got[WINDOW];

/* ---- subscribers ---- */

struct sub_state {
    uint64_t next;          /* the number it expects */
};

static int sub_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                     size_t len)
{
    int rc = airsrt_subscribe(ctx, TOPIC);

    (void)state;
    (void)arg;
    (void)len;
    return rc < 0 ? bench_host_fail("subscribe: %s", airsrt_strerror(rc))
                  : 0;
}

/* The last subscriber of this worker to get seq tells the publisher. */
static int sub_count(struct airsrt_ctx *ctx, uint64_t seq)
{
    uint32_t w = airsrt_worker_index(ctx);
    struct airsrt_address pub = bench_host_address(0, 1);
    struct fanout_ack ack = { .seq = seq, .worker = w };
    int rc;

    if (++g_got[seq % WINDOW] < g_plan->count[w])
        return 0;
    g_got[seq % WINDOW] = 0;
    ack.t_ns = airsrt_now_ns();
    rc = airsrt_send(ctx, &pub, T_ACK, &ack, sizeof(ack));
    return rc < 0 ? bench_host_fail("ack %" PRIu64 ": %s", seq,
                                    airsrt_strerror(rc))
                  : 0;
}

static int sub_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env)
{
    struct sub_state *s = state;
    char why[200];

    if (bench_payload_check(env->type, env->payload, env->payload_len,
                            T_NEWS, s->next, why, sizeof(why)) < 0)
        return bench_host_fail("subscriber %u.%u: %s",
                               airsrt_worker_index(ctx),
                               airsrt_self(ctx)->slot, why);
    if (airsrt_topic_of(env) == 0)
        return bench_host_fail("an envelope without its topic");
    return sub_count(ctx, s->next++);
}

/* ---- the publisher ---- */

struct pub_state {
    uint64_t next;                  /* number published next */
    uint64_t done;                  /* numbers done, all below it */
    uint64_t *lat;                  /* samples, ns */
    uint64_t t_pub[WINDOW];         /* by number % WINDOW */
    uint64_t t_last[WINDOW];        /* latest ack time */
    uint32_t acks[WINDOW];          /* workers that acked it */
    uint8_t payload[BENCH_PAYLOAD_LEN];
};

static int pub_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                     size_t len)
{
    struct pub_state *p = state;

    (void)ctx;
    (void)arg;
    (void)len;
    p->lat = malloc(g_plan->samples * sizeof(*p->lat));
    if (p->lat == NULL)
        return bench_host_fail("no memory for %" PRIu64 " samples",
                               g_plan->samples);
    bench_payload_init(p->payload);
    return 0;
}

static void pub_stop(struct airsrt_ctx *ctx, void *state)
{
    struct pub_state *p = state;

    (void)ctx;
    free(p->lat);
}

static int publish_next(struct airsrt_ctx *ctx, struct pub_state *p)
{
    int rc;

    bench_payload_set_seq(p->payload, p->next);
    p->t_pub[p->next % WINDOW] = airsrt_now_ns();
    rc = airsrt_publish(ctx, TOPIC, T_NEWS, p->payload, BENCH_PAYLOAD_LEN);
    if (rc != (int)g_plan->workers)
        return bench_host_fail("publish %" PRIu64 " reached %d workers, "
                               "not %u", p->next, rc, g_plan->workers);
    p->next++;
    return 0;
}

/* The latency phase is over: its percentiles go with DONE. */
static void latency_summary(struct pub_state *p)
{
    uint64_t *v = bench_host_values();
    struct bench_lat l;

    bench_host_lat(p->lat, g_plan->samples, &l);
    v[V_P50] = (uint64_t)l.p50;
    v[V_P99] = (uint64_t)l.p99;
}

/* Number p->done is done: record it, then publish what may go next:
 * one at a time while measuring latency, then a window of them. */
static int pub_done(struct airsrt_ctx *ctx, struct pub_state *p)
{
    uint64_t k = p->done++, *v = bench_host_values();
    uint64_t lat_end = g_plan->warmup + g_plan->samples;
    uint64_t end = lat_end + g_plan->publishes;
    uint64_t t_last = p->t_last[k % WINDOW];
    int rc = 0;

    if (k >= g_plan->warmup && k < lat_end)
        p->lat[k - g_plan->warmup] = t_last - p->t_pub[k % WINDOW];
    p->acks[k % WINDOW] = 0;
    p->t_last[k % WINDOW] = 0;
    if (p->done == lat_end) {
        latency_summary(p);
        v[V_T0] = airsrt_now_ns();
    }
    if (p->done == end) {
        v[V_T_END] = t_last;
        bench_host_finished();
        return 0;
    }
    if (p->done < lat_end)
        return publish_next(ctx, p);
    while (rc == 0 && p->next < end && p->next - p->done < WINDOW)
        rc = publish_next(ctx, p);
    return rc;
}

static int pub_ack(struct airsrt_ctx *ctx, struct pub_state *p,
                   const struct airsrt_envelope *env)
{
    struct fanout_ack a;
    uint32_t i;
    int rc = 0;

    if (env->payload_len != sizeof(a))
        return bench_host_fail("a short ack");
    memcpy(&a, env->payload, sizeof(a));
    if (a.seq < p->done || a.seq >= p->next || a.worker >= g_plan->workers)
        return bench_host_fail("ack of %" PRIu64 ", not in flight", a.seq);
    i = (uint32_t)(a.seq % WINDOW);
    if (a.t_ns > p->t_last[i])
        p->t_last[i] = a.t_ns;
    p->acks[i]++;
    /* Each worker acks in order, but two workers' acks interleave: a
     * number is done when all have acked it and all before it are. */
    while (rc == 0 && p->done < p->next &&
           p->acks[p->done % WINDOW] == g_plan->workers)
        rc = pub_done(ctx, p);
    return rc;
}

static int pub_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env)
{
    struct pub_state *p = state;

    if (env->type == T_START)
        return publish_next(ctx, p);
    if (env->type == T_ACK)
        return pub_ack(ctx, p, env);
    return bench_host_fail("the publisher got type %u", env->type);
}

static const struct airsrt_actor_type sub_type = {
    .name = "subscriber", .state_size = sizeof(struct sub_state),
    .pre_start = sub_start, .handle = sub_handle,
    .on_error = bench_host_on_error,
};
static const struct airsrt_actor_type pub_type = {
    .name = "publisher", .state_size = sizeof(struct pub_state),
    .pre_start = pub_start, .handle = pub_handle, .post_stop = pub_stop,
    .on_error = bench_host_on_error,
};
static const struct airsrt_actor_type *const fanout_types[] = {
    &pub_type, &sub_type, NULL };

/* ---- the runs ---- */

static int fanout_setup(struct airsrt_worker *w, void *arg)
{
    const struct fanout_plan *p = arg;
    uint32_t slot = 1;
    int rc = 0;

    g_plan = p;
    if (w->index == 0)
        rc = bench_host_spawn(w, &pub_type, NULL, 0, slot++);
    for (uint32_t i = 0; rc == 0 && i < p->count[w->index]; i++)
        rc = bench_host_spawn(w, &sub_type, NULL, 0, slot++);
    return rc;
}

static int fanout_kick(struct airsrt_worker *w, void *arg)
{
    struct airsrt_address pub = bench_host_address(0, 1);

    (void)arg;
    return w->index == 0 ? bench_host_send(w, &pub, T_START) : 0;
}

/* Publishes not recorded before the latency samples: WARMUP, or a
 * tenth of the samples when they are few. */
static uint64_t warmup_of(uint64_t samples)
{
    return samples < WARMUP * 10 ? samples / 10 : WARMUP;
}

static void plan_make(struct fanout_plan *p, const struct bench_opts *o,
                      uint64_t n)
{
    memset(p, 0, sizeof(*p));
    p->workers = o->workers;
    for (uint32_t w = 0; w < o->workers; w++)
        p->count[w] = (uint32_t)(n / o->workers + (w < n % o->workers));
    p->samples = o->samples;
    p->warmup = warmup_of(o->samples);
    p->publishes = o->count;
}

static int fanout_figure(const struct bench_opts *o, struct bench_report *rep,
                         uint64_t n, const int *cpus)
{
    static struct fanout_plan plan;
    struct bench_host_run run = {
        .nworkers = o->workers, .ring_bytes = o->ring_bytes,
        .types = fanout_types,
        .wopts = { .spin_ns = bench_host_spin_ns(o->workers) },
        .setup = fanout_setup, .kick = fanout_kick, .arg = &plan,
        .finisher = 0, .cpus = cpus,
    };
    double p50[BENCH_MAX_RUNS], p99[BENCH_MAX_RUNS], rate[BENCH_MAX_RUNS];
    char key[48], label[128];
    int rc;

    plan_make(&plan, o, n);
    run.actors_max = plan.count[0] + 1;
    for (uint32_t i = 0; i < o->runs; i++) {
        const uint64_t *v = run.values[0];

        rc = bench_host_run(&run);
        if (rc < 0)
            return rc;
        p50[i] = (double)v[V_P50] / 1000.0;
        p99[i] = (double)v[V_P99] / 1000.0;
        rate[i] = (double)(plan.publishes * n) * 1e9 /
                  (double)(v[V_T_END] - v[V_T0]);
    }
    snprintf(label, sizeof(label), "N=%" PRIu64 ": publish to last "
             "subscriber, p50", n);
    snprintf(key, sizeof(key), "latency_p50.n%" PRIu64, n);
    bench_report_row(rep, key, label, "us", 1, p50, o->runs, NULL);
    snprintf(label, sizeof(label), "N=%" PRIu64 ": publish to last "
             "subscriber, p99", n);
    snprintf(key, sizeof(key), "latency_p99.n%" PRIu64, n);
    bench_report_row(rep, key, label, "us", 1, p99, o->runs, NULL);
    snprintf(label, sizeof(label), "N=%" PRIu64 ": copies delivered, %u "
             "publishes in flight", n, WINDOW);
    snprintf(key, sizeof(key), "delivered.n%" PRIu64, n);
    bench_report_row(rep, key, label, "msg/s", 0, rate, o->runs, NULL);
    return 0;
}

int bench_fanout_run(const struct bench_opts *o, struct bench_report *rep)
{
    int cpus[BENCH_MAX_WORKERS];
    char pin[1024];
    int rc = 0;

    bench_pick_cpus(o, cpus, o->workers, pin, sizeof(pin));
    bench_report_setup(rep, "workers", "%u, one process each; the "
                       "publisher in worker 0, the subscribers split "
                       "evenly over all of them", o->workers);
    bench_report_setup(rep, "topic", "one; each publish crosses %u "
                       "ring(s) once and is fanned out in every worker",
                       o->workers - 1);
    bench_report_setup(rep, "envelope", "%u-byte payload with its number "
                       "at both ends, checked by every subscriber",
                       BENCH_PAYLOAD_LEN);
    bench_report_setup(rep, "latency", "%" PRIu64 " publishes one at a "
                       "time, after %" PRIu64 " not recorded: publish to "
                       "the last subscriber's handle", o->samples,
                       warmup_of(o->samples));
    bench_report_setup(rep, "throughput", "%" PRIu64 " publishes, %u in "
                       "flight; copies delivered per second", o->count,
                       WINDOW);
    bench_host_report_idle(rep, bench_host_spin_ns(o->workers));
    bench_report_setup(rep, "pinning", "%s", pin);
    bench_report_setup(rep, "runs", "%u per figure, fresh segment and "
                       "processes each (spawns not timed); median, min and "
                       "max across runs", o->runs);
    fflush(stdout);
    bench_report_section(rep, "pub/sub fan-out");
    for (uint32_t i = 0; rc == 0 && i < o->nsizes; i++)
        rc = fanout_figure(o, rep, o->actors[i], cpus);
    return rc;
}
