/*
 * tests/worker/test_actor.c - the actor API in one in-process worker:
 * state and spawn argument at pre_start, the order of the hooks and the
 * lifecycle states tools see, what each on_error directive does, pre_start
 * failures, spawn options and errors, calls from inside handle, stopping
 * (self, trees, the last actor), typed messages (including what must not
 * compile) and the per-actor and per-worker counters.
 *
 * Actors record what they see in the event log (tests/lib/unit_worker.h);
 * a test drives the worker from outside with its root context and asserts
 * the log and the shared counters.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/unit_worker.h"

TestSuite(actor, .fini = harness_fini);

/* What the log records (unit_event.what). */
enum {
    EV_PRE = 1,     /* pre_start: who slot, value 1 if the state was zero */
    EV_PRE_STATE,   /* pre_start: value the lifecycle state it saw */
    EV_PRE_GEN,     /* pre_start: value the generation of its address */
    EV_HANDLE,      /* handle: value the sequence number */
    EV_HSTATE,      /* handle: value the lifecycle state it saw */
    EV_COUNT,       /* handle: value the state's counter after ++ */
    EV_POST,        /* post_stop: who slot (or tree id) */
    EV_POST_STATE,  /* post_stop: value the lifecycle state it saw */
    EV_ERROR,       /* on_error: value the failure's where */
};

/* Message types of the tests. */
enum { T_OK = 1, T_FAIL = 2, T_GO = 3, T_ASK = 4, T_ANSWER = 5 };

#define STATE_BYTES 512u

static bool is_zero(const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

static uint8_t state_of(struct airsrt_ctx *ctx)
{
    return atomic_load(&unit_stats(airsrt_self(ctx))->state);
}

/* ---- bee: an actor that does what the test says ---- */

struct bee {
    uint64_t count;
    uint8_t scribble[STATE_BYTES - sizeof(uint64_t)];
};

static enum airsrt_directive bee_directive = AIRSRT_RESTART;
static int bee_pre_calls;
static int bee_pre_fail_at;         /* pre_start call that fails; 0 never */
static int bee_pre_err = -EPERM;
static struct airsrt_address bee_pre_self;
static struct airsrt_failure bee_failure;
static uint64_t bee_failure_seq = UINT64_MAX; /* of f->env, if any */

static int bee_pre_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                         size_t arg_len)
{
    uint32_t slot = airsrt_self(ctx)->slot;

    (void)arg;
    (void)arg_len;
    bee_pre_calls++;
    bee_pre_self = *airsrt_self(ctx);
    unit_log(EV_PRE, slot, is_zero(state, sizeof(struct bee)));
    unit_log(EV_PRE_STATE, slot, state_of(ctx));
    unit_log(EV_PRE_GEN, slot, airsrt_self(ctx)->generation);
    /* Dirty the state: a restart must hand over zeroes again. */
    memset(state, 0xA5, sizeof(struct bee));
    ((struct bee *)state)->count = 0;
    if (bee_pre_calls == bee_pre_fail_at)
        return bee_pre_err;
    return 0;
}

static int bee_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env)
{
    struct bee *b = state;
    uint32_t slot = airsrt_self(ctx)->slot;

    b->count++;
    unit_log(EV_HANDLE, slot, unit_seq(env));
    unit_log(EV_HSTATE, slot, state_of(ctx));
    unit_log(EV_COUNT, slot, b->count);
    return env->type == T_FAIL ? -EIO : 0;
}

static void bee_post_stop(struct airsrt_ctx *ctx, void *state)
{
    (void)state;
    unit_log(EV_POST, airsrt_self(ctx)->slot, 0);
    unit_log(EV_POST_STATE, airsrt_self(ctx)->slot, state_of(ctx));
}

static enum airsrt_directive bee_on_error(struct airsrt_ctx *ctx, void *state,
                                          const struct airsrt_failure *f)
{
    (void)state;
    bee_failure = *f;
    bee_failure.env = NULL;     /* valid during on_error only */
    bee_failure_seq = f->env != NULL ? unit_seq(f->env) : UINT64_MAX;
    unit_log(EV_ERROR, airsrt_self(ctx)->slot, f->where);
    return bee_directive;
}

static const struct airsrt_actor_type bee = {
    .name = "bee", .state_size = sizeof(struct bee),
    .pre_start = bee_pre_start, .handle = bee_handle,
    .post_stop = bee_post_stop, .on_error = bee_on_error };

/* The same without on_error. */
static const struct airsrt_actor_type drone = {
    .name = "drone", .state_size = sizeof(struct bee),
    .pre_start = bee_pre_start, .handle = bee_handle,
    .post_stop = bee_post_stop };

/* ---- keeper: stays alive so the worker does not end ---- */

static int keeper_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    (void)env;
    return 0;
}

static const struct airsrt_actor_type keeper = {
    .name = "keeper", .handle = keeper_handle };

/* Fails T_FAIL, takes anything else. */
static int failing_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    return env->type == T_FAIL ? -EIO : 0;
}

/* ---- boss: a parent of one bee ---- */

static enum airsrt_directive boss_directive = AIRSRT_RESUME;
static struct airsrt_address boss_child;
static struct airsrt_failure boss_failure;
static int boss_errors, boss_pre_calls;

static int boss_pre_start(struct airsrt_ctx *ctx, void *state,
                          const void *arg, size_t arg_len)
{
    (void)state;
    (void)arg;
    (void)arg_len;
    /* Only the first incarnation has a child: a restarted boss must not
     * put a new one in the old child's slot. */
    if (boss_pre_calls++ == 0)
        return airsrt_spawn(ctx, &bee, NULL, &boss_child);
    return 0;
}

static enum airsrt_directive boss_on_error(struct airsrt_ctx *ctx,
                                           void *state,
                                           const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    boss_failure = *f;
    boss_errors++;
    return boss_directive;
}

static const struct airsrt_actor_type boss = {
    .name = "boss", .pre_start = boss_pre_start, .handle = failing_handle,
    .on_error = boss_on_error };

static const struct airsrt_actor_type *const types[] = {
    &bee, &drone, &keeper, &boss, NULL };

/* Sends T_OK, T_FAIL or another type with seq to a. */
static void send_to(const struct airsrt_address *a, uint32_t type,
                    uint64_t seq)
{
    cr_assert_eq(unit_send_seq(unit_ctx(), a, type, seq, AIRSRT_PRIO_NORMAL),
                 0);
}

/* The values of the events what of who, in order. */
static uint32_t values(uint32_t what, uint32_t who, uint64_t *out,
                       uint32_t max)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < unit_nevents; i++)
        if (unit_events[i].what == what && unit_events[i].who == who &&
            n < max)
            out[n++] = unit_events[i].value;
    return n;
}

/* ---- state and argument ---- */

Test(actor, state_is_zeroed_at_pre_start_and_again_at_restart, .timeout = 30)
{
    struct airsrt_address a;
    uint64_t zeroed[4];

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &drone, NULL);
    send_to(&a, T_OK, 0);
    send_to(&a, T_FAIL, 1);
    unit_settle();
    cr_assert_eq(values(EV_PRE, a.slot, zeroed, 4), 2);
    cr_assert_eq(zeroed[0], 1, "state not zero at spawn");
    cr_assert_eq(zeroed[1], 1, "state not zero at restart");
    unit_close();
}

static uint8_t arg_seen[2][32];
static size_t arg_len_seen[2];
static const void *arg_ptr_seen[2];
static int arg_calls;

static int argy_pre_start(struct airsrt_ctx *ctx, void *state,
                          const void *arg, size_t arg_len)
{
    (void)ctx;
    (void)state;
    if (arg_calls < 2) {
        arg_ptr_seen[arg_calls] = arg;
        arg_len_seen[arg_calls] = arg_len;
        if (arg != NULL)
            memcpy(arg_seen[arg_calls], arg,
                   arg_len < 32 ? arg_len : 32);
    }
    arg_calls++;
    return 0;
}

static const struct airsrt_actor_type argy = {
    .name = "argy", .pre_start = argy_pre_start, .handle = failing_handle };
static const struct airsrt_actor_type *const argy_types[] = { &argy, NULL };

Test(actor, spawn_argument_reaches_pre_start_as_a_copy_also_at_restart,
     .timeout = 30)
{
    char buf[] = "original-argument";
    struct airsrt_spawn_opts o = { .arg = buf, .arg_len = strlen(buf) };
    struct airsrt_address a;

    unit_open(argy_types, 0, NULL);
    a = unit_spawn(unit_ctx(), &argy, &o);
    /* The caller's buffer is free again once spawn returned. */
    memset(buf, 'X', strlen(buf));
    send_to(&a, T_FAIL, 0);
    unit_settle();
    cr_assert_eq(arg_calls, 2, "pre_start ran %d times", arg_calls);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(arg_len_seen[i], strlen("original-argument"));
        cr_assert_neq(arg_ptr_seen[i], (const void *)buf,
                      "pre_start got the caller's buffer, not a copy");
        cr_assert_arr_eq(arg_seen[i], "original-argument",
                         strlen("original-argument"), "call %d", i);
    }
    unit_close();
}

Test(actor, pre_start_gets_null_argument_when_spawned_without_one,
     .timeout = 30)
{
    unit_open(argy_types, 0, NULL);
    unit_spawn(unit_ctx(), &argy, NULL);
    cr_assert_eq(arg_calls, 1);
    cr_assert_null(arg_ptr_seen[0]);
    cr_assert_eq(arg_len_seen[0], 0);
    unit_close();
}

/* ---- hooks and lifecycle ---- */

Test(actor, hooks_run_pre_start_then_handle_per_envelope_then_post_stop_once,
     .timeout = 30)
{
    struct airsrt_address a;
    uint64_t v[8];

    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &keeper, NULL);
    a = unit_spawn(unit_ctx(), &bee, NULL);
    for (uint64_t i = 0; i < 3; i++)
        send_to(&a, T_OK, i);
    cr_assert_eq(unit_settle(), -1);
    /* Two more queued, then the stop: they must never reach handle. */
    send_to(&a, T_OK, 3);
    send_to(&a, T_OK, 4);
    cr_assert_eq(airsrt_stop(unit_ctx(), &a), 0);
    cr_assert_eq(unit_settle(), -1);

    cr_assert_eq(unit_log_count(EV_PRE, a.slot), 1);
    cr_assert_eq(values(EV_HANDLE, a.slot, v, 8), 3);
    for (uint64_t i = 0; i < 3; i++)
        cr_assert_eq(v[i], i);
    cr_assert_eq(unit_log_count(EV_POST, a.slot), 1);
    /* Order: the first event is pre_start, the last post_stop. */
    for (uint32_t i = 0, seen_post = 0; i < unit_nevents; i++) {
        if (unit_events[i].who != a.slot)
            continue;
        if (unit_events[i].what == EV_POST)
            seen_post = 1;
        else if (unit_events[i].what == EV_HANDLE)
            cr_assert_eq(seen_post, 0, "handle after post_stop");
    }
    cr_assert_eq(unit_events[0].what, EV_PRE);
    cr_assert_eq(unit_dead(AIRSRT_DL_STOPPED), 2);
    cr_assert_eq(unit_send_seq(unit_ctx(), &a, T_OK, 5, AIRSRT_PRIO_NORMAL),
                 -ESTALE);
    cr_assert_eq(unit_log_count(EV_HANDLE, a.slot), 3);
    unit_close();
}

Test(actor, lifecycle_states_are_visible_in_each_hook_and_after,
     .timeout = 30)
{
    struct airsrt_address a, b;
    uint64_t v[4];

    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &keeper, NULL);
    a = unit_spawn(unit_ctx(), &bee, NULL);
    cr_assert_eq(unit_state(&a), AIRSRT_ACTOR_RUNNING);
    send_to(&a, T_OK, 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(airsrt_stop(unit_ctx(), &a), 0);
    cr_assert_eq(unit_settle(), -1);

    cr_assert_eq(values(EV_PRE_STATE, a.slot, v, 4), 1);
    cr_assert_eq(v[0], AIRSRT_ACTOR_STARTING);
    cr_assert_eq(values(EV_HSTATE, a.slot, v, 4), 1);
    cr_assert_eq(v[0], AIRSRT_ACTOR_RUNNING);
    cr_assert_eq(values(EV_POST_STATE, a.slot, v, 4), 1);
    cr_assert_eq(v[0], AIRSRT_ACTOR_STOPPING);
    cr_assert_eq(unit_state(&a), AIRSRT_ACTOR_STOPPED);

    /* A failure that stops it leaves it Failed. */
    bee_directive = AIRSRT_STOP;
    b = unit_spawn(unit_ctx(), &bee, NULL);
    send_to(&b, T_FAIL, 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_state(&b), AIRSRT_ACTOR_FAILED);
    unit_close();
}

/* ---- on_error directives ---- */

Test(actor, resume_keeps_state_and_goes_on_with_the_next_envelope,
     .timeout = 30)
{
    struct airsrt_address a;
    uint64_t counts[8];

    bee_directive = AIRSRT_RESUME;
    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &bee, NULL);
    send_to(&a, T_OK, 0);
    send_to(&a, T_FAIL, 1);
    send_to(&a, T_OK, 2);
    send_to(&a, T_OK, 3);
    cr_assert_eq(unit_settle(), -1);

    cr_assert_eq(values(EV_COUNT, a.slot, counts, 8), 4);
    for (uint64_t i = 0; i < 4; i++)
        cr_assert_eq(counts[i], i + 1, "state lost at envelope %lu",
                     (unsigned long)i);
    cr_assert_eq(unit_log_count(EV_ERROR, a.slot), 1);
    cr_assert_eq(bee_failure.where, AIRSRT_FAILED_IN_HANDLE);
    cr_assert_eq(bee_failure.err, -EIO);
    cr_assert_eq(unit_log_count(EV_PRE, a.slot), 1);
    cr_assert_eq(unit_log_count(EV_POST, a.slot), 0);
    cr_assert_eq(atomic_load(&unit_stats(&a)->restarts), 0);
    cr_assert_eq(unit_state(&a), AIRSRT_ACTOR_RUNNING);
    unit_close();
}

Test(actor, on_error_is_told_the_envelope_that_failed, .timeout = 30)
{
    struct airsrt_address a;

    bee_directive = AIRSRT_RESUME;
    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &bee, NULL);
    send_to(&a, T_OK, 40);
    send_to(&a, T_FAIL, 41);
    send_to(&a, T_OK, 42);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_ERROR, a.slot), 1);
    cr_assert_eq(bee_failure_seq, 41);
    unit_close();
}

Test(actor, restart_runs_post_stop_then_pre_start_and_keeps_address_and_mail,
     .timeout = 30)
{
    struct airsrt_address a;
    uint64_t v[8];
    uint32_t order[8], n = 0;

    bee_directive = AIRSRT_RESTART;
    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &bee, NULL);
    /* All queued before the actor runs: the ones behind the failing
     * envelope are in the mailbox when it restarts. */
    send_to(&a, T_OK, 0);
    send_to(&a, T_FAIL, 1);
    send_to(&a, T_OK, 2);
    send_to(&a, T_OK, 3);
    cr_assert_eq(unit_settle(), -1);

    for (uint32_t i = 0; i < unit_nevents && n < 8; i++) {
        uint32_t what = unit_events[i].what;

        if (what == EV_PRE || what == EV_HANDLE || what == EV_POST ||
            what == EV_ERROR)
            order[n++] = what;
    }
    uint32_t want[] = { EV_PRE, EV_HANDLE, EV_HANDLE, EV_ERROR, EV_POST,
                        EV_PRE, EV_HANDLE, EV_HANDLE };
    cr_assert_eq(n, 8);
    cr_assert_arr_eq(order, want, sizeof(want));
    cr_assert_eq(values(EV_HANDLE, a.slot, v, 8), 4);
    cr_assert_eq(v[2], 2, "mail queued behind the failure was lost");
    cr_assert_eq(v[3], 3);
    cr_assert_eq(values(EV_PRE, a.slot, v, 8), 2);
    cr_assert_eq(v[1], 1, "state not zero after restart");
    cr_assert_eq(values(EV_COUNT, a.slot, v, 8), 4);
    cr_assert_eq(v[2], 1, "counter kept across restart");
    cr_assert_eq(values(EV_PRE_GEN, a.slot, v, 8), 2);
    cr_assert_eq(v[0], v[1], "a restart changed the address");
    cr_assert(airsrt_address_equal(&bee_pre_self, &a));
    cr_assert_eq(atomic_load(&unit_stats(&a)->restarts), 1);
    cr_assert_eq(atomic_load(&unit_w->self->actor_restarts), 1);
    cr_assert_eq(unit_state(&a), AIRSRT_ACTOR_RUNNING);
    unit_close();
}

Test(actor, restart_stops_the_actors_children, .timeout = 30)
{
    struct airsrt_address p;

    boss_directive = AIRSRT_RESTART;
    unit_open(types, 0, NULL);
    p = unit_spawn(unit_ctx(), &boss, NULL);
    cr_assert_eq(atomic_load(&unit_w->self->actors_alive), 2);
    send_to(&p, T_FAIL, 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(boss_errors, 1);
    cr_assert_eq(boss_failure.where, AIRSRT_FAILED_IN_HANDLE);
    cr_assert_eq(atomic_load(&unit_stats(&p)->restarts), 1);
    cr_assert_eq(unit_state(&p), AIRSRT_ACTOR_RUNNING);
    cr_assert_eq(unit_log_count(EV_POST, boss_child.slot), 1);
    cr_assert_eq(unit_state(&boss_child), AIRSRT_ACTOR_STOPPED);
    cr_assert_eq(atomic_load(&unit_w->self->actors_alive), 1);
    unit_close();
}

Test(actor, no_on_error_means_restart, .timeout = 30)
{
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &drone, NULL);
    send_to(&a, T_FAIL, 0);
    send_to(&a, T_OK, 1);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_PRE, a.slot), 2);
    cr_assert_eq(unit_log_count(EV_POST, a.slot), 1);
    cr_assert_eq(unit_log_count(EV_HANDLE, a.slot), 2);
    cr_assert_eq(atomic_load(&unit_stats(&a)->restarts), 1);
    cr_assert_eq(unit_state(&a), AIRSRT_ACTOR_RUNNING);
    unit_close();
}

Test(actor, stop_directive_fails_actor_and_its_mail_becomes_dead_letters,
     .timeout = 30)
{
    struct airsrt_address a;

    bee_directive = AIRSRT_STOP;
    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &keeper, NULL);
    a = unit_spawn(unit_ctx(), &bee, NULL);
    for (uint64_t i = 0; i < 5; i++)
        send_to(&a, i == 1 ? T_FAIL : T_OK, i);
    cr_assert_eq(unit_settle(), -1);

    cr_assert_eq(unit_log_count(EV_HANDLE, a.slot), 2);
    cr_assert_eq(unit_log_count(EV_POST, a.slot), 1);
    cr_assert_eq(unit_log_count(EV_PRE, a.slot), 1);
    cr_assert_eq(unit_state(&a), AIRSRT_ACTOR_FAILED);
    cr_assert_eq(unit_dead(AIRSRT_DL_STOPPED), 3);
    cr_assert_eq(unit_send_seq(unit_ctx(), &a, T_OK, 9, AIRSRT_PRIO_NORMAL),
                 -ESTALE);
    unit_close();
}

Test(actor, escalate_tells_parent_failed_in_child_with_child_address,
     .timeout = 30)
{
    struct airsrt_address p;

    bee_directive = AIRSRT_ESCALATE;
    boss_directive = AIRSRT_RESUME;
    unit_open(types, 0, NULL);
    p = unit_spawn(unit_ctx(), &boss, NULL);
    send_to(&boss_child, T_FAIL, 0);
    cr_assert_eq(unit_settle(), -1);

    cr_assert_eq(boss_errors, 1);
    cr_assert_eq(boss_failure.where, AIRSRT_FAILED_IN_CHILD);
    cr_assert_eq(boss_failure.err, -EIO);
    cr_assert(airsrt_address_equal(&boss_failure.child, &boss_child));
    cr_assert_eq(unit_state(&boss_child),
                 AIRSRT_ACTOR_FAILED);
    cr_assert_eq(unit_log_count(EV_POST, boss_child.slot), 1);
    cr_assert_eq(unit_state(&p), AIRSRT_ACTOR_RUNNING);
    unit_close();
}

Test(actor, escalated_child_ends_failed_when_parent_restarts, .timeout = 30)
{
    struct airsrt_address p;

    bee_directive = AIRSRT_ESCALATE;
    boss_directive = AIRSRT_RESTART;
    unit_open(types, 0, NULL);
    p = unit_spawn(unit_ctx(), &boss, NULL);
    send_to(&boss_child, T_FAIL, 0);
    cr_assert_eq(unit_settle(), -1);

    cr_assert_eq(boss_errors, 1);
    cr_assert_eq(atomic_load(&unit_stats(&p)->restarts), 1);
    cr_assert_eq(unit_log_count(EV_POST, boss_child.slot), 1,
                 "the failed child's post_stop must run exactly once");
    cr_assert_eq(atomic_load(&unit_stats(&boss_child)->generation),
                 boss_child.generation);
    /* Escalate stops the child "as for AIRSRT_STOP": Failed, whatever
     * its parent decides next. */
    cr_assert_eq(unit_state(&boss_child), AIRSRT_ACTOR_FAILED,
                 "the escalated child ended in state %u, not Failed",
                 unit_state(&boss_child));
    unit_close();
}

Test(actor, escalation_without_parent_ends_worker_with_escalated,
     .timeout = 30)
{
    struct airsrt_address k, a;

    bee_directive = AIRSRT_ESCALATE;
    unit_open(types, 0, NULL);
    k = unit_spawn(unit_ctx(), &keeper, NULL);
    a = unit_spawn(unit_ctx(), &bee, NULL);
    send_to(&a, T_FAIL, 0);
    /* The keeper lives on: only the escalation can end the worker. */
    cr_assert_eq(wh_poll_until(unit_w, NULL, NULL, UNIT_SETTLE_MS),
                 AIRSRT_EXIT_ESCALATED);
    cr_assert_eq(airsrt__worker_poll(unit_w, 0), AIRSRT_EXIT_ESCALATED);
    cr_assert_eq(unit_state(&a), AIRSRT_ACTOR_FAILED);
    cr_assert_eq(unit_state(&k), AIRSRT_ACTOR_STOPPED);
    unit_close();
}

/* ---- pre_start failures ---- */

static struct airsrt_address doomed_self, doomed_kid;
static int doomed_posts;

static int doomed_pre_start(struct airsrt_ctx *ctx, void *state,
                            const void *arg, size_t arg_len)
{
    (void)state;
    (void)arg;
    (void)arg_len;
    doomed_self = *airsrt_self(ctx);
    cr_assert_eq(airsrt_spawn(ctx, &bee, NULL, &doomed_kid), 0);
    return -EPERM;
}

static void doomed_post_stop(struct airsrt_ctx *ctx, void *state)
{
    (void)ctx;
    (void)state;
    doomed_posts++;
}

static const struct airsrt_actor_type doomed = {
    .name = "doomed", .pre_start = doomed_pre_start, .handle = keeper_handle,
    .post_stop = doomed_post_stop };
static const struct airsrt_actor_type *const doomed_types[] = {
    &doomed, &bee, &keeper, NULL };

Test(actor, pre_start_failure_at_spawn_is_returned_and_address_is_stale,
     .timeout = 30)
{
    struct airsrt_address a;

    unit_open(doomed_types, 0, NULL);
    unit_spawn(unit_ctx(), &keeper, NULL);
    cr_assert_eq(airsrt_spawn(unit_ctx(), &doomed, NULL, &a), -EPERM);
    cr_assert_eq(doomed_posts, 0, "post_stop ran for an actor that never "
                 "started");
    /* The child it spawned did start, so it was stopped properly. */
    cr_assert_eq(unit_log_count(EV_POST, doomed_kid.slot), 1);
    cr_assert_eq(atomic_load(&unit_w->self->actors_alive), 1);
    cr_assert_eq(atomic_load(&unit_w->self->actor_failures), 1);
    cr_assert_eq(unit_send_seq(unit_ctx(), &doomed_self, T_OK, 0,
                               AIRSRT_PRIO_NORMAL), -ESTALE);
    cr_assert_eq(airsrt_stop(unit_ctx(), &doomed_self), -ESTALE);
    cr_assert_eq(unit_dead(AIRSRT_DL_STALE), 1);
    unit_close();
}

Test(actor, pre_start_failure_at_restart_tells_the_parent, .timeout = 30)
{
    struct airsrt_address p;

    bee_directive = AIRSRT_RESTART;
    bee_pre_fail_at = 2;
    bee_pre_err = -ENOTCONN;
    boss_directive = AIRSRT_RESUME;
    unit_open(types, 0, NULL);
    p = unit_spawn(unit_ctx(), &boss, NULL);
    send_to(&boss_child, T_FAIL, 0);
    send_to(&boss_child, T_OK, 1);
    cr_assert_eq(unit_settle(), -1);

    cr_assert_eq(bee_pre_calls, 2);
    cr_assert_eq(boss_errors, 1);
    cr_assert_eq(boss_failure.where, AIRSRT_FAILED_IN_CHILD);
    cr_assert_eq(boss_failure.err, -ENOTCONN);
    cr_assert(airsrt_address_equal(&boss_failure.child, &boss_child));
    cr_assert_eq(unit_log_count(EV_POST, boss_child.slot), 1);
    cr_assert_eq(unit_log_count(EV_HANDLE, boss_child.slot), 1);
    cr_assert_eq(unit_state(&boss_child),
                 AIRSRT_ACTOR_FAILED);
    cr_assert_eq(unit_dead(AIRSRT_DL_STOPPED), 1);
    cr_assert_eq(unit_state(&p), AIRSRT_ACTOR_RUNNING);
    unit_close();
}

/* ---- spawn options and errors ---- */

static const struct airsrt_actor_type handless = { .name = "handless" };

Test(actor, spawn_rejects_bad_type_or_options_with_einval, .timeout = 30)
{
    struct airsrt_spawn_opts bad_overflow = { .overflow = 7 };
    struct airsrt_spawn_opts bad_arg = { .arg = NULL, .arg_len = 4 };
    struct airsrt_spawn_opts bad_name = { .name = "has space" };
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    cr_assert_eq(airsrt_spawn(unit_ctx(), NULL, NULL, &a), -EINVAL);
    cr_assert_eq(airsrt_spawn(unit_ctx(), &handless, NULL, &a), -EINVAL);
    cr_assert_eq(airsrt_spawn(unit_ctx(), &bee, &bad_overflow, &a), -EINVAL);
    cr_assert_eq(airsrt_spawn(unit_ctx(), &bee, &bad_arg, &a), -EINVAL);
    cr_assert_eq(airsrt_spawn(unit_ctx(), &bee, &bad_name, &a), -EINVAL);
    cr_assert_eq(bee_pre_calls, 0);
    cr_assert_eq(atomic_load(&unit_w->self->actors_alive), 0);
    cr_assert_eq(atomic_load(&unit_w->self->actors_spawned), 0);
    unit_close();
}

Test(actor, spawn_returns_enospc_at_actors_max_until_a_slot_frees,
     .timeout = 30)
{
    struct airsrt_address a[3], extra;

    unit_open(types, 3, NULL);
    for (int i = 0; i < 3; i++)
        a[i] = unit_spawn(unit_ctx(), &keeper, NULL);
    cr_assert_eq(airsrt_spawn(unit_ctx(), &keeper, NULL, &extra), -ENOSPC);
    cr_assert_eq(atomic_load(&unit_w->self->actors_alive), 3);
    cr_assert_eq(airsrt_stop(unit_ctx(), &a[1]), 0);
    cr_assert_eq(unit_settle(), -1);
    extra = unit_spawn(unit_ctx(), &keeper, NULL);
    cr_assert_eq(extra.slot, a[1].slot);
    cr_assert_eq(extra.generation, a[1].generation + 1);
    cr_assert_eq(airsrt_spawn(unit_ctx(), &keeper, NULL, &extra), -ENOSPC);
    unit_close();
}

Test(actor, spawn_with_a_name_registers_it, .timeout = 30)
{
    struct airsrt_spawn_opts o = { .name = "alpha" };
    struct airsrt_address a, found, held;
    uint32_t id;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &keeper, &o);
    cr_assert_eq(airsrt_resolve(unit_ctx(), "alpha", &found), 0);
    cr_assert(airsrt_address_equal(&found, &a));
    cr_assert_eq(airsrt_registry_resolve(&unit_w->reg, "alpha", &id, &held),
                 0);
    cr_assert_eq(atomic_load(&unit_stats(&a)->name_id), id);
    unit_close();
}

Test(actor, spawn_with_a_held_name_returns_eexist_and_starts_nothing,
     .timeout = 30)
{
    struct airsrt_spawn_opts o = { .name = "alpha" };
    struct airsrt_address a, b, found;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &bee, &o);
    cr_assert_eq(airsrt_spawn(unit_ctx(), &bee, &o, &b), -EEXIST);
    cr_assert_eq(bee_pre_calls, 1);
    cr_assert_eq(unit_log_count(EV_POST, UNIT_ANY), 0);
    cr_assert_eq(atomic_load(&unit_w->self->actors_alive), 1);
    cr_assert_eq(airsrt_resolve(unit_ctx(), "alpha", &found), 0);
    cr_assert(airsrt_address_equal(&found, &a));
    unit_close();
}

/* ---- from inside handle: self, parent, spawn, send, reply ---- */

static struct airsrt_address asker_addr, asker_self_seen, answerer_addr;
static struct airsrt_address answerer_parent_seen, asker_parent_seen;
static struct airsrt_address answer_sender;
static uint64_t answer_correlation;
static uint32_t answer_type;
static bool answerer_saw_current;

static int answerer_pre_start(struct airsrt_ctx *ctx, void *state,
                              const void *arg, size_t arg_len)
{
    (void)state;
    (void)arg;
    (void)arg_len;
    answerer_parent_seen = *airsrt_parent(ctx);
    return 0;
}

static int answerer_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    (void)state;
    answerer_saw_current = airsrt_current(ctx) == env;
    return airsrt_reply(ctx, T_ANSWER, "yes", 3);
}

static const struct airsrt_actor_type answerer = {
    .name = "answerer", .pre_start = answerer_pre_start,
    .handle = answerer_handle };

static int asker_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    struct airsrt_send_opts o = AIRSRT_SEND_OPTS_INIT;
    int rc;

    (void)state;
    if (env->type == T_ANSWER) {
        answer_type = env->type;
        answer_correlation = env->correlation_id;
        answer_sender = env->sender;
        return 0;
    }
    asker_self_seen = *airsrt_self(ctx);
    asker_parent_seen = *airsrt_parent(ctx);
    rc = airsrt_spawn(ctx, &answerer, NULL, &answerer_addr);
    if (rc < 0)
        return rc;
    o.correlation_id = 77;
    return airsrt_send_ex(ctx, &answerer_addr, NULL, &o, T_ASK, "?", 1);
}

static const struct airsrt_actor_type asker = {
    .name = "asker", .handle = asker_handle };
static const struct airsrt_actor_type *const ask_types[] = {
    &asker, &answerer, NULL };

Test(actor, handle_sees_self_and_parent_and_can_spawn_send_and_reply,
     .timeout = 30)
{
    unit_open(ask_types, 0, NULL);
    asker_addr = unit_spawn(unit_ctx(), &asker, NULL);
    cr_assert_eq(airsrt_send(unit_ctx(), &asker_addr, T_GO, NULL, 0), 0);
    cr_assert_eq(unit_settle(), -1);

    cr_assert(airsrt_address_equal(&asker_self_seen, &asker_addr));
    cr_assert(airsrt_address_is_null(&asker_parent_seen),
              "a top-level actor has no parent");
    cr_assert(airsrt_address_equal(&answerer_parent_seen, &asker_addr));
    cr_assert(answerer_saw_current);
    cr_assert_eq(answer_type, T_ANSWER, "no reply came back");
    cr_assert_eq(answer_correlation, 77);
    cr_assert(airsrt_address_equal(&answer_sender, &answerer_addr));
    /* The worker's own context handles nothing: nobody to reply to. */
    cr_assert_eq(airsrt_reply(unit_ctx(), T_ANSWER, NULL, 0), -EDESTADDRREQ);
    cr_assert_null(airsrt_current(unit_ctx()));
    unit_close();
}

/* ---- stopping ---- */

static int quitter_stop_rc = 1;
static uint8_t quitter_state_after_stop;
static bool quitter_posted_during_handle, quitter_posted;

static int quitter_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    (void)state;
    unit_log(EV_HANDLE, airsrt_self(ctx)->slot, unit_seq(env));
    quitter_stop_rc = airsrt_stop(ctx, airsrt_self(ctx));
    quitter_state_after_stop = state_of(ctx);
    quitter_posted_during_handle = quitter_posted;
    return 0;
}

static void quitter_post_stop(struct airsrt_ctx *ctx, void *state)
{
    (void)ctx;
    (void)state;
    quitter_posted = true;
}

static const struct airsrt_actor_type quitter = {
    .name = "quitter", .handle = quitter_handle,
    .post_stop = quitter_post_stop };
static const struct airsrt_actor_type *const quit_types[] = {
    &quitter, &keeper, NULL };

Test(actor, stop_of_self_takes_effect_after_handle_returns, .timeout = 30)
{
    struct airsrt_address a;

    unit_open(quit_types, 0, NULL);
    unit_spawn(unit_ctx(), &keeper, NULL);
    a = unit_spawn(unit_ctx(), &quitter, NULL);
    for (uint64_t i = 0; i < 3; i++)
        send_to(&a, T_OK, i);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(quitter_stop_rc, 0);
    cr_assert_eq(quitter_state_after_stop, AIRSRT_ACTOR_STOPPING);
    cr_assert_not(quitter_posted_during_handle,
                  "post_stop ran inside the handle that asked to stop");
    cr_assert(quitter_posted);
    cr_assert_eq(unit_log_count(EV_HANDLE, a.slot), 1);
    cr_assert_eq(unit_dead(AIRSRT_DL_STOPPED), 2);
    cr_assert_eq(unit_state(&a), AIRSRT_ACTOR_STOPPED);
    unit_close();
}

static const struct airsrt_actor_type tree;

/* A tree: arg is its id; 0 spawns 1, 2, 3 in that order, 1 spawns 11. */
static int tree_pre_start(struct airsrt_ctx *ctx, void *state,
                          const void *arg, size_t arg_len)
{
    uint32_t id, kids[] = { 1, 2, 3 };
    struct airsrt_spawn_opts o = { .arg_len = sizeof(uint32_t) };

    cr_assert_eq(arg_len, sizeof(id));
    memcpy(&id, arg, sizeof(id));
    memcpy(state, &id, sizeof(id));
    if (id == 0) {
        for (int i = 0; i < 3; i++) {
            o.arg = &kids[i];
            cr_assert_eq(airsrt_spawn(ctx, &tree, &o, NULL), 0);
        }
    } else if (id == 1) {
        uint32_t grandchild = 11;

        o.arg = &grandchild;
        cr_assert_eq(airsrt_spawn(ctx, &tree, &o, NULL), 0);
    }
    return 0;
}

static void tree_post_stop(struct airsrt_ctx *ctx, void *state)
{
    uint32_t id;

    (void)ctx;
    memcpy(&id, state, sizeof(id));
    unit_log(EV_POST, id, 0);
}

static const struct airsrt_actor_type tree = {
    .name = "tree", .state_size = sizeof(uint32_t),
    .pre_start = tree_pre_start, .handle = keeper_handle,
    .post_stop = tree_post_stop };
static const struct airsrt_actor_type *const tree_types[] = {
    &tree, &keeper, NULL };

Test(actor, stopping_a_parent_stops_its_children_first_youngest_first,
     .timeout = 30)
{
    uint32_t root_id = 0, want[] = { 3, 2, 11, 1, 0 };
    struct airsrt_spawn_opts o = { .arg = &root_id, .arg_len = 4 };
    struct unit_event ev[8];
    struct airsrt_address top;

    unit_open(tree_types, 0, NULL);
    unit_spawn(unit_ctx(), &keeper, NULL);
    top = unit_spawn(unit_ctx(), &tree, &o);
    cr_assert_eq(atomic_load(&unit_w->self->actors_alive), 6);
    cr_assert_eq(airsrt_stop(unit_ctx(), &top), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_select(EV_POST, ev, 8), 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ev[i].who, want[i], "post_stop %d was of %u, not %u",
                     i, ev[i].who, want[i]);
    cr_assert_eq(atomic_load(&unit_w->self->actors_alive), 1);
    unit_close();
}

Test(actor, worker_ends_with_status_zero_when_its_last_actor_stopped,
     .timeout = 30)
{
    struct airsrt_address a, b;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &keeper, NULL);
    b = unit_spawn(unit_ctx(), &keeper, NULL);
    cr_assert_eq(airsrt_stop(unit_ctx(), &a), 0);
    cr_assert_eq(unit_settle(), -1, "the worker ended with an actor alive");
    cr_assert_eq(airsrt_stop(unit_ctx(), &b), 0);
    cr_assert_eq(wh_poll_until(unit_w, NULL, NULL, UNIT_SETTLE_MS),
                 AIRSRT_EXIT_OK);
    cr_assert_eq(atomic_load(&unit_w->self->state), AIRSRT_WORKER_STOPPED);
    unit_close();
}

/* ---- typed messages ---- */

AIRSRT_MESSAGE(probe, 21, { uint8_t bytes[13]; });
AIRSRT_MESSAGE(other, 22, { uint8_t bytes[13]; });

/* An envelope of type with len bytes of payload, on the stack. */
struct env_buf {
    union {
        struct airsrt_envelope env;
        uint8_t bytes[sizeof(struct airsrt_envelope) + 64];
    };
};

Test(actor, msg_get_gives_the_struct_only_for_its_type_and_size)
{
    struct env_buf b;

    airsrt_envelope_init(&b.env, probe_type, sizeof(struct probe));
    memset(b.env.payload, 0x42, sizeof(struct probe));
    cr_assert_eq((const void *)airsrt_msg_get(&b.env, probe),
                 (const void *)b.env.payload);
    cr_assert_eq(airsrt_msg_get(&b.env, probe)->bytes[12], 0x42);
    cr_assert_null(airsrt_msg_get(&b.env, other), "another type");
    b.env.payload_len = sizeof(struct probe) + 1;
    cr_assert_null(airsrt_msg_get(&b.env, probe), "a longer payload");
    b.env.payload_len = sizeof(struct probe) - 1;
    cr_assert_null(airsrt_msg_get(&b.env, probe), "a shorter payload");
}

static uint32_t probe_len, probe_type_seen;
static uint8_t probe_bytes[13];
static bool probe_got;

static int probe_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    const struct probe *p = airsrt_msg_get(env, probe);

    (void)ctx;
    (void)state;
    probe_len = env->payload_len;
    probe_type_seen = env->type;
    probe_got = p != NULL;
    if (p != NULL)
        memcpy(probe_bytes, p->bytes, sizeof(probe_bytes));
    return 0;
}

static const struct airsrt_actor_type prober = {
    .name = "prober", .handle = probe_handle };
static const struct airsrt_actor_type *const probe_types[] = { &prober,
                                                               NULL };

Test(actor, send_msg_sends_exactly_the_struct, .timeout = 30)
{
    struct probe msg;
    struct airsrt_address a;

    cr_assert_eq(sizeof(struct probe), 13);
    for (int i = 0; i < 13; i++)
        msg.bytes[i] = (uint8_t)(i * 7 + 1);
    unit_open(probe_types, 0, NULL);
    a = unit_spawn(unit_ctx(), &prober, NULL);
    cr_assert_eq(airsrt_send_msg(unit_ctx(), &a, probe, &msg), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(probe_type_seen, probe_type);
    cr_assert_eq(probe_len, sizeof(struct probe));
    cr_assert(probe_got);
    cr_assert_arr_eq(probe_bytes, msg.bytes, sizeof(msg.bytes));
    unit_close();
}

/* The repository this test binary was built from: the first directory
 * above it that holds include/airsrt/message.h. */
static void repo_root(char *out, size_t len)
{
    char exe[PATH_MAX], probe_path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    cr_assert_gt(n, 0);
    exe[n] = '\0';
    for (char *slash; (slash = strrchr(exe, '/')) != NULL;) {
        *slash = '\0';
        snprintf(probe_path, sizeof(probe_path), "%s/include/airsrt/message.h",
                 exe[0] ? exe : "");
        if (access(probe_path, R_OK) == 0) {
            cr_assert_lt(strlen(exe) + 1, len);
            strcpy(out, exe);
            return;
        }
    }
    cr_assert_fail("no include/airsrt/message.h above the test binary");
}

/* The first of cc, gcc, clang on PATH, in out; false if none. */
static bool find_compiler(char *out, size_t len)
{
    static const char *const names[] = { "cc", "gcc", "clang" };
    const char *path = getenv("PATH");

    for (size_t i = 0; path != NULL && i < 3; i++) {
        char dirs[4096];

        snprintf(dirs, sizeof(dirs), "%s", path);
        for (char *save, *d = strtok_r(dirs, ":", &save); d != NULL;
             d = strtok_r(NULL, ":", &save)) {
            snprintf(out, len, "%s/%s", d, names[i]);
            if (access(out, X_OK) == 0)
                return true;
        }
    }
    return false;
}

/* Compiles src (syntax only) with cc against the repo's headers; the
 * compiler's exit status, its messages in log. */
static int compile(const char *cc, const char *repo, const char *dir,
                   const char *name, const char *src, const char *extra,
                   char *log, size_t loglen)
{
    char file[PATH_MAX], out[PATH_MAX], inc[PATH_MAX + 16];
    FILE *f;
    pid_t pid;
    int status;
    size_t got;

    snprintf(file, sizeof(file), "%s/%s.c", dir, name);
    snprintf(out, sizeof(out), "%s/%s.log", dir, name);
    snprintf(inc, sizeof(inc), "-I%s/include", repo);
    f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs(src, f);
    fclose(f);
    pid = harness_fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            harness_exit(126);
        execl(cc, cc, "-std=gnu17", "-fsyntax-only", inc, file,
              extra[0] ? extra : NULL, (char *)NULL);
        harness_exit(127);
    }
    status = wh_exit_status(pid);
    f = fopen(out, "r");
    got = f ? fread(log, 1, loglen - 1, f) : 0;
    log[got] = '\0';
    if (f)
        fclose(f);
    unlink(file);
    unlink(out);
    return status;
}

static const char typed_head[] =
    "#include <airsrt/airsrt.h>\n"
    "AIRSRT_MESSAGE(ping, 1, { uint64_t seq; });\n"
    "AIRSRT_MESSAGE(pong, 2, { uint64_t seq; });\n"
    "int f(struct airsrt_ctx *ctx, const struct airsrt_address *to);\n"
    "int f(struct airsrt_ctx *ctx, const struct airsrt_address *to)\n";

Test(actor, typed_message_misuse_does_not_compile, .timeout = 120)
{
    char cc[PATH_MAX], repo[PATH_MAX], dir[] = "/tmp/airsrt-typed-XXXXXX";
    char src[2048], log[4096];
    int rc;

    if (!find_compiler(cc, sizeof(cc)))
        cr_skip_test("no C compiler (cc, gcc, clang) on PATH");
    /* Under memcheck (--trace-children) the compiler would run under it
     * too, and its own leaks would fail the valgrind run. */
    if (getenv("AIRSRT_UNDER_VALGRIND") != NULL)
        cr_skip_test("the compiler would run under valgrind");
    repo_root(repo, sizeof(repo));
    cr_assert_not_null(mkdtemp(dir));

    snprintf(src, sizeof(src), "%s{ return airsrt_send_msg(ctx, to, ping, "
             "&(struct ping){ .seq = 1 }); }\n", typed_head);
    rc = compile(cc, repo, dir, "good", src, "-Werror", log, sizeof(log));
    cr_expect_eq(rc, 0, "a correct typed send did not compile:\n%s", log);

    rc = compile(cc, repo, dir, "big",
                 "#include <airsrt/airsrt.h>\n"
                 "AIRSRT_MESSAGE(huge, 3, { uint8_t b["
                 "AIRSRT_PAYLOAD_MAX_DEFAULT + 1]; });\n", "", log,
                 sizeof(log));
    cr_expect_neq(rc, 0, "a message larger than a payload compiled");

    snprintf(src, sizeof(src), "%s{ struct pong p = { 1 };\n"
             "  return airsrt_send_msg(ctx, to, ping, &p); }\n", typed_head);
    rc = compile(cc, repo, dir, "wrong", src, "", log, sizeof(log));
    cr_expect_neq(rc, 0, "airsrt_send_msg took a struct pong * for ping "
                  "(message.h says it does not compile):\n%s", log);
    rmdir(dir);
}

/* ---- counters ---- */

static uint32_t depth_seen[8], handled_seen[8];
static int counted;

static int counting_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    const struct airsrt_actor_stats *st = unit_stats(airsrt_self(ctx));

    (void)state;
    (void)env;
    if (counted < 8) {
        depth_seen[counted] = atomic_load(&st->depth);
        handled_seen[counted] = (uint32_t)atomic_load(&st->handled);
    }
    counted++;
    return 0;
}

static const struct airsrt_actor_type counting = {
    .name = "counting", .handle = counting_handle };
static const struct airsrt_actor_type *const counting_types[] = {
    &counting, &keeper, NULL };

Test(actor, per_actor_counters_are_published_once_per_turn, .timeout = 30)
{
    struct airsrt_worker_opts wo = { .spin_ns = 0, .turn_budget = 2 };
    struct airsrt_address a;
    uint64_t t0;

    unit_open(counting_types, 0, &wo);
    a = unit_spawn(unit_ctx(), &counting, NULL);
    cr_assert_eq(atomic_load(&unit_stats(&a)->last_ns), 0);
    for (uint64_t i = 0; i < 5; i++)
        send_to(&a, T_OK, i);
    t0 = airsrt_now_ns();
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(counted, 5);
    /* Turns of 2: the first handle of each turn sees the last turn's. */
    cr_assert_eq(depth_seen[0], 0);
    cr_assert_eq(handled_seen[0], 0);
    cr_assert_eq(depth_seen[2], 3);
    cr_assert_eq(handled_seen[2], 2);
    cr_assert_eq(depth_seen[4], 1);
    cr_assert_eq(handled_seen[4], 4);
    cr_assert_eq(atomic_load(&unit_stats(&a)->handled), 5);
    cr_assert_eq(atomic_load(&unit_stats(&a)->depth), 0);
    cr_assert_geq(atomic_load(&unit_stats(&a)->last_ns), t0);
    unit_close();
}

Test(actor, actor_entry_names_its_type_generation_and_name, .timeout = 30)
{
    struct airsrt_spawn_opts o = { .name = "counted" };
    struct airsrt_address a, b, held;
    uint32_t id;

    unit_open(counting_types, 0, NULL);
    unit_spawn(unit_ctx(), &keeper, NULL);
    a = unit_spawn(unit_ctx(), &keeper, &o);
    cr_assert_eq(atomic_load(&unit_w->self->ntypes), 2);
    cr_assert_eq(atomic_load(&unit_stats(&a)->type), 1);
    cr_assert_str_eq(unit_w->self->type_names[1], "keeper");
    cr_assert_str_eq(unit_w->self->type_names[0], "counting");
    cr_assert_eq(atomic_load(&unit_stats(&a)->generation), a.generation);
    cr_assert_eq(airsrt_registry_resolve(&unit_w->reg, "counted", &id, &held),
                 0);
    cr_assert_neq(id, 0);
    cr_assert_eq(atomic_load(&unit_stats(&a)->name_id), id);

    cr_assert_eq(airsrt_stop(unit_ctx(), &a), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(atomic_load(&unit_stats(&a)->name_id), 0);
    b = unit_spawn(unit_ctx(), &counting, NULL);
    cr_assert_eq(b.slot, a.slot);
    cr_assert_eq(b.generation, a.generation + 1);
    cr_assert_eq(atomic_load(&unit_stats(&b)->generation), b.generation);
    cr_assert_eq(atomic_load(&unit_stats(&b)->type), 0);
    unit_close();
}

Test(actor, worker_counters_count_actors_failures_and_envelopes,
     .timeout = 30)
{
    struct airsrt_worker_self *s;
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    s = unit_w->self;
    unit_spawn(unit_ctx(), &keeper, NULL);
    a = unit_spawn(unit_ctx(), &drone, NULL);
    cr_assert_eq(atomic_load(&s->actors_alive), 2);
    cr_assert_eq(atomic_load(&s->actors_spawned), 2);
    send_to(&a, T_OK, 0);
    send_to(&a, T_FAIL, 1);
    send_to(&a, T_OK, 2);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(atomic_load(&s->envelopes_out), 3);
    cr_assert_eq(atomic_load(&s->envelopes_in), 3);
    cr_assert_eq(atomic_load(&s->actor_failures), 1);
    cr_assert_eq(atomic_load(&s->actor_restarts), 1);
    cr_assert_eq(airsrt_stop(unit_ctx(), &a), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(atomic_load(&s->actors_alive), 1);
    cr_assert_eq(atomic_load(&s->actors_spawned), 2);
    unit_close();
}
