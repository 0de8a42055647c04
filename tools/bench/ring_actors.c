/*
 * tools/bench/ring_actors.c - `airsrt-bench ring-of-actors`: one token
 * passed around N actors spread over W worker processes, for each N of
 * --actors. The figure is the cost of one hop, which should not grow
 * with N: an idle actor must cost nothing but its memory.
 *
 * Placement: contiguous blocks, worker w holding actors base[w] ..
 * base[w] + count[w] - 1, so that exactly W hops per lap cross from one
 * worker to the next (none with one worker). A fresh worker hands out
 * slots 1, 2, 3, ... with generation 1, so every actor's successor is
 * computed, not looked up; each spawn is checked to have the address the
 * computation expects.
 *
 * The token carries its hop number h and position p (h mod N) at both
 * ends of its payload; each actor checks that p is its own index and
 * actor 0 that h is a whole number of laps, so a lost, duplicated or
 * torn token fails the run. The clock starts when actor 0 sends hop 1
 * and stops when the token is back at actor 0 after the last lap.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/bench/host.h"

enum { T_START = 1, T_TOKEN };
enum { V_T0, V_T_END, V_LAPS };

struct ring_plan {
    uint64_t n;                     /* actors */
    uint64_t laps;
    uint32_t workers;
    uint32_t count[BENCH_MAX_WORKERS];
    uint64_t base[BENCH_MAX_WORKERS];
};

/* The plan of the running child: forked after it was written. */
static const struct ring_plan *g_plan;

static void plan_make(struct ring_plan *p, uint64_t n, uint32_t workers,
                      uint64_t hops)
{
    uint64_t base = 0;

    p->n = n;
    p->workers = workers;
    p->laps = (hops + n - 1) / n;
    for (uint32_t w = 0; w < workers; w++) {
        p->count[w] = (uint32_t)(n / workers + (w < n % workers));
        p->base[w] = base;
        base += p->count[w];
    }
}

/* Sends the token, hop h at position pos, to the actor after self. */
static int pass(struct airsrt_ctx *ctx, const struct airsrt_address *self,
                uint64_t h, uint64_t pos)
{
    uint8_t payload[BENCH_PAYLOAD_LEN];
    struct airsrt_address next = *self;
    int rc;

    if (self->slot < g_plan->count[self->worker]) {
        next.slot++;
    } else {
        next.worker = (uint16_t)((self->worker + 1) % g_plan->workers);
        next.slot = 1;
    }
    bench_payload_init(payload);
    bench_payload_set_seq(payload, h);
    memcpy(payload + sizeof(h), &pos, sizeof(pos));
    rc = airsrt_send(ctx, &next, T_TOKEN, payload, BENCH_PAYLOAD_LEN);
    if (rc < 0)
        return bench_host_fail("hop %" PRIu64 ": %s", h, airsrt_strerror(rc));
    return 0;
}

/* Actor 0 has the token back: a lap is done. */
static int lap_done(struct airsrt_ctx *ctx, const struct airsrt_address *self,
                    uint64_t h)
{
    uint64_t *v = bench_host_values();

    if (h != (v[V_LAPS] + 1) * g_plan->n)
        return bench_host_fail("actor 0 got hop %" PRIu64 " after %" PRIu64
                               " laps of %" PRIu64, h, v[V_LAPS], g_plan->n);
    if (++v[V_LAPS] < g_plan->laps)
        return pass(ctx, self, h + 1, 1 % g_plan->n);
    v[V_T_END] = airsrt_now_ns();
    bench_host_finished();
    return 0;
}

static int hop_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env)
{
    const struct airsrt_address *self = airsrt_self(ctx);
    uint64_t me = g_plan->base[self->worker] + self->slot - 1, h, pos;
    char why[200];

    (void)state;
    if (env->type == T_START && me == 0) {
        bench_host_values()[V_T0] = airsrt_now_ns();
        return pass(ctx, self, 1, 1 % g_plan->n);
    }
    if (env->payload_len == BENCH_PAYLOAD_LEN)
        memcpy(&h, env->payload, sizeof(h));
    else
        h = 0;
    if (bench_payload_check(env->type, env->payload, env->payload_len,
                            T_TOKEN, h, why, sizeof(why)) < 0)
        return bench_host_fail("actor %" PRIu64 ": %s", me, why);
    memcpy(&pos, env->payload + sizeof(h), sizeof(pos));
    if (pos != me)
        return bench_host_fail("actor %" PRIu64 " got the token meant for "
                               "actor %" PRIu64 " (hop %" PRIu64 ")", me, pos,
                               h);
    if (me == 0)
        return lap_done(ctx, self, h);
    return pass(ctx, self, h + 1, me + 1 == g_plan->n ? 0 : me + 1);
}

static const struct airsrt_actor_type hop_type = {
    .name = "hop", .state_size = 0, .handle = hop_handle,
    .on_error = bench_host_on_error,
};
static const struct airsrt_actor_type *const ring_types[] = {
    &hop_type, NULL };

static int ring_setup(struct airsrt_worker *w, void *arg)
{
    const struct ring_plan *p = arg;
    int rc = 0;

    g_plan = p;
    for (uint32_t slot = 1; rc == 0 && slot <= p->count[w->index]; slot++)
        rc = bench_host_spawn(w, &hop_type, NULL, 0, slot);
    return rc;
}

static int ring_kick(struct airsrt_worker *w, void *arg)
{
    struct airsrt_address first = bench_host_address(0, 1);

    (void)arg;
    return w->index == 0 ? bench_host_send(w, &first, T_START) : 0;
}

static int ring_figure(const struct bench_opts *o, struct bench_report *rep,
                       uint64_t n, const int *cpus)
{
    static struct ring_plan plan;
    struct bench_host_run run = {
        .nworkers = o->workers, .ring_bytes = o->ring_bytes,
        .types = ring_types,
        .wopts = { .spin_ns = bench_host_spin_ns(o->workers) },
        .setup = ring_setup, .kick = ring_kick, .arg = &plan,
        .finisher = 0, .cpus = cpus,
    };
    double ns[BENCH_MAX_RUNS];
    char key[48], label[128];
    int rc;

    plan_make(&plan, n, o->workers, o->count);
    run.actors_max = plan.count[0];
    for (uint32_t i = 0; i < o->runs; i++) {
        rc = bench_host_run(&run);
        if (rc < 0)
            return rc;
        ns[i] = (double)(run.values[0][V_T_END] - run.values[0][V_T0]) /
                (double)(plan.laps * n);
    }
    snprintf(key, sizeof(key), "hop.n%" PRIu64, n);
    snprintf(label, sizeof(label), "N=%" PRIu64 ": %" PRIu64 " laps, %u of "
             "%" PRIu64 " hops cross", n, plan.laps,
             o->workers > 1 ? o->workers : 0, n);
    bench_report_row(rep, key, label, "ns", 1, ns, o->runs, NULL);
    return 0;
}

int bench_ring_actors_run(const struct bench_opts *o, struct bench_report *rep)
{
    int cpus[BENCH_MAX_WORKERS];
    char pin[1024];
    int rc = 0;

    bench_pick_cpus(o, cpus, o->workers, pin, sizeof(pin));
    bench_report_setup(rep, "workers", "%u, one process each; actors in "
                       "contiguous blocks, so %u hops per lap cross "
                       "workers", o->workers,
                       o->workers > 1 ? o->workers : 0);
    bench_report_setup(rep, "actor", "state_size 0; checks the token, "
                       "sends it to the next actor's computed address");
    bench_report_setup(rep, "envelope", "%u-byte payload: hop number and "
                       "position, checked by every actor", BENCH_PAYLOAD_LEN);
    bench_report_setup(rep, "hops", "%" PRIu64 " per run, rounded up to "
                       "whole laps", o->count);
    bench_host_report_idle(rep, bench_host_spin_ns(o->workers));
    if (o->workers > 1)
        bench_report_setup(rep, "ring", "%u bytes per data ring (%u KiB)",
                           o->ring_bytes, o->ring_bytes >> 10);
    bench_report_setup(rep, "pinning", "%s", pin);
    bench_report_setup(rep, "runs", "%u per figure, fresh segment and "
                       "processes each (spawns not timed); median, min and "
                       "max across runs", o->runs);
    fflush(stdout);
    bench_report_section(rep, "token ring, ns per hop");
    for (uint32_t i = 0; rc == 0 && i < o->nsizes; i++)
        rc = ring_figure(o, rep, o->actors[i], cpus);
    return rc;
}
