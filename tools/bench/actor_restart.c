/*
 * tools/bench/actor_restart.c - `airsrt-bench actor-restart`: what an
 * actor-level restart costs under a one_for_one supervisor actor.
 *
 * Each run is a fresh worker process in a fresh segment. Its setup
 * supervises one child, the victim, in a top-level one_for_one supervisor
 * (airsrt/supervision.h). The victim's pre_start sends the victim one
 * envelope; its handle reads the clock and fails; the supervisor restarts
 * it: a fresh actor, new generation, whose pre_start reads the clock
 * first thing (the victim's pre_start does nothing else that counts) and
 * sends the next envelope. So the loop drives itself, and
 *
 *   restart = the clock in the new pre_start - the clock in the failing
 *             handle
 *
 * covers everything between: the failure (the supervised child's on_error
 * is not asked), the stop (mailbox, name, slot), the supervisor's
 * intensity check and strategy, the spawn (slot, state, argument copy,
 * name) and the call of pre_start. The cycle figure is the wall time per
 * restart of the whole loop, envelope and scheduling included. Each run
 * makes BENCH_WARMUP unrecorded restarts first, then --count; the worker
 * must end with exactly that many actor failures and restarts, and no
 * dead letter. Two variants: an anonymous child, and one with a
 * registered name (bound and unbound in the shared registry each time).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "tools/bench/host.h"

#define TARGET_RESTART_US 10.0
#define VICTIM_NAME       "bench.victim"
#define FAIL_TYPE         1u

/* Values of the worker's DONE. */
enum { V_P50, V_P99, V_CYCLE_NS, V_RESTARTS };

/* In the worker child only: the loop's state, across incarnations. */
static struct {
    uint64_t count;             /* restarts to record */
    uint64_t starts;            /* pre_starts so far */
    uint64_t fail_ns;           /* clock in the last failing handle */
    uint64_t t0_ns;             /* first recorded restart's failure */
    uint64_t *samples;
} g_ar;

static void victim_done(void)
{
    uint64_t *v = bench_host_values();
    uint64_t total = airsrt_now_ns() - g_ar.t0_ns;
    struct bench_lat l;

    bench_host_lat(g_ar.samples, g_ar.count, &l);
    v[V_P50] = (uint64_t)l.p50;
    v[V_P99] = (uint64_t)l.p99;
    v[V_CYCLE_NS] = total / g_ar.count;
    v[V_RESTARTS] = g_ar.starts - 1;
    free(g_ar.samples);
    g_ar.samples = NULL;
    bench_host_finished();
}

static int victim_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    uint64_t now = airsrt_now_ns();
    uint64_t restart = g_ar.starts++;
    int rc;

    (void)state;
    (void)arg;
    (void)len;
    if (restart > BENCH_WARMUP)
        g_ar.samples[restart - BENCH_WARMUP - 1] = now - g_ar.fail_ns;
    if (restart == BENCH_WARMUP + g_ar.count) {
        victim_done();
        return 0;
    }
    rc = airsrt_send(ctx, airsrt_self(ctx), FAIL_TYPE, NULL, 0);
    return rc < 0 ? bench_host_fail("send: %s", airsrt_strerror(rc)) : 0;
}

static int victim_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    if (env->type != FAIL_TYPE)
        return bench_host_fail("the victim got an envelope of type %#x",
                               env->type);
    if (g_ar.starts == BENCH_WARMUP + 1)
        g_ar.t0_ns = airsrt_now_ns();
    g_ar.fail_ns = airsrt_now_ns();
    return -EIO;
}

static const struct airsrt_actor_type victim_type = {
    .name = "victim", .pre_start = victim_start, .handle = victim_handle,
};

static const struct airsrt_actor_type *const ar_types[] = {
    &victim_type, NULL };

struct ar_variant {
    uint64_t count;
    bool is_named;
};

static int ar_setup(struct airsrt_worker *w, void *arg)
{
    const struct ar_variant *var = arg;
    struct airsrt_spawn_opts o = {
        .name = var->is_named ? VICTIM_NAME : NULL };
    struct airsrt_child_spec child = {
        .id = "victim", .type = &victim_type, .opts = &o,
        .restart = AIRSRT_RESTART_PERMANENT };
    /* Intensity is checked at every restart, never exceeded: no two
     * restarts come within a nanosecond. */
    struct airsrt_supervisor_spec spec = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 3, .period_ns = 1,
        .children = &child, .nchildren = 1 };
    int rc;

    g_ar.count = var->count;
    g_ar.samples = calloc(var->count, sizeof(uint64_t));
    if (g_ar.samples == NULL)
        return bench_host_fail("no memory for %" PRIu64 " samples",
                               var->count);
    rc = airsrt_supervise(airsrt__worker_ctx(w), &spec, NULL, NULL);
    return rc < 0 ? bench_host_fail("supervise: %s", airsrt_strerror(rc))
                  : 0;
}

static int ar_variant_run(const struct bench_opts *o, struct bench_report *rep,
                          const struct ar_variant *var, const int *cpu)
{
    static const struct bench_target target = { "<=", TARGET_RESTART_US };
    struct bench_host_run run = {
        .nworkers = 1, .types = ar_types, .setup = ar_setup,
        .arg = (void *)var, .cpus = cpu,
        .failures_expected = BENCH_WARMUP + var->count,
    };
    double p50[BENCH_MAX_RUNS], p99[BENCH_MAX_RUNS], cycle[BENCH_MAX_RUNS];
    const char *v = var->is_named ? "named" : "anonymous";
    char key[64];
    int rc;

    for (uint32_t i = 0; i < o->runs; i++) {
        rc = bench_host_run(&run);
        if (rc < 0)
            return rc;
        if (run.values[0][V_RESTARTS] != BENCH_WARMUP + var->count) {
            fprintf(stderr, "airsrt-bench: %" PRIu64 " restarts, expected "
                    "%" PRIu64 "\n", run.values[0][V_RESTARTS],
                    BENCH_WARMUP + var->count);
            return -EIO;
        }
        p50[i] = (double)run.values[0][V_P50] / 1e3;
        p99[i] = (double)run.values[0][V_P99] / 1e3;
        cycle[i] = (double)run.values[0][V_CYCLE_NS] / 1e3;
    }
    bench_report_section(rep, var->is_named ? "one_for_one, a named child"
                                            : "one_for_one, an anonymous "
                                              "child");
    snprintf(key, sizeof(key), "actor_restart.%s.p50.us", v);
    bench_report_row(rep, key, "restart p50, us", "us", 3, p50, o->runs,
                     &target);
    snprintf(key, sizeof(key), "actor_restart.%s.p99.us", v);
    bench_report_row(rep, key, "restart p99, us", "us", 3, p99, o->runs,
                     NULL);
    snprintf(key, sizeof(key), "actor_restart.%s.cycle.us", v);
    bench_report_row(rep, key, "whole loop per restart, us", "us", 3, cycle,
                     o->runs, NULL);
    return 0;
}

int bench_actor_restart_run(const struct bench_opts *o,
                            struct bench_report *rep)
{
    const struct ar_variant vars[] = { { o->count, false },
                                       { o->count, true } };
    char pin[160];
    int cpu, rc = 0;

    bench_pick_cpus(o, &cpu, 1, pin, sizeof(pin));
    bench_report_setup(rep, "tree", "one worker; a top-level one_for_one "
                       "supervisor actor with one permanent child that "
                       "fails on every envelope");
    bench_report_setup(rep, "restarts", "%u warm-up, then %" PRIu64
                       " recorded per run", BENCH_WARMUP, o->count);
    bench_report_setup(rep, "pinning", "%s", pin);
    bench_report_setup(rep, "runs", "%u per figure, each a fresh worker "
                       "process and segment; median, min and max across "
                       "runs", o->runs);
    bench_report_setup(rep, "compare", "an Erlang/OTP supervisor restart "
                       "takes about 43 us on this class of machine");
    fflush(stdout);
    for (size_t i = 0; rc == 0 && i < sizeof(vars) / sizeof(vars[0]); i++)
        rc = ar_variant_run(o, rep, &vars[i], &cpu);
    return rc;
}
