/*
 * tests/integration/test_examples.c - the example worker binaries do what
 * their header comments say: run by hand with --standalone, and across
 * worker processes of one runtime: pingpong over two, pool and pubsub
 * over three, reqreply through airsrt-run with its config.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/program.h"
#include "tests/lib/worker_harness.h"

TestSuite(examples, .fini = harness_fini);

/* Runs example name with argv[1..] and returns its exit status, its
 * stdout in out. */
static int run_example(const char *name, const char *const *args, char *out,
                       size_t len)
{
    struct program p = { .out = out, .out_len = len };

    return program_run(&p, wh_build_path(name), args);
}

static void expect_backpressure(const char *arg, bool is_reject)
{
    const char *args[] = { "--standalone", arg, NULL };
    uint64_t sent, handled, dropped, rejected;
    char out[512], policy[32];

    cr_assert_eq(run_example("examples/backpressure", args, out,
                             sizeof(out)), 0, "%s: %s", arg, out);
    cr_assert_eq(sscanf(out, "backpressure: %31[a-z_], mailbox of %*u, "
                        "bursts of %*u: sent %" SCNu64 ", handled %" SCNu64
                        ", dropped %" SCNu64 ", rejected %" SCNu64, policy,
                        &sent, &handled, &dropped, &rejected), 5,
                 "unexpected line: %s", out);
    cr_assert_eq(sent, 1000);
    cr_assert_eq(handled + dropped, sent, "%s", out);
    if (is_reject) {
        /* Refused items are sent again: none is lost. */
        cr_assert_eq(handled, sent, "%s", out);
        cr_assert_gt(rejected, 0, "%s", out);
    } else {
        /* A mailbox of 4 under bursts of 16 must drop. */
        cr_assert_gt(dropped, 0, "%s", out);
        cr_assert_eq(rejected, 0, "%s", out);
    }
}

Test(examples, backpressure_drop_newest_drops_and_ends, .timeout = 30)
{
    expect_backpressure("producer=drop_newest", false);
}

Test(examples, backpressure_drop_oldest_drops_and_ends, .timeout = 30)
{
    expect_backpressure("producer=drop_oldest", false);
}

Test(examples, backpressure_reject_loses_nothing, .timeout = 30)
{
    expect_backpressure("producer=reject", true);
}

Test(examples, backpressure_refuses_an_unknown_policy, .timeout = 30)
{
    const char *args[] = { "--standalone", "producer=drop_everything", NULL };
    char out[512];

    cr_assert_eq(run_example("examples/backpressure", args, out,
                             sizeof(out)), AIRSRT_EXIT_START_FAILED);
}

Test(examples, pingpong_runs_standalone, .timeout = 30)
{
    const char *args[] = { "--standalone", "ponger@pong", "pinger=1000",
                           NULL };
    char out[512];

    cr_assert_eq(run_example("examples/pingpong", args, out, sizeof(out)), 0);
    cr_assert(strstr(out, "pingpong: 1000 round trips") != NULL, "%s", out);
}

Test(examples, pingpong_crosses_two_workers, .timeout = 30)
{
    pid_t a, b;

    wh_runtime(2, NULL);
    a = wh_exec_worker(0, wh_build_path("examples/pingpong"), "ponger@pong",
                       NULL);
    b = wh_exec_worker(1, wh_build_path("examples/pingpong"), "pinger=1000",
                       NULL);
    cr_assert_eq(wh_exit_status(b), 0);
    cr_assert_eq(wh_exit_status(a), 0);
    /* Every ping crossed to the ponger's worker (the stop that follows
     * is a command, not mail). */
    cr_assert_eq(atomic_load(&airsrt_shm_worker_self(&harness_shm, 0)
                                 ->envelopes_in), 1000);
}

Test(examples, pool_runs_standalone, .timeout = 30)
{
    const char *args[] = { "--standalone", "handler", "handler", "handler",
                           "dispatcher=members=3:jobs=6", NULL };
    char out[8192];

    cr_assert_eq(run_example("examples/pool", args, out, sizeof(out)), 0,
                 "%s", out);
    cr_assert(strstr(out, "pool: 24 jobs handled by 3 members") != NULL,
              "%s", out);
    cr_assert(strstr(out, "pool: round_robin  <0.1:1.1> 2 <0.1:2.1> 2 "
                          "<0.1:3.1> 2\n") != NULL, "%s", out);
    cr_assert(strstr(out, "pool: customer-0 always went to") != NULL, "%s",
              out);
    cr_assert(strstr(out, "last went") == NULL, "%s", out);
}

Test(examples, pool_spreads_jobs_over_two_workers, .timeout = 30)
{
    pid_t a, b, d;
    uint64_t in_a, in_b;

    wh_runtime(3, NULL);
    a = wh_exec_worker(0, wh_build_path("examples/pool"), "handler,handler",
                       NULL);
    b = wh_exec_worker(1, wh_build_path("examples/pool"), "handler,handler",
                       NULL);
    d = wh_exec_worker(2, wh_build_path("examples/pool"),
                       "dispatcher=members=4:jobs=8", NULL);
    /* The dispatcher stops every handler, then itself. */
    cr_assert_eq(wh_exit_status(d), 0);
    cr_assert_eq(wh_exit_status(a), 0);
    cr_assert_eq(wh_exit_status(b), 0);
    in_a = atomic_load(&airsrt_shm_worker_self(&harness_shm, 0)->envelopes_in);
    in_b = atomic_load(&airsrt_shm_worker_self(&harness_shm, 1)->envelopes_in);
    /* Round robin alone gives each worker 8 of its 4 x 8 jobs. */
    cr_assert_geq(in_a, 8);
    cr_assert_geq(in_b, 8);
    cr_assert_eq(in_a + in_b, 32);
    /* The acknowledgements (and any timer ticks it waited with). */
    cr_assert_geq(atomic_load(&airsrt_shm_worker_self(&harness_shm, 2)
                                  ->envelopes_in), 32);
}

Test(examples, pubsub_runs_standalone, .timeout = 30)
{
    const char *args[] = { "--standalone", "listener=5,listener=5",
                           "ticker=count=5:workers=1", NULL };
    char out[1024];

    cr_assert_eq(run_example("examples/pubsub", args, out, sizeof(out)), 0);
    cr_assert(strstr(out, "pubsub: ticker published 5 prices to 1 workers")
              != NULL, "%s", out);
    cr_assert(strstr(out, "pubsub: listener 0.1 got 5 prices: 101.00 ") !=
              NULL, "%s", out);
    cr_assert(strstr(out, "pubsub: listener 0.2 got 5 prices: 101.00 ") !=
              NULL, "%s", out);
}

Test(examples, pubsub_crosses_three_workers, .timeout = 60)
{
    const char *bin = wh_build_path("examples/pubsub");
    pid_t l0, l1, t;

    wh_runtime(3, NULL);
    l0 = wh_exec_worker(0, bin, "listener=10,listener=10", NULL);
    l1 = wh_exec_worker(1, bin, "listener=10", NULL);
    t = wh_exec_worker(2, bin, "ticker=count=10:workers=2", NULL);
    cr_assert_eq(wh_exit_status(t), 0);
    cr_assert_eq(wh_exit_status(l0), 0);
    cr_assert_eq(wh_exit_status(l1), 0);
    /* Each listener got all ten prices in order (a listener fails on a
     * gap), and every copy found its subscribers. */
    for (uint32_t w = 0; w < 3; w++) {
        struct airsrt_worker_self *s = airsrt_shm_worker_self(&harness_shm,
                                                              w);

        cr_assert_eq(atomic_load(&s->actor_failures), 0, "worker %u", w);
        for (unsigned r = 0; r < AIRSRT_DEAD_LETTER_REASONS; r++)
            cr_assert_eq(atomic_load(&s->dead_letters[r]), 0,
                         "worker %u, reason %u", w, r);
    }
    cr_assert_geq(atomic_load(&airsrt_shm_worker_self(&harness_shm, 0)
                                  ->envelopes_in), 20);
    cr_assert_geq(atomic_load(&airsrt_shm_worker_self(&harness_shm, 1)
                                  ->envelopes_in), 10);
}

/* The overseer matches each DOWN to its monitor's ref: one it cannot
 * match (unknown, repeated, for the forgotten job, of the wrong reason)
 * prints an error and ends the worker escalated, without the summary. */
Test(examples, monitor_gets_one_down_per_monitor, .timeout = 30)
{
    const char *args[] = { "--standalone", "overseer", NULL };
    char out[1024];

    cr_assert_eq(run_example("examples/monitor", args, out, sizeof(out)), 0,
                 "%s", out);
    cr_assert(strstr(out, "error") == NULL, "%s", out);
    cr_assert(strstr(out, "down: normal (err 0)") != NULL, "%s", out);
    cr_assert(strstr(out, "down: failed (err -5)") != NULL, "%s", out);
    cr_assert(strstr(out, "down: no_actor (err 0)") != NULL, "%s", out);
    cr_assert(strstr(out, "monitor: 3 DOWNs, one per monitor") != NULL,
              "%s", out);
}

/* ---- reqreply: request and reply with timeouts, timers ---- */

#define REQREPLY_SUMMARY "reqreply: 20 requests, 16 replies, 4 timeouts\n"

Test(examples, reqreply_runs_standalone, .timeout = 30)
{
    const char *args[] = { "--standalone", "server@calc=5", "client=20:200",
                           NULL };
    char out[1024];

    cr_assert_eq(run_example("examples/reqreply", args, out, sizeof(out)), 0,
                 "%s", out);
    cr_assert(strstr(out, REQREPLY_SUMMARY) != NULL, "%s", out);
    cr_assert(strstr(out, "reqreply: request 19 timed out\n") != NULL, "%s",
              out);
}

/* As its header says: through airsrt-run, client and server in two
 * workers. Its timeouts are a person's (1 s), too short for valgrind's
 * cross-process replies. */
Test(examples, reqreply_ini_passes_through_airsrt_run, .timeout = 60)
{
    char ini[4096], out[2048];
    const char *args[] = { ini, NULL };

    if (getenv("AIRSRT_UNDER_VALGRIND") != NULL)
        cr_skip_test("the example's timeouts are a person's");
    snprintf(ini, sizeof(ini), "%s", wh_build_path("examples/reqreply.ini"));
    cr_assert_eq(run_example("bin/airsrt-run", args, out, sizeof(out)), 0,
                 "%s", out);
    cr_assert(strstr(out, REQREPLY_SUMMARY) != NULL, "%s", out);
}
