/*
 * tests/integration/test_worker_main.c - airsrt_worker_main() as its
 * users meet it: a worker binary started by the supervisor's environment
 * or by hand. Each case runs it in a child process - called directly with
 * this file's actor types, or by exec of examples/pingpong - reads what
 * it said on stderr, and checks its exit status (airsrt/worker.h):
 *
 *   100  usage: no environment and no --standalone, or a bad AIRSRT_FD,
 *        AIRSRT_WORKER, AIRSRT_ACTORS, AIRSRT_SPIN_US, AIRSRT_HEARTBEAT_MS
 *        (and the message names the variable)
 *   111  AIRSRT_FD is a descriptor, but not of a segment
 *   113  a listed actor's pre_start failed
 *   112  an actor's failure escalated past the top
 *     0  every actor stopped; --standalone ran to the end or was stopped
 *        by SIGTERM, and left no segment behind
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shm/doorbell.h"
#include "tests/lib/integ_actors.h"
#include "tests/lib/integ_worker.h"

TestSuite(worker_main, .fini = harness_fini);

AIRSRT_MESSAGE(kick, 7, { uint32_t unused; });

static int kick_self(struct airsrt_ctx *ctx, void *state, const void *arg,
                     size_t len)
{
    (void)state, (void)arg, (void)len;
    return airsrt_send_msg(ctx, airsrt_self(ctx), kick, &(struct kick){ 0 });
}

static int fail_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                      size_t len)
{
    (void)ctx, (void)state, (void)arg, (void)len;
    return -EIO;
}

static int fail_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    (void)ctx, (void)state, (void)env;
    return -EIO;
}

static enum airsrt_directive escalate(struct airsrt_ctx *ctx, void *state,
                                      const struct airsrt_failure *f)
{
    (void)ctx, (void)state, (void)f;
    return AIRSRT_ESCALATE;
}

static int stop_self(struct airsrt_ctx *ctx, void *state,
                     const struct airsrt_envelope *env)
{
    (void)state, (void)env;
    return airsrt_stop(ctx, airsrt_self(ctx));
}

/* pre_start fails. */
static const struct airsrt_actor_type failing = {
    .name = "failing", .pre_start = fail_start, .handle = fail_handle };
/* Fails its first envelope and escalates: it has no parent. */
static const struct airsrt_actor_type escalator = {
    .name = "escalator", .pre_start = kick_self, .handle = fail_handle,
    .on_error = escalate };
/* Stops itself at its first envelope. */
static const struct airsrt_actor_type quitter = {
    .name = "quitter", .pre_start = kick_self, .handle = stop_self };

static const struct airsrt_actor_type *const types[] = {
    &integ_counter, &failing, &escalator, &quitter, NULL };

#define ERR_MAX 4096

/* Runs airsrt_worker_main(types) in a child with env; its exit status,
 * and its stderr in err. */
static int run_main(const char *const *env, char err[ERR_MAX])
{
    char *argv[] = { "integ-worker", NULL };
    struct integ_proc p = integ_run_main(types, argv, env);

    return integ_finish(&p, err, ERR_MAX);
}

/*
 * Runs the worker with a good environment (worker 0 of the test's
 * runtime, starting "counter=0") but for var, set to value (NULL:
 * unset), and expects it to refuse: status want, and stderr naming what.
 */
static void expect_refused(const char *var, const char *value, int want,
                           const char *what)
{
    static const char *const vars[] = {
        AIRSRT_ENV_FD, AIRSRT_ENV_WORKER, AIRSRT_ENV_ACTORS };
    char set[3][128], bad[256], err[ERR_MAX];
    const char *env[6];
    size_t n = 0;
    int status;

    snprintf(set[0], sizeof(set[0]), "%s", integ_env_fd());
    snprintf(set[1], sizeof(set[1]), "%s=0", AIRSRT_ENV_WORKER);
    snprintf(set[2], sizeof(set[2]), "%s=counter=0", AIRSRT_ENV_ACTORS);
    for (size_t i = 0; i < 3; i++)
        if (strcmp(vars[i], var) != 0)
            env[n++] = set[i];
    if (value != NULL) {
        snprintf(bad, sizeof(bad), "%s=%s", var, value);
        env[n++] = bad;
    }
    env[n] = NULL;
    status = run_main(env, err);
    cr_assert_eq(status, want, "%s=\"%s\": exit %d, stderr: %s", var,
                 value ? value : "(unset)", status, err);
    cr_assert_not_null(strstr(err, what), "%s=\"%s\": stderr does not name "
                       "%s: %s", var, value ? value : "(unset)", what, err);
}

/* A runtime of one worker for the environment cases. */
static void runtime(void)
{
    wh_runtime(1, NULL);
    integ_actors_setup();
}

Test(worker_main, started_by_hand_without_environment_prints_usage,
     .timeout = 60)
{
    char *argv[] = { NULL, NULL };
    char err[ERR_MAX];
    struct integ_proc p;

    argv[0] = (char *)wh_build_path("examples/pingpong");
    p = integ_run_exec(argv[0], argv, NULL);
    cr_assert_eq(integ_finish(&p, err, sizeof(err)), AIRSRT_EXIT_USAGE,
                 "stderr: %s", err);
    cr_assert_not_null(strstr(err, "--standalone"), "stderr: %s", err);
    /* It names the types the binary hosts. */
    cr_assert_not_null(strstr(err, "pinger"), "stderr: %s", err);
    cr_assert_not_null(strstr(err, "ponger"), "stderr: %s", err);
}

Test(worker_main, bad_airsrt_fd_exits_usage_naming_it, .timeout = 60)
{
    static const char *const bad[] = { "", "abc", "-1", "3x", " 3",
                                       "99999999999", NULL };

    runtime();
    for (size_t i = 0; bad[i] != NULL; i++)
        expect_refused(AIRSRT_ENV_FD, bad[i], AIRSRT_EXIT_USAGE,
                       AIRSRT_ENV_FD);
}

Test(worker_main, bad_airsrt_worker_exits_usage_naming_it, .timeout = 60)
{
    static const char *const bad[] = { "", "x", "-1", "0x1", "1024",
                                       "4294967296", NULL };

    runtime();
    expect_refused(AIRSRT_ENV_WORKER, NULL, AIRSRT_EXIT_USAGE,
                   AIRSRT_ENV_WORKER);
    for (size_t i = 0; bad[i] != NULL; i++)
        expect_refused(AIRSRT_ENV_WORKER, bad[i], AIRSRT_EXIT_USAGE,
                       AIRSRT_ENV_WORKER);
}

Test(worker_main, worker_index_past_the_runtime_exits_usage_naming_it,
     .timeout = 60)
{
    /* A valid index, but the runtime has one worker. */
    runtime();
    expect_refused(AIRSRT_ENV_WORKER, "1", AIRSRT_EXIT_USAGE,
                   AIRSRT_ENV_WORKER);
}

Test(worker_main, bad_airsrt_actors_exits_usage_naming_it, .timeout = 60)
{
    static const char *const bad[] = { "", ",", "counter=0,", "no type!",
                                       "counter@", "counter@a b",
                                       "counter=%zz", "counter=%2", NULL };

    runtime();
    expect_refused(AIRSRT_ENV_ACTORS, NULL, AIRSRT_EXIT_USAGE,
                   AIRSRT_ENV_ACTORS);
    for (size_t i = 0; bad[i] != NULL; i++)
        expect_refused(AIRSRT_ENV_ACTORS, bad[i], AIRSRT_EXIT_USAGE,
                       AIRSRT_ENV_ACTORS);
}

Test(worker_main, unknown_actor_type_exits_usage_naming_it, .timeout = 60)
{
    runtime();
    /* The type is well-formed; this binary just has none of that name. */
    expect_refused(AIRSRT_ENV_ACTORS, "counter=0,nosuch", AIRSRT_EXIT_USAGE,
                   "nosuch");
    expect_refused(AIRSRT_ENV_ACTORS, "counter=0,nosuch", AIRSRT_EXIT_USAGE,
                   AIRSRT_ENV_ACTORS);
    /* Refused before anything was started. */
    cr_assert_eq(atomic_load(&integ_report(0)->starts), 0);
}

Test(worker_main, bad_spin_or_heartbeat_exits_usage_naming_it, .timeout = 60)
{
    static const char *const spin[] = { "", "x", "-1", "1000001", "5us",
                                        NULL };
    static const char *const beat[] = { "", "0", "60001", "1.5", NULL };

    runtime();
    for (size_t i = 0; spin[i] != NULL; i++)
        expect_refused(AIRSRT_ENV_SPIN_US, spin[i], AIRSRT_EXIT_USAGE,
                       AIRSRT_ENV_SPIN_US);
    for (size_t i = 0; beat[i] != NULL; i++)
        expect_refused(AIRSRT_ENV_HEARTBEAT_MS, beat[i], AIRSRT_EXIT_USAGE,
                       AIRSRT_ENV_HEARTBEAT_MS);
}

Test(worker_main, fd_that_is_not_a_segment_exits_system, .timeout = 60)
{
    char value[3][16];
    int null_fd, pipe_fds[2], unused_fd;

    runtime();
    null_fd = open("/dev/null", O_RDWR);
    cr_assert_geq(null_fd, 0);
    harness_pipe(pipe_fds);
    /* A descriptor number nobody has open, nor will: descriptors are
     * handed out lowest first, and this test opens a handful. */
    unused_fd = fcntl(null_fd, F_DUPFD, 900);
    cr_assert_geq(unused_fd, 0);
    close(unused_fd);
    snprintf(value[0], sizeof(value[0]), "%d", null_fd);
    snprintf(value[1], sizeof(value[1]), "%d", pipe_fds[0]);
    snprintf(value[2], sizeof(value[2]), "%d", unused_fd);
    for (size_t i = 0; i < 3; i++)
        expect_refused(AIRSRT_ENV_FD, value[i], AIRSRT_EXIT_SYSTEM,
                       "integ-worker: ");
    close(null_fd);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

Test(worker_main, listed_actor_whose_pre_start_fails_exits_start_failed,
     .timeout = 60)
{
    runtime();
    expect_refused(AIRSRT_ENV_ACTORS, "counter=0,failing",
                   AIRSRT_EXIT_START_FAILED, "failing");
    /* The actor started before it was stopped in order. */
    cr_assert_eq(atomic_load(&integ_report(0)->starts), 1);
    cr_assert_eq(atomic_load(&integ_report(0)->post_stops), 1);
}

Test(worker_main, failure_escalated_past_the_top_exits_escalated,
     .timeout = 60)
{
    runtime();
    expect_refused(AIRSRT_ENV_ACTORS, "counter=0,escalator",
                   AIRSRT_EXIT_ESCALATED, "escalated");
    cr_assert_eq(atomic_load(&integ_report(0)->post_stops), 1);
    cr_assert_eq(atomic_load(&integ_self(0)->actor_failures), 1);
}

Test(worker_main, worker_whose_actors_all_stop_exits_zero, .timeout = 60)
{
    char err[ERR_MAX];
    const char *env[] = { NULL, "AIRSRT_WORKER=0",
                          "AIRSRT_ACTORS=quitter,quitter,quitter", NULL };

    runtime();
    env[0] = integ_env_fd();
    cr_assert_eq(run_main(env, err), AIRSRT_EXIT_OK, "stderr: %s", err);
    cr_assert_eq(atomic_load(&integ_self(0)->actors_spawned), 3);
    cr_assert_eq(atomic_load(&integ_self(0)->actors_alive), 0);
    cr_assert_eq(err[0], '\0', "stderr: %s", err);
}

/* ---- --standalone ---- */

/* The segment a standalone run makes: removed by the fini below if the
 * test fails before the worker removed it itself. */
static char standalone_path[AIRSRT_SHM_PATH_MAX + 1];

static void standalone_fini(void)
{
    harness_fini();
    if (standalone_path[0] != '\0')
        shm_unlink(standalone_path);
}

static void expect_no_segment(void)
{
    char dev[sizeof(standalone_path) + 16];

    snprintf(dev, sizeof(dev), "/dev/shm%s", standalone_path);
    cr_assert_neq(access(dev, F_OK), 0, "%s left behind", dev);
    cr_assert_eq(errno, ENOENT);
}

Test(worker_main, standalone_pingpong_runs_to_the_end_and_removes_runtime,
     .timeout = 60, .fini = standalone_fini)
{
    char *argv[] = { NULL, "--standalone", "ponger@pong", "pinger=1000",
                     NULL };
    char err[ERR_MAX];
    struct integ_proc p;

    argv[0] = (char *)wh_build_path("examples/pingpong");
    p = integ_run_exec(argv[0], argv, NULL);
    /* Its runtime is named after the program and its pid. */
    snprintf(standalone_path, sizeof(standalone_path),
             "/airsrt.pingpong-%d", (int)p.pid);
    cr_assert_eq(integ_finish(&p, err, sizeof(err)), AIRSRT_EXIT_OK,
                 "stderr: %s", err);
    expect_no_segment();
}

Test(worker_main, standalone_without_actors_exits_usage, .timeout = 60)
{
    char *argv[] = { NULL, "--standalone", NULL };
    char err[ERR_MAX];
    struct integ_proc p;

    argv[0] = (char *)wh_build_path("examples/pingpong");
    p = integ_run_exec(argv[0], argv, NULL);
    cr_assert_eq(integ_finish(&p, err, sizeof(err)), AIRSRT_EXIT_USAGE,
                 "stderr: %s", err);
    cr_assert_not_null(strstr(err, "ACTOR"), "stderr: %s", err);
}

/* True once the standalone runtime name is attached in shm and its worker
 * runs, its actors started (its SIGTERM handler is in place by then). */
static bool is_running(struct airsrt_shm *shm, const char *name)
{
    if (shm->base == NULL && airsrt_shm_attach(shm, name) < 0)
        return false;
    return atomic_load(&airsrt_shm_worker_self(shm, 0)->state) ==
           AIRSRT_WORKER_RUNNING;
}

Test(worker_main, standalone_stopped_by_sigterm_while_idle_removes_runtime,
     .timeout = 60, .fini = standalone_fini)
{
    char name[AIRSRT_RUNTIME_NAME_MAX + 1];
    char *argv[] = { NULL, "--standalone", "--runtime", name, "ponger@pong",
                     NULL };
    struct airsrt_shm shm = { .fd = -1 };
    char err[ERR_MAX];
    struct integ_proc p;

    snprintf(name, sizeof(name), "%s", harness_name("standalone"));
    snprintf(standalone_path, sizeof(standalone_path), "/airsrt.%s", name);
    argv[0] = (char *)wh_build_path("examples/pingpong");
    p = integ_run_exec(argv[0], argv, NULL);
    INTEG_AWAIT(is_running(&shm, name));
    /* Nothing to do: it sleeps on its doorbell, and the signal must end
     * that wait. */
    INTEG_AWAIT(atomic_load(&airsrt_shm_doorbell(&shm, 0)->is_sleeping) ==
                1);
    cr_assert_eq(kill(p.pid, SIGTERM), 0);
    cr_assert_eq(integ_finish(&p, err, sizeof(err)), AIRSRT_EXIT_OK,
                 "stderr: %s", err);
    cr_assert_eq(atomic_load(&airsrt_shm_worker_self(&shm, 0)->state),
                 AIRSRT_WORKER_STOPPED);
    airsrt_shm_detach(&shm);
    expect_no_segment();
}
