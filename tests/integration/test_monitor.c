/*
 * tests/integration/test_monitor.c - monitors across real worker
 * processes: a watcher in worker 0 watches targets in worker 1 and gets
 * DOWN NORMAL, FAILED or NO_ACTOR from there; a WORKER_DOWN announcement
 * (pushed by the test, as the supervisor does) gives WORKER_DIED once,
 * and the target's own DOWN that comes after it is dropped; a watcher
 * that stops tells the target's worker to forget it; and a real system
 * (airsrt-run, kill -9 of the target's worker) gives WORKER_DIED.
 *
 * The test drives the actors through their workers' control rings
 * (struct mcmd). The watcher does the sends that must be ordered after
 * its MONITOR (stop, fail, ping), so that they travel the same ring
 * behind it. Actors report in shared memory (struct mreport).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/integ_worker.h"
#include "tests/lib/run_harness.h"

TestSuite(monitor_remote, .fini = harness_fini);

#define REPORTS   6u
#define MAX_DOWNS 8u

enum { WATCHER = 0, TARGET = 1, PINGER = 2, WATCHER2 = 3 };

enum mop {
    OP_WATCH = 1,   /* airsrt_monitor(to) */
    OP_STOP,        /* airsrt_stop(to) */
    OP_FAIL,        /* send to a T_FAIL */
    OP_PING,        /* send to a T_PING */
};

AIRSRT_MESSAGE(mcmd, 0x6d000001, {
    uint32_t op;
    uint32_t reserved;
    struct airsrt_address to;
});
enum { T_FAIL = 0x6d000002, T_PING = 0x6d000003 };

struct mreport {
    struct airsrt_address self;
    _Atomic uint32_t starts;            /* publishes self */
    _Atomic uint32_t post_stops;
    _Atomic uint32_t commands;          /* mcmd handled */
    _Atomic int32_t last_rc;            /* of the last command */
    uint64_t refs[MAX_DOWNS];
    _Atomic uint32_t nrefs;             /* publishes refs */
    struct airsrt_down downs[MAX_DOWNS];
    uint64_t down_ref[MAX_DOWNS];
    _Atomic uint32_t ndowns;            /* publishes downs, down_ref */
    _Atomic uint64_t pings;
    _Atomic uint64_t dropped;           /* its worker's mon_dropped, as
                                           of its last envelope */
};

static struct mreport *R;

static void setup(void)
{
    R = wh_shared(REPORTS * sizeof(*R));
}

/* ---- the actors, run in the forked workers ---- */

static int m_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                   size_t len)
{
    char text[8] = { 0 };
    unsigned long i;

    (void)state;
    if (len == 0 || len >= sizeof(text))
        return -EINVAL;
    memcpy(text, arg, len);
    i = strtoul(text, NULL, 10);
    if (i >= REPORTS)
        return -EINVAL;
    *(uint32_t *)state = (uint32_t)i;
    R[i].self = *airsrt_self(ctx);
    atomic_fetch_add(&R[i].starts, 1);
    return 0;
}

static int run_cmd(struct airsrt_ctx *ctx, struct mreport *r,
                   const struct mcmd *c)
{
    uint64_t ref;
    int rc;

    switch (c->op) {
    case OP_WATCH:
        rc = airsrt_monitor(ctx, &c->to, &ref);
        if (rc == 0) {
            r->refs[atomic_load(&r->nrefs)] = ref;
            atomic_fetch_add(&r->nrefs, 1);
        }
        return rc;
    case OP_STOP:
        return airsrt_stop(ctx, &c->to);
    case OP_FAIL:
        return airsrt_send(ctx, &c->to, T_FAIL, NULL, 0);
    case OP_PING:
        return airsrt_send(ctx, &c->to, T_PING, NULL, 0);
    default:
        return -EINVAL;
    }
}

static void take_down(struct mreport *r, const struct airsrt_envelope *env)
{
    const struct airsrt_down *d = airsrt_down_get(env);
    uint32_t n = atomic_load(&r->ndowns);

    if (d == NULL || n >= MAX_DOWNS)
        return;
    r->downs[n] = *d;
    r->down_ref[n] = env->correlation_id;
    atomic_store(&r->ndowns, n + 1);
}

static int m_handle(struct airsrt_ctx *ctx, void *state,
                    const struct airsrt_envelope *env)
{
    struct mreport *r = &R[*(uint32_t *)state];
    const struct mcmd *c = airsrt_msg_get(env, mcmd);
    int rc = 0;

    if (c != NULL) {
        atomic_store(&r->last_rc, run_cmd(ctx, r, c));
        atomic_fetch_add(&r->commands, 1);
    } else if (env->type == AIRSRT_MSG_DOWN) {
        take_down(r, env);
    } else if (env->type == T_PING) {
        atomic_fetch_add(&r->pings, 1);
    } else if (env->type == T_FAIL) {
        rc = -EIO;
    }
    /* The test may read our process's counter only through us. */
    atomic_store(&r->dropped, ctx->w->mon_dropped);
    return rc;
}

static void m_stop(struct airsrt_ctx *ctx, void *state)
{
    (void)ctx;
    atomic_fetch_add(&R[*(uint32_t *)state].post_stops, 1);
}

static enum airsrt_directive m_on_error(struct airsrt_ctx *ctx, void *state,
                                        const struct airsrt_failure *f)
{
    (void)ctx, (void)state, (void)f;
    return AIRSRT_STOP;
}

static const struct airsrt_actor_type mactor = {
    .name = "m", .state_size = sizeof(uint32_t), .pre_start = m_start,
    .handle = m_handle, .post_stop = m_stop, .on_error = m_on_error };

static const struct airsrt_actor_type *const types[] = { &mactor, NULL };

/* ---- the test's side ---- */

static struct airsrt_address await_started(uint32_t i)
{
    INTEG_AWAIT(atomic_load(&R[i].starts) >= 1);
    return R[i].self;
}

/* Has actor i (in worker w) run cmd, and returns what it returned. */
static int command(uint32_t w, uint32_t i, uint32_t op,
                   const struct airsrt_address *to)
{
    struct mcmd c = { .op = op, .to = *to };
    uint32_t before = atomic_load(&R[i].commands);

    integ_ctl_send(w, &R[i].self, mcmd_type, &c, sizeof(c));
    INTEG_AWAIT(atomic_load(&R[i].commands) == before + 1);
    return atomic_load(&R[i].last_rc);
}

static void expect_down(uint32_t i, uint32_t n, const struct airsrt_address *t,
                        uint64_t ref, uint32_t reason, int32_t err)
{
    const struct mreport *r = &R[i];

    cr_assert_lt(n, atomic_load(&r->ndowns));
    cr_assert(airsrt_address_equal(&r->downs[n].target, t));
    cr_assert_eq(r->down_ref[n], ref);
    cr_assert_eq(r->downs[n].reason, reason, "reason %s, wanted %s",
                 airsrt_down_reason_name(r->downs[n].reason),
                 airsrt_down_reason_name(reason));
    cr_assert_eq(r->downs[n].err, err);
}

/* Worker 0: the watcher (and a second one); worker 1: the target and a
 * pinger. Returns their pids. */
static void start_two(pid_t pids[2])
{
    wh_runtime(2, NULL);
    setup();
    pids[0] = wh_fork_worker(0, types, "m=0,m=3");
    pids[1] = wh_fork_worker(1, types, "m=1,m=2");
    for (uint32_t i = 0; i < 4; i++)
        await_started(i);
}

static void stop_two(pid_t pids[2])
{
    integ_ctl_shutdown(0);
    integ_ctl_shutdown(1);
    cr_assert_eq(integ_exit_status(pids[0]), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pids[1]), AIRSRT_EXIT_OK);
}

/* The watcher's worker has taken every envelope worker 1 sent it up to
 * now: the pinger's ping travels behind them on the same ring. */
static void sync_from_target_worker(uint32_t to)
{
    uint64_t before = atomic_load(&R[to].pings);

    cr_assert_eq(command(1, PINGER, OP_PING, &R[to].self), 0);
    INTEG_AWAIT(atomic_load(&R[to].pings) == before + 1);
}

Test(monitor_remote, down_normal_when_target_in_other_worker_stops,
     .timeout = 60)
{
    struct airsrt_address t;
    pid_t pids[2];

    start_two(pids);
    t = R[TARGET].self;
    cr_assert_eq(command(0, WATCHER, OP_WATCH, &t), 0);
    cr_assert_eq(command(0, WATCHER, OP_STOP, &t), 0);
    INTEG_AWAIT(atomic_load(&R[WATCHER].ndowns) == 1);
    expect_down(WATCHER, 0, &t, R[WATCHER].refs[0], AIRSRT_DOWN_NORMAL, 0);
    sync_from_target_worker(WATCHER);
    cr_assert_eq(atomic_load(&R[WATCHER].ndowns), 1);
    cr_assert_eq(atomic_load(&R[WATCHER].dropped), 0);
    stop_two(pids);
}

Test(monitor_remote, down_failed_when_target_in_other_worker_fails,
     .timeout = 60)
{
    struct airsrt_address t;
    pid_t pids[2];

    start_two(pids);
    t = R[TARGET].self;
    cr_assert_eq(command(0, WATCHER, OP_WATCH, &t), 0);
    cr_assert_eq(command(0, WATCHER, OP_FAIL, &t), 0);
    INTEG_AWAIT(atomic_load(&R[WATCHER].ndowns) == 1);
    expect_down(WATCHER, 0, &t, R[WATCHER].refs[0], AIRSRT_DOWN_FAILED,
                -EIO);
    cr_assert_eq(atomic_load(&R[TARGET].post_stops), 1);
    stop_two(pids);
}

Test(monitor_remote, down_no_actor_when_target_in_other_worker_is_gone,
     .timeout = 60)
{
    struct airsrt_address t;
    pid_t pids[2];

    start_two(pids);
    t = R[TARGET].self;
    cr_assert_eq(command(0, WATCHER, OP_STOP, &t), 0);
    INTEG_AWAIT(atomic_load(&R[TARGET].post_stops) == 1);
    cr_assert_eq(command(0, WATCHER, OP_WATCH, &t), 0);
    INTEG_AWAIT(atomic_load(&R[WATCHER].ndowns) == 1);
    expect_down(WATCHER, 0, &t, R[WATCHER].refs[0], AIRSRT_DOWN_NO_ACTOR, 0);
    stop_two(pids);
}

Test(monitor_remote, worker_down_gives_worker_died_once_and_drops_late_down,
     .timeout = 60)
{
    struct airsrt_worker_down dn = { .worker = 1, .incarnation = 1,
                                     .status = -1, .signal = SIGKILL };
    struct airsrt_address t;
    pid_t pids[2];

    start_two(pids);
    t = R[TARGET].self;
    cr_assert_eq(command(0, WATCHER, OP_WATCH, &t), 0);
    /* The ping travels behind the MONITOR: once it is handled, the
     * target's worker watches t for us. */
    cr_assert_eq(command(0, WATCHER, OP_PING, &t), 0);
    INTEG_AWAIT(atomic_load(&R[TARGET].pings) == 1);

    /* The supervisor's announcement (worker 1 lives on: a race in which
     * the announcement comes first). */
    integ_ctl_send(0, NULL, AIRSRT_CTL_WORKER_DOWN, &dn, sizeof(dn));
    INTEG_AWAIT(atomic_load(&R[WATCHER].ndowns) == 1);
    expect_down(WATCHER, 0, &t, R[WATCHER].refs[0],
                AIRSRT_DOWN_WORKER_DIED, -SIGKILL);

    /* Then the target's own DOWN comes: dropped, not delivered. */
    cr_assert_eq(command(0, WATCHER, OP_STOP, &t), 0);
    INTEG_AWAIT(atomic_load(&R[TARGET].post_stops) == 1);
    sync_from_target_worker(WATCHER);
    cr_assert_eq(atomic_load(&R[WATCHER].ndowns), 1);
    cr_assert_eq(atomic_load(&R[WATCHER].dropped), 1);
    cr_assert_eq(integ_dead_letters_all(0), 0);
    stop_two(pids);
}

Test(monitor_remote, watcher_that_stops_makes_target_worker_forget_it,
     .timeout = 60)
{
    struct airsrt_address t;
    pid_t pids[2];

    start_two(pids);
    t = R[TARGET].self;
    cr_assert_eq(command(0, WATCHER, OP_WATCH, &t), 0);
    cr_assert_eq(command(0, WATCHER2, OP_STOP, &R[WATCHER].self), 0);
    INTEG_AWAIT(atomic_load(&R[WATCHER].post_stops) == 1);
    /* Its DEMONITOR went ahead of this stop, on the same ring. */
    cr_assert_eq(command(0, WATCHER2, OP_STOP, &t), 0);
    INTEG_AWAIT(atomic_load(&R[TARGET].post_stops) == 1);
    sync_from_target_worker(WATCHER2);
    /* No DOWN to the stale watcher: it would be a dead letter here. */
    cr_assert_eq(integ_dead_letters_all(0), 0);
    cr_assert_eq(atomic_load(&R[WATCHER2].dropped), 0);
    stop_two(pids);
}

Test(monitor_remote, worker_down_of_watcher_worker_purges_its_watchers,
     .timeout = 60)
{
    struct airsrt_worker_down dn = { .worker = 0, .incarnation = 1,
                                     .status = -1, .signal = SIGKILL };
    struct airsrt_address t;
    pid_t pids[2];

    start_two(pids);
    t = R[TARGET].self;
    cr_assert_eq(command(0, WATCHER, OP_WATCH, &t), 0);
    cr_assert_eq(command(0, WATCHER, OP_PING, &t), 0);
    INTEG_AWAIT(atomic_load(&R[TARGET].pings) == 1);
    /* Worker 1 hears that worker 0 died (it did not: the watcher lives
     * on to show that no DOWN is sent after the purge). */
    integ_ctl_send(1, NULL, AIRSRT_CTL_WORKER_DOWN, &dn, sizeof(dn));
    /* The pinger's command comes after the announcement on the same
     * control ring; its stop of t after that. */
    cr_assert_eq(command(1, PINGER, OP_STOP, &t), 0);
    INTEG_AWAIT(atomic_load(&R[TARGET].post_stops) == 1);
    sync_from_target_worker(WATCHER);
    cr_assert_eq(atomic_load(&R[WATCHER].ndowns), 0);
    cr_assert_eq(atomic_load(&R[WATCHER].dropped), 0);
    cr_assert_eq(integ_dead_letters_all(0), 0);
    stop_two(pids);
}

/* ---- a real system ---- */

/* Lines of the watcher's file that contain what (NULL: all). */
static int lines_with(const char *path, const char *what)
{
    char buf[256];
    int n = 0;
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return 0;
    while (fgets(buf, sizeof(buf), f) != NULL)
        n += what == NULL || strstr(buf, what) != NULL;
    fclose(f);
    return n;
}

Test(monitor_remote, kill_9_of_target_worker_gives_worker_died,
     .timeout = 90, .fini = rh_fini)
{
    char body[1024], path[512], line[1024];
    const char *bin = wh_build_path("tests/bin/monitor_worker");
    pid_t victim;

    snprintf(body, sizeof(body),
             "[supervisor top]\nmax_restarts = 10\n"
             "[worker t]\nbinary = %s\nactor = target@victim\n"
             "[worker w]\nbinary = %s\n"
             "actor = watcher=victim:{DIR}/downs\n", bin, bin);
    rh_start(NULL, body);
    snprintf(path, sizeof(path), "%s/downs", rh.dir);
    INTEG_AWAIT(lines_with(path, "watching") == 1);
    victim = rh_worker_pid(0);
    cr_assert_gt(victim, 0);
    cr_assert_eq(kill(victim, SIGKILL), 0);
    INTEG_AWAIT(lines_with(path, "down") == 1);
    cr_assert_eq(lines_with(path, "down worker_died -9 1"), 1);
    /* Its next incarnation takes the MONITOR if it was still in the
     * ring and answers NO_ACTOR: dropped, the watcher heard once. */
    rh_wait_event(line, sizeof(line), 20000, 1,
                  "\"event\":\"worker_restarted\"", "\"worker\":\"t[0]\"",
                  NULL);
    cr_assert_eq(rh_stop(SIGTERM), 0);
    cr_assert_eq(lines_with(path, "down"), 1);
}
