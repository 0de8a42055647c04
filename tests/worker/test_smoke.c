/*
 * tests/worker/test_smoke.c - placeholder removed once the real suites land.
 */
#include <criterion/criterion.h>

#include "tests/lib/worker_harness.h"

TestSuite(smoke, .fini = harness_fini);

static int echo_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    uint64_t *count = state;

    (void)env;
    if (++*count == 3)
        return airsrt_stop(ctx, airsrt_self(ctx));
    return 0;
}

static const struct airsrt_actor_type echo = {
    .name = "echo", .state_size = sizeof(uint64_t), .handle = echo_handle };
static const struct airsrt_actor_type *const types[] = { &echo, NULL };

Test(smoke, actor_handles_three_then_worker_ends, .timeout = 10)
{
    struct airsrt_worker *w;
    struct airsrt_address a;

    wh_runtime(1, NULL);
    w = wh_open(0, types, NULL);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(w), &echo, NULL, &a), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(airsrt_send(airsrt__worker_ctx(w), &a, 7, "x", 1), 0);
    cr_assert_eq(wh_poll_until(w, NULL, NULL, 5000), AIRSRT_EXIT_OK);
    cr_assert_eq(atomic_load(&w->stats[a.slot].handled), 3);
    cr_assert_eq(atomic_load(&w->stats[a.slot].state), AIRSRT_ACTOR_STOPPED);
    wh_close(w);
}

Test(smoke, pingpong_binary_crosses_two_workers, .timeout = 20)
{
    pid_t a, b;

    wh_runtime(2, NULL);
    a = wh_exec_worker(0, wh_build_path("examples/pingpong"), "ponger@pong",
                       NULL);
    b = wh_exec_worker(1, wh_build_path("examples/pingpong"),
                       "pinger=1000", NULL);
    cr_assert_eq(wh_exit_status(b), 0);
    cr_assert_eq(wh_exit_status(a), 0);
}
