/*
 * tools/bench/spawn.c - `airsrt-bench spawn`: what an idle actor costs.
 *
 * Each run is a fresh worker process in a fresh segment, which spawns N
 * actors of a type with no state and a pre_start that does nothing, from
 * outside any actor (top-level actors), and checks that each got the
 * address a fresh worker hands out: slots 1, 2, 3, ... with generation 1.
 * Figures: the time per spawn, and the runtime's bytes per idle actor as
 * the growth of the process's VmRSS over the spawns divided by N. VmRSS
 * counts the shared-memory pages the process touched too, so the
 * per-actor counters in the segment are included, as they should be.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/bench/host.h"

#define TARGET_SPAWN_US   0.5
#define TARGET_BYTES      256.0

/* Values of the worker's DONE. */
enum { V_SPAWN_NS, V_RSS_BYTES };

static int idle_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                      size_t len)
{
    (void)ctx;
    (void)state;
    (void)arg;
    (void)len;
    return 0;
}

static int idle_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    return bench_host_fail("an idle actor got an envelope of type %#x",
                           env->type);
}

static const struct airsrt_actor_type idle_type = {
    .name = "idle", .state_size = 0, .pre_start = idle_start,
    .handle = idle_handle, .on_error = bench_host_on_error,
};

static const struct airsrt_actor_type *const spawn_types[] = {
    &idle_type, NULL };

/* VmRSS of this process in bytes, or 0 if it cannot be read. */
static uint64_t rss_bytes(void)
{
    char line[256];
    uint64_t kb = 0;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %" SCNu64 " kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

static int spawn_setup(struct airsrt_worker *w, void *arg)
{
    (void)w;
    (void)arg;
    return 0;
}

/* The measured part: n spawns, each address checked. */
static int spawn_all(struct airsrt_worker *w, uint64_t n)
{
    struct airsrt_ctx *ctx = airsrt__worker_ctx(w);
    struct airsrt_address got, want = bench_host_address(w->index, 1);
    int rc;

    for (uint64_t i = 1; i <= n; i++) {
        want.slot = (uint32_t)i;
        rc = airsrt_spawn(ctx, &idle_type, NULL, &got);
        if (rc < 0)
            return bench_host_fail("spawn number %" PRIu64 ": %s", i,
                                   airsrt_strerror(rc));
        if (!airsrt_address_equal(&got, &want))
            return bench_host_fail("spawn number %" PRIu64 " got slot %u "
                                   "generation %u, expected slot %" PRIu64
                                   " generation 1", i, got.slot,
                                   got.generation, i);
    }
    return 0;
}

static int spawn_kick(struct airsrt_worker *w, void *arg)
{
    const uint64_t *n = arg;
    uint64_t *v = bench_host_values();
    uint64_t rss0, rss1, t0, t1;
    int rc;

    rss0 = rss_bytes();
    t0 = airsrt_now_ns();
    rc = spawn_all(w, *n);
    t1 = airsrt_now_ns();
    rss1 = rss_bytes();
    if (rc < 0)
        return rc;
    if (rss0 == 0 || rss1 == 0)
        return bench_host_fail("cannot read VmRSS in /proc/self/status");
    if (w->alive != *n ||
        atomic_load(&w->self->actors_alive) != *n)
        return bench_host_fail("%" PRIu64 " actors spawned, but %u alive",
                               *n, w->alive);
    v[V_SPAWN_NS] = t1 - t0;
    v[V_RSS_BYTES] = rss1 > rss0 ? rss1 - rss0 : 0;
    bench_host_finished();
    return 0;
}

static int spawn_figures(const struct bench_opts *o, struct bench_report *rep,
                         uint64_t n, const int *cpu)
{
    static const struct bench_target t_us = { "<=", TARGET_SPAWN_US };
    static const struct bench_target t_bytes = { "<=", TARGET_BYTES };
    struct bench_host_run run = {
        .nworkers = 1, .actors_max = (uint32_t)n, .types = spawn_types,
        .setup = spawn_setup, .kick = spawn_kick, .arg = &n, .cpus = cpu,
    };
    double us[BENCH_MAX_RUNS], bytes[BENCH_MAX_RUNS];
    char title[64], key[48];
    int rc;

    for (uint32_t i = 0; i < o->runs; i++) {
        rc = bench_host_run(&run);
        if (rc < 0)
            return rc;
        us[i] = (double)run.values[0][V_SPAWN_NS] / 1e3 / (double)n;
        bytes[i] = (double)run.values[0][V_RSS_BYTES] / (double)n;
    }
    snprintf(title, sizeof(title), "%" PRIu64 " idle actors in one worker",
             n);
    bench_report_section(rep, title);
    snprintf(key, sizeof(key), "spawn.n%" PRIu64 ".us", n);
    bench_report_row(rep, key, "time per spawn, us", "us", 3, us, o->runs,
                     &t_us);
    snprintf(key, sizeof(key), "spawn.n%" PRIu64 ".bytes", n);
    bench_report_row(rep, key, "bytes per idle actor (VmRSS growth / N)",
                     "bytes", 1, bytes, o->runs, &t_bytes);
    return 0;
}

int bench_spawn_run(const struct bench_opts *o, struct bench_report *rep)
{
    char pin[160];
    int cpu;
    int rc = 0;

    bench_pick_cpus(o, &cpu, 1, pin, sizeof(pin));
    bench_report_setup(rep, "actor", "type with state_size 0 and a no-op "
                       "pre_start, spawned top-level from outside any "
                       "actor; each address checked");
    bench_report_setup(rep, "memory", "struct actor %zu bytes in the worker, "
                       "%zu bytes of counters in the segment, per actor",
                       sizeof(struct actor),
                       sizeof(struct airsrt_actor_stats));
    bench_report_setup(rep, "pinning", "%s", pin);
    bench_report_setup(rep, "runs", "%u per figure, each a fresh worker "
                       "process and segment; median, min and max across "
                       "runs", o->runs);
    fflush(stdout);
    for (uint32_t i = 0; rc == 0 && i < o->nsizes; i++)
        rc = spawn_figures(o, rep, o->actors[i], &cpu);
    return rc;
}
