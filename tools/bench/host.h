/*
 * tools/bench/host.h - worker processes for the actor workloads (spawn,
 * local, cross, ring-of-actors): a runtime segment made by the tool, one
 * forked child per worker, each running the actor host as a supervised
 * worker does (protection map, airsrt__worker_open, the event loop).
 *
 * A run, as the tool (parent) drives it:
 *
 *   children: protect, open the worker, setup() spawns its actors -> READY
 *   parent:   every READY -> a go byte to every child
 *   children: kick() (usually one envelope to the actor that starts), then
 *             the event loop; the actor that ends the measured part calls
 *             bench_host_finished() -> FINISHED
 *   parent:   FINISHED -> AIRSRT_CTL_SHUTDOWN on every control ring
 *   children: the loop ends (every actor stopped) -> DONE with the values
 *             the actors left in bench_host_values(), or FAIL: an actor
 *             saw a wrong envelope, a dead letter, a failure, a bad exit
 *   parent:   every DONE -> reap, destroy the segment
 *
 * While it waits, the parent watches every child: one that dies or says
 * FAIL ends the run, and so does a run in which no envelope moves and no
 * actor is spawned for HOST_STALL_NS (a lost envelope would otherwise
 * hang it). Actors report through the functions below; they run in the
 * child, never in the tool.
 */
#ifndef AIRSRT_BENCH_HOST_H
#define AIRSRT_BENCH_HOST_H

#include "tools/bench/bench.h"
#include "worker/worker_impl.h"

/* An awake worker polls this long before it sleeps: the whole run. */
#define HOST_SPIN_AWAKE_NS 1000000000ull

struct bench_host_run {
    uint32_t nworkers;
    uint32_t actors_max;            /* per worker; 0 = the default */
    uint32_t ring_bytes;            /* 0 = the default */
    const struct airsrt_actor_type *const *types;   /* NULL-terminated */
    struct airsrt_worker_opts wopts;
    /* In child w: spawns the actors of worker w; 0, or a negative error
     * after bench_host_fail() said why. */
    int (*setup)(struct airsrt_worker *w, void *arg);
    /* In child w, after go, before the event loop; NULL: nothing. */
    int (*kick)(struct airsrt_worker *w, void *arg);
    void *arg;                      /* to setup and kick */
    uint32_t finisher;              /* the worker that says FINISHED */
    const int *cpus;                /* per worker, -1: not pinned */
    uint64_t failures_expected;     /* actor failures a worker causes on
                                       purpose (actor-restart); any other
                                       number fails the run */

    /* Filled by bench_host_run(): what each worker's DONE carried. */
    uint64_t values[BENCH_MAX_WORKERS][BENCH_MSG_VALUES];
};

/* The spin_ns of workers that pass one piece of work around (a token,
 * one publish at a time): awake (HOST_SPIN_AWAKE_NS) only if each of
 * them can have a CPU of its own, else the runtime's default, so that
 * idle ones do not take the CPU from the one that holds the work. */
uint64_t bench_host_spin_ns(uint32_t workers);

/* The report's "idle" setup line for workers that spin spin_ns. */
void bench_host_report_idle(struct bench_report *rep, uint64_t spin_ns);

/* One run in a fresh segment, as above. 0, or a negative error already
 * explained on stderr (-EINTR: a stop signal). */
int bench_host_run(struct bench_host_run *run);

/* ---- for actors, in a worker child ---- */

/* Records why the run failed (the first reason only) and returns
 * -EPROTO, for handle to return: the actor's on_error then escalates,
 * the worker ends, and the child reports FAIL with the reason. */
int bench_host_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Tells the tool that the measured part is over (once). */
void bench_host_finished(void);

/* This worker's values, sent with DONE (BENCH_MSG_VALUES of them). */
uint64_t *bench_host_values(void);

/* on_error of every bench actor: any failure ends the run. */
enum airsrt_directive bench_host_on_error(struct airsrt_ctx *ctx, void *state,
                                          const struct airsrt_failure *f);

/* The address actor number slot (1, 2, ... in spawn order) of worker w
 * has in a fresh runtime: incarnation 1, generation 1. */
struct airsrt_address bench_host_address(uint32_t w, uint32_t slot);

/* In setup: spawns type as the next top-level actor and checks that it
 * got the address bench_host_address() predicts. 0 or a negative error
 * (recorded with bench_host_fail()). */
int bench_host_spawn(struct airsrt_worker *w,
                     const struct airsrt_actor_type *type, const void *arg,
                     size_t arg_len, uint32_t slot);

/* Sends a payload-less envelope of type to an actor from outside any
 * actor (kick). 0 or a negative error, recorded. */
int bench_host_send(struct airsrt_worker *w, const struct airsrt_address *to,
                    uint32_t type);

/* Summary of round-trip samples: sorts them. */
struct bench_lat {
    double mean, p50, p99, p999;
};
void bench_host_lat(uint64_t *samples, uint64_t n, struct bench_lat *l);

#endif
