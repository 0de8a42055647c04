/*
 * tools/airsrt-bench.c - measures the runtime, one workload at a time:
 *
 *   ring            the shared-memory data rings alone, two processes
 *   spawn           idle actors spawned in one worker: time, bytes each
 *   local           two actors in one worker: one-way rate, round trip
 *   cross           two actors in two worker processes, the whole path
 *   ring-of-actors  a token around N actors in W workers: cost per hop
 *   restart         a worker killed under airsrt-run: time to answer again
 *   actor-restart   a failing child under a one_for_one supervisor actor:
 *                   time until its next incarnation has started
 *
 * Each figure is the median, min and max of several runs, printed with
 * the machine it was taken on, as a table or one JSON object (--json).
 * A figure is only printed if every envelope behind it arrived whole and
 * in order. Where the runtime has a target, it is printed next to the
 * figure.
 *
 * It must leave nothing behind: segments are destroyed and children
 * reaped on success, failure, SIGINT, SIGTERM and SIGHUP alike (the
 * handler only sets a flag; the loops that spin or wait look at it), and
 * children die with the tool. The parts live in tools/bench/ (bench.h).
 *
 * The binary is also the worker of the restart workload: started by
 * airsrt-run (AIRSRT_FD, or AIRSRT_SPARE_FD for a spare, in its
 * environment) it is an airsrt worker hosting that workload's actors, and
 * takes no bench option at all.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airsrt/worker.h"
#include "tools/bench/bench.h"

typedef int (*workload_fn)(const struct bench_opts *o,
                           struct bench_report *rep);

static const workload_fn workload_runs[BENCH_WORKLOADS] = {
    [BENCH_RING] = bench_ring_run,
    [BENCH_SPAWN] = bench_spawn_run,
    [BENCH_LOCAL] = bench_local_run,
    [BENCH_CROSS] = bench_cross_run,
    [BENCH_RING_OF_ACTORS] = bench_ring_actors_run,
    [BENCH_RESTART] = bench_restart_run,
    [BENCH_FANOUT] = bench_fanout_run,
    [BENCH_ACTOR_RESTART] = bench_actor_restart_run,
    [BENCH_TIMERS] = bench_timers_run,
    [BENCH_REQUEST] = bench_request_run,
};

static void on_stop_signal(int sig)
{
    bench_stop_sig = sig;
}

/* No SA_RESTART: a blocking read, poll or futex wait returns EINTR, and
 * the loop around it sees the flag. */
static int install_stop_handlers(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0)
            return bench_fail_errno("sigaction");
    return 0;
}

/* Everything is cleaned up by now: die of the signal we were sent, so
 * that a calling shell or script sees the interruption for what it is. */
static void die_of_stop_signal(void)
{
    int sig = bench_stop_sig;

    fflush(stdout);
    fprintf(stderr, "airsrt-bench: interrupted by signal %d, cleaned up\n",
            sig);
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv)
{
    struct bench_opts o = { .do_pin = true };
    struct bench_report rep = { 0 };
    int id, rc;

    if (getenv(AIRSRT_ENV_FD) != NULL || getenv(AIRSRT_ENV_SPARE_FD) != NULL)
        return airsrt_worker_main(argc, argv, bench_restart_types);
    id = bench_parse_command(argc, argv, &o, &rc);
    if (id < 0)
        return rc;
    if (install_stop_handlers() < 0)
        return EXIT_SYSTEM;
    rep.is_json = o.is_json;
    bench_report_begin(&rep, bench_workloads[id].name,
                       bench_workloads[id].summary);
    bench_report_machine(&rep);
    rc = workload_runs[id](&o, &rep);
    if (rc == 0) {
        bench_report_end(&rep);
        return 0;
    }
    if (bench_stop_sig)
        die_of_stop_signal();
    return EXIT_SYSTEM;
}
