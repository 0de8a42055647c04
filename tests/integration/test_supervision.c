/*
 * tests/integration/test_supervision.c - actor-level supervision across
 * real worker processes: a worker whose supervision tree gives up past
 * its top-level actors exits AIRSRT_EXIT_ESCALATED (112), forked from the
 * test and exec'd from examples/supervision; under airsrt-run, the
 * OS-level supervisor logs that exit as "escalated" and restarts the
 * worker, and its own intensity then ends the run.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/harness.h"
#include "tests/lib/run_harness.h"
#include "tests/lib/worker_harness.h"

#define LINE 1024
#define WAIT 30000

static char line[LINE];

/* ---- a tree in the test binary, run by a forked worker ---- */

AIRSRT_MESSAGE(boom, 1, { uint32_t unused; });

/* Fails on the message its own pre_start sent it: a crash loop. */
static int crasher_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                         size_t len)
{
    (void)state;
    (void)arg;
    (void)len;
    return airsrt_send_msg(ctx, airsrt_self(ctx), boom, &(struct boom){ 0 });
}

static int crasher_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    return env->type == boom_type ? -EIO : 0;
}

static const struct airsrt_actor_type crasher = {
    .name = "crasher", .pre_start = crasher_start, .handle = crasher_handle };

static int idle_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    (void)env;
    return 0;
}

static const struct airsrt_actor_type idler = {
    .name = "idler", .handle = idle_handle };

/* Top-level: a supervisor of an idler and the crasher, 3 restarts. */
static int app_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                     size_t len)
{
    static const struct airsrt_child_spec kids[] = {
        { .id = "idler", .type = &idler },
        { .id = "crasher", .type = &crasher },
    };
    static const struct airsrt_supervisor_spec spec = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 3,
        .period_ns = 3600ull * 1000000000u, .children = kids,
        .nchildren = 2 };

    (void)state;
    (void)arg;
    (void)len;
    return airsrt_supervise(ctx, &spec, NULL, NULL);
}

static enum airsrt_directive app_on_error(struct airsrt_ctx *ctx, void *state,
                                          const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    return f->err == AIRSRT_SUPERVISOR_GAVE_UP ? AIRSRT_ESCALATE
                                               : AIRSRT_STOP;
}

static const struct airsrt_actor_type app = {
    .name = "app", .pre_start = app_start, .handle = idle_handle,
    .on_error = app_on_error };

static const struct airsrt_actor_type *const types[] = {
    &app, &crasher, &idler, NULL };

TestSuite(supervision_procs, .fini = harness_fini);

Test(supervision_procs, forked_worker_whose_tree_gives_up_exits_112,
     .timeout = 60)
{
    struct airsrt_worker_self *self;
    pid_t pid;

    wh_runtime(1, NULL);
    pid = wh_fork_worker(0, types, "app");
    cr_assert_eq(wh_exit_status(pid), AIRSRT_EXIT_ESCALATED);
    self = airsrt_shm_worker_self(&harness_shm, 0);
    /* Three restarts allowed, the fourth failure is one too many. */
    cr_assert_eq(atomic_load(&self->actor_restarts), 3);
}

Test(supervision_procs, example_ends_0_when_its_tree_copes_and_112_if_not,
     .timeout = 60)
{
    pid_t pid;

    wh_runtime(1, NULL);
    pid = wh_exec_worker(0, wh_build_path("examples/supervision"),
                         "app@sv.app=every=3:messages=10:max=10", NULL);
    cr_assert_eq(wh_exit_status(pid), 0);
    wh_incarnate(0, 2);
    pid = wh_exec_worker(0, wh_build_path("examples/supervision"),
                         "app@sv.app=every=1:max=2", NULL);
    cr_assert_eq(wh_exit_status(pid), AIRSRT_EXIT_ESCALATED);
}

/* ---- under airsrt-run ---- */

TestSuite(supervision_run, .fini = rh_fini);

Test(supervision_run, escalated_worker_is_logged_and_restarted_by_airsrt_run,
     .timeout = 120)
{
    char body[1024];

    snprintf(body, sizeof(body),
             "[supervisor root]\nstrategy = one_for_one\nmax_restarts = 1\n"
             "max_seconds = 300\n"
             "[worker tree]\nbinary = %s\nrestart = permanent\n"
             "actor = app@sv.app=every=1:max=2\n",
             wh_build_path("examples/supervision"));
    rh_start(NULL, body);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_exited\"",
                  "\"worker\":\"tree[0]\"", "\"incarnation\":1", NULL);
    cr_assert(strstr(line, "\"status\":112") != NULL, "%s", line);
    cr_assert(strstr(line, "\"reason\":\"escalated\"") != NULL, "%s", line);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_restarted\"",
                  "\"worker\":\"tree[0]\"", NULL);
    cr_assert(strstr(line, "\"incarnation\":2") != NULL, "%s", line);
    /* The second incarnation escalates too: one restart too many. */
    cr_assert_eq(rh_wait_exit(WAIT), 112);
    cr_assert_eq(rh_count_events("\"event\":\"worker_exited\"",
                                 "\"reason\":\"escalated\"", NULL), 2);
    cr_assert_eq(rh_count_events("\"event\":\"supervisor_gave_up\"",
                                 "\"supervisor\":\"root\"", NULL), 1);
}
