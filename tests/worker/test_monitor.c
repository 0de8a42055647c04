/*
 * tests/worker/test_monitor.c - monitors in one in-process worker: the
 * DOWN a watcher gets when the actor it watches stops (also with its
 * parent), fails (also by escalation), or does not exist, and the DOWNs
 * it must not get (after demonitor, after a restart, after it stopped
 * itself), each monitor's DOWN exactly once; the errors of the API; a
 * WORKER_DOWN announcement for a worker that never answered.
 *
 * The watcher is told what to do by envelopes from the test (the worker's
 * root context): watch an address, forget a ref. What it sees goes to the
 * event log and to the statics below.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tests/lib/integ_worker.h"
#include "tests/lib/unit_worker.h"

TestSuite(monitor, .fini = harness_fini);

enum { EV_DOWN = 1, EV_HANDLE, EV_MONITOR_RC };

/* To the watcher: watch the address in the payload; forget the ref in
 * the payload. To the target: fail. */
enum { T_WATCH = 1, T_UNWATCH, T_FAIL, T_OK };

#define MAX_DOWNS 16

static struct {
    uint64_t refs[MAX_DOWNS];           /* by T_WATCH, in order */
    uint32_t nrefs;
    int demonitor_rc;
    struct airsrt_down downs[MAX_DOWNS];
    struct airsrt_envelope hdr[MAX_DOWNS];
    uint32_t ndowns;
    bool is_in_monitor;                 /* inside airsrt_monitor() */
    bool was_reentered;                 /* a DOWN came during it */
} S;

static enum airsrt_directive target_directive = AIRSRT_STOP;

static void record_down(const struct airsrt_envelope *env)
{
    const struct airsrt_down *d = airsrt_down_get(env);

    cr_assert_not_null(d, "a DOWN of %u bytes", env->payload_len);
    if (S.is_in_monitor)
        S.was_reentered = true;
    /* Counts them all; keeps the first few. */
    if (S.ndowns < MAX_DOWNS) {
        S.downs[S.ndowns] = *d;
        S.hdr[S.ndowns] = *env;
        unit_log(EV_DOWN, d->reason, env->correlation_id);
    }
    S.ndowns++;
}

static int watcher_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    struct airsrt_address to;
    uint64_t ref;
    int rc;

    (void)state;
    switch (env->type) {
    case AIRSRT_MSG_DOWN:
        record_down(env);
        return 0;
    case T_WATCH:
        memcpy(&to, env->payload, sizeof(to));
        S.is_in_monitor = true;
        rc = airsrt_monitor(ctx, &to, &ref);
        S.is_in_monitor = false;
        unit_log(EV_MONITOR_RC, 0, (uint64_t)(int64_t)rc);
        if (rc == 0)
            S.refs[S.nrefs++] = ref;
        return 0;
    case T_UNWATCH:
        memcpy(&ref, env->payload, sizeof(ref));
        S.demonitor_rc = airsrt_demonitor(ctx, ref);
        return 0;
    default:
        unit_log(EV_HANDLE, 0, env->type);
        return 0;
    }
}

static const struct airsrt_actor_type watcher = {
    .name = "watcher", .handle = watcher_handle };

static int target_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    unit_log(EV_HANDLE, 1, env->type);
    return env->type == T_FAIL ? -EIO : 0;
}

static enum airsrt_directive target_on_error(struct airsrt_ctx *ctx,
                                             void *state,
                                             const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    (void)f;
    return target_directive;
}

static const struct airsrt_actor_type target = {
    .name = "target", .handle = target_handle,
    .on_error = target_on_error };

/* A parent of one target; keeps going whatever its child does. */
static struct airsrt_address boss_child;

static int boss_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                      size_t len)
{
    (void)state;
    (void)arg;
    (void)len;
    return airsrt_spawn(ctx, &target, NULL, &boss_child);
}

static enum airsrt_directive boss_on_error(struct airsrt_ctx *ctx,
                                           void *state,
                                           const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    (void)f;
    return AIRSRT_RESUME;
}

static const struct airsrt_actor_type boss = {
    .name = "boss", .pre_start = boss_start, .handle = target_handle,
    .on_error = boss_on_error };

static const struct airsrt_actor_type *const types[] = {
    &watcher, &target, &boss, NULL };

static void send(const struct airsrt_address *to, uint32_t type,
                 const void *payload, uint32_t len)
{
    cr_assert_eq(airsrt_send(unit_ctx(), to, type, payload, len), 0);
}

/* The watcher at w watches t; returns the ref it got. */
static uint64_t watch(const struct airsrt_address *w,
                      const struct airsrt_address *t)
{
    uint32_t before = S.nrefs;

    send(w, T_WATCH, t, sizeof(*t));
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.nrefs, before + 1, "airsrt_monitor failed");
    return S.refs[before];
}

static void expect_down(uint32_t i, const struct airsrt_address *t,
                        uint64_t ref, uint32_t reason, int32_t err)
{
    cr_assert_lt(i, S.ndowns);
    cr_assert(airsrt_address_equal(&S.downs[i].target, t));
    cr_assert(airsrt_address_equal(&S.hdr[i].sender, t));
    cr_assert_eq(S.hdr[i].correlation_id, ref);
    cr_assert_eq(S.hdr[i].priority, AIRSRT_PRIO_SYSTEM);
    cr_assert_eq(S.downs[i].reason, reason, "reason %s, wanted %s",
                 airsrt_down_reason_name(S.downs[i].reason),
                 airsrt_down_reason_name(reason));
    cr_assert_eq(S.downs[i].err, err);
}

/* A watcher and a target, both top-level. */
static void start_pair(struct airsrt_address *w, struct airsrt_address *t)
{
    unit_open(types, 0, NULL);
    *w = unit_spawn(unit_ctx(), &watcher, NULL);
    *t = unit_spawn(unit_ctx(), &target, NULL);
}

Test(monitor, down_normal_once_when_target_stops)
{
    struct airsrt_address w, t;
    uint64_t ref;

    start_pair(&w, &t);
    ref = watch(&w, &t);
    cr_assert_neq(ref, 0);
    cr_assert_eq(S.ndowns, 0);
    cr_assert_eq(airsrt_stop(unit_ctx(), &t), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.ndowns, 1);
    expect_down(0, &t, ref, AIRSRT_DOWN_NORMAL, 0);
    /* Fired: nothing left to forget, and nothing more comes. */
    send(&w, T_UNWATCH, &ref, sizeof(ref));
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.demonitor_rc, -ENOENT);
    cr_assert_eq(S.ndowns, 1);
    cr_assert(RB_EMPTY(&unit_w->mon_refs));
    cr_assert_eq(unit_w->mon_dropped, 0);
    unit_close();
}

Test(monitor, down_failed_with_error_when_handle_fails_and_stop_directive)
{
    struct airsrt_address w, t;
    uint64_t ref;

    target_directive = AIRSRT_STOP;
    start_pair(&w, &t);
    ref = watch(&w, &t);
    send(&t, T_FAIL, NULL, 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_state(&t), AIRSRT_ACTOR_FAILED);
    cr_assert_eq(S.ndowns, 1);
    expect_down(0, &t, ref, AIRSRT_DOWN_FAILED, -EIO);
    unit_close();
}

Test(monitor, down_failed_when_target_escalates_and_its_parent_resumes)
{
    struct airsrt_address w, b;
    uint64_t ref;

    target_directive = AIRSRT_ESCALATE;
    unit_open(types, 0, NULL);
    w = unit_spawn(unit_ctx(), &watcher, NULL);
    b = unit_spawn(unit_ctx(), &boss, NULL);
    ref = watch(&w, &boss_child);
    send(&boss_child, T_FAIL, NULL, 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_state(&b), AIRSRT_ACTOR_RUNNING);
    cr_assert_eq(S.ndowns, 1);
    expect_down(0, &boss_child, ref, AIRSRT_DOWN_FAILED, -EIO);
    unit_close();
}

Test(monitor, down_normal_when_target_stops_with_its_parent)
{
    struct airsrt_address w, b;
    uint64_t ref;

    unit_open(types, 0, NULL);
    w = unit_spawn(unit_ctx(), &watcher, NULL);
    b = unit_spawn(unit_ctx(), &boss, NULL);
    ref = watch(&w, &boss_child);
    cr_assert_eq(airsrt_stop(unit_ctx(), &b), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.ndowns, 1);
    expect_down(0, &boss_child, ref, AIRSRT_DOWN_NORMAL, 0);
    unit_close();
}

Test(monitor, down_no_actor_as_envelope_when_target_is_stale)
{
    struct airsrt_address w, t;
    uint64_t ref;

    start_pair(&w, &t);
    cr_assert_eq(airsrt_stop(unit_ctx(), &t), 0);
    cr_assert_eq(unit_settle(), -1);
    ref = watch(&w, &t);
    cr_assert_eq(S.ndowns, 1);
    cr_assert_not(S.was_reentered, "DOWN handled inside airsrt_monitor");
    expect_down(0, &t, ref, AIRSRT_DOWN_NO_ACTOR, 0);
    cr_assert(RB_EMPTY(&unit_w->mon_refs));
    unit_close();
}

Test(monitor, no_down_when_demonitored_before_stop)
{
    struct airsrt_address w, t;
    uint64_t ref;

    start_pair(&w, &t);
    ref = watch(&w, &t);
    send(&w, T_UNWATCH, &ref, sizeof(ref));
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.demonitor_rc, 0);
    cr_assert_eq(airsrt_stop(unit_ctx(), &t), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.ndowns, 0);
    send(&w, T_UNWATCH, &ref, sizeof(ref));
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.demonitor_rc, -ENOENT);
    cr_assert_eq(unit_dead(AIRSRT_DL_STALE), 0);
    unit_close();
}

Test(monitor, no_down_on_restart_directive_then_one_at_stop)
{
    struct airsrt_address w, t;
    uint64_t ref;

    target_directive = AIRSRT_RESTART;
    start_pair(&w, &t);
    ref = watch(&w, &t);
    send(&t, T_FAIL, NULL, 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_stats(&t)->restarts, 1);
    cr_assert_eq(S.ndowns, 0);
    /* The monitor outlived the restart: same address, same watchers. */
    cr_assert_eq(airsrt_stop(unit_ctx(), &t), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.ndowns, 1);
    expect_down(0, &t, ref, AIRSRT_DOWN_NORMAL, 0);
    unit_close();
}

Test(monitor, each_monitor_gets_exactly_one_down_when_watched_many_times)
{
    struct airsrt_address w, w2, t;
    uint64_t refs[3];

    start_pair(&w, &t);
    w2 = unit_spawn(unit_ctx(), &watcher, NULL);
    refs[0] = watch(&w, &t);
    refs[1] = watch(&w, &t);
    refs[2] = watch(&w2, &t);
    cr_assert_neq(refs[0], refs[1]);
    cr_assert_neq(refs[1], refs[2]);
    cr_assert_eq(airsrt_stop(unit_ctx(), &t), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.ndowns, 3);
    cr_assert_eq(unit_log_count(EV_DOWN, AIRSRT_DOWN_NORMAL), 3);
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t seen = 0;

        for (uint32_t j = 0; j < S.ndowns; j++)
            seen += S.hdr[j].correlation_id == refs[i];
        cr_assert_eq(seen, 1, "ref %u DOWN %u times", i, seen);
    }
    cr_assert(RB_EMPTY(&unit_w->mon_refs));
    unit_close();
}

Test(monitor, watcher_that_stops_drops_its_monitors)
{
    struct airsrt_address w, w2, t;

    start_pair(&w, &t);
    w2 = unit_spawn(unit_ctx(), &watcher, NULL);
    watch(&w, &t);
    watch(&w, &w);      /* itself, too */
    cr_assert_eq(airsrt_stop(unit_ctx(), &w), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert(RB_EMPTY(&unit_w->mon_refs));
    cr_assert_eq(S.ndowns, 0);
    cr_assert_eq(airsrt_stop(unit_ctx(), &t), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.ndowns, 0);
    cr_assert_eq(unit_w->mon_dropped, 0);
    cr_assert_eq(unit_dead(AIRSRT_DL_STOPPED) + unit_dead(AIRSRT_DL_STALE),
                 0);
    (void)w2;
    unit_close();
}

Test(monitor, down_queued_for_a_watcher_that_stops_too_is_a_dead_letter)
{
    struct airsrt_address w, t;

    start_pair(&w, &t);
    watch(&w, &t);
    /* Shutdown stops the younger target first: its DOWN is queued for
     * the watcher, which then stops before it handles anything. */
    airsrt__worker_shutdown(unit_w, AIRSRT_EXIT_OK);
    cr_assert_eq(wh_poll_until(unit_w, NULL, NULL, UNIT_SETTLE_MS),
                 AIRSRT_EXIT_OK);
    cr_assert_eq(S.ndowns, 0);
    cr_assert_eq(unit_dead(AIRSRT_DL_STOPPED), 1);
    cr_assert(RB_EMPTY(&unit_w->mon_refs));
    unit_close();
}

Test(monitor, api_refuses_bad_calls)
{
    struct airsrt_address w, t, far;
    uint64_t ref;

    start_pair(&w, &t);
    cr_assert_eq(airsrt_monitor(unit_ctx(), &t, &ref), -EINVAL);
    cr_assert_eq(airsrt_demonitor(unit_ctx(), 1), -ENOENT);
    far = t;
    far.node = 2;
    struct airsrt_ctx ctx = unit_actor_ctx(&w);

    cr_assert_eq(airsrt_monitor(&ctx, &far, &ref), -EHOSTUNREACH);
    cr_assert_eq(airsrt_monitor(&ctx, &AIRSRT_ADDRESS_NULL, &ref), -EINVAL);
    cr_assert_eq(airsrt_monitor(&ctx, &t, NULL), -EINVAL);
    far = t;
    far.worker = 5;
    cr_assert_eq(airsrt_monitor(&ctx, &far, &ref), -EINVAL);
    cr_assert_eq(airsrt_demonitor(&ctx, 12345), -ENOENT);
    cr_assert(RB_EMPTY(&unit_w->mon_refs));
    unit_close();
}

Test(monitor, monitor_returns_enospc_past_the_watchers_bound)
{
    struct airsrt_address w, t;
    struct airsrt_ctx ctx;
    uint64_t ref;

    start_pair(&w, &t);
    ctx = unit_actor_ctx(&w);
    for (uint32_t i = 0; i < AIRSRT_MONITOR_WATCHERS_MAX; i++)
        cr_assert_eq(airsrt_monitor(&ctx, &t, &ref), 0, "monitor %u", i);
    cr_assert_eq(airsrt_monitor(&ctx, &t, &ref), -ENOSPC);
    cr_assert_eq(ref, 0);
    /* The refused one left nothing behind; the others still fire. */
    cr_assert_eq(airsrt_stop(unit_ctx(), &t), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.ndowns, AIRSRT_MONITOR_WATCHERS_MAX);
    cr_assert(RB_EMPTY(&unit_w->mon_refs));
    unit_close();
}

Test(monitor, demonitor_refuses_another_actors_ref)
{
    struct airsrt_address w, w2, t;
    uint64_t ref;

    start_pair(&w, &t);
    w2 = unit_spawn(unit_ctx(), &watcher, NULL);
    ref = watch(&w, &t);
    send(&w2, T_UNWATCH, &ref, sizeof(ref));
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.demonitor_rc, -ENOENT);
    cr_assert_eq(airsrt_stop(unit_ctx(), &t), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.ndowns, 1);
    expect_down(0, &t, ref, AIRSRT_DOWN_NORMAL, 0);
    unit_close();
}

Test(monitor, reason_names)
{
    cr_assert_str_eq(airsrt_down_reason_name(AIRSRT_DOWN_NORMAL), "normal");
    cr_assert_str_eq(airsrt_down_reason_name(AIRSRT_DOWN_FAILED), "failed");
    cr_assert_str_eq(airsrt_down_reason_name(AIRSRT_DOWN_NO_ACTOR),
                     "no_actor");
    cr_assert_str_eq(airsrt_down_reason_name(AIRSRT_DOWN_WORKER_DIED),
                     "worker_died");
    cr_assert_str_eq(airsrt_down_reason_name(AIRSRT_DOWN_REASONS),
                     "unknown");
}

/* ---- another worker that never answers ---- */

static bool has_downs(void *arg)
{
    return S.ndowns >= *(uint32_t *)arg;
}

Test(monitor, worker_down_fires_worker_died_once_for_its_incarnation,
     .timeout = 30)
{
    struct airsrt_address w, far = { 0, 1, 1, 5, 1 }, later = far;
    struct airsrt_worker_down dn = { .worker = 1, .incarnation = 1,
                                     .status = -1, .signal = 9 };
    uint32_t want = 1;
    uint64_t ref;

    wh_runtime(2, NULL);
    unit_w = wh_open(0, types, NULL);
    w = unit_spawn(unit_ctx(), &watcher, NULL);
    later.incarnation = 2;
    send(&w, T_WATCH, &far, sizeof(far));
    send(&w, T_WATCH, &later, sizeof(later));
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.nrefs, 2);
    ref = S.refs[0];
    /* The announcement, as the supervisor pushes it. */
    integ_ctl_send(0, NULL, AIRSRT_CTL_WORKER_DOWN, &dn, sizeof(dn));
    wh_poll_until(unit_w, has_downs, &want, 20000);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.ndowns, 1, "incarnation 2 is not dead");
    expect_down(0, &far, ref, AIRSRT_DOWN_WORKER_DIED, -9);
    /* A monitor of the dead incarnation set now fires at once. */
    send(&w, T_WATCH, &far, sizeof(far));
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(S.ndowns, 2);
    expect_down(1, &far, S.refs[2], AIRSRT_DOWN_WORKER_DIED, -9);
    wh_close(unit_w);
    unit_w = NULL;
}
