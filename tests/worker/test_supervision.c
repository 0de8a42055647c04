/*
 * tests/worker/test_supervision.c - supervisor actors in one in-process
 * worker: start order and reverse stop order, what each strategy stops
 * and restarts and in which order, restart types, intensity and
 * escalation (to a parent supervisor, to a plain actor, past the root),
 * start failures, names across restarts, and the lookup functions.
 *
 * Children ("kid" actors) log their pre_start and post_stop with their
 * spec index (their spawn argument); trace() turns the log into a string
 * such as "+0 +1 -1 +1", so a test asserts an order in one comparison.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/unit_worker.h"

TestSuite(supervision, .fini = harness_fini);

enum { EV_PRE = 1, EV_POST, EV_HANDLE, EV_ERROR, EV_PARENT_ERROR };
enum { T_OK = 1, T_FAIL = 2, T_STOP = 3 };

#define FOREVER_NS (3600ull * 1000000000ull)

/* ---- kid: a supervised child that does what the envelope says ---- */

struct kid_state {
    uint8_t idx;
};

static int kid_pre_fails[8];    /* pre_starts of kid i still to fail */

static int kid_pre_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                         size_t arg_len)
{
    struct kid_state *k = state;

    (void)ctx;
    cr_assert_eq(arg_len, 1);
    k->idx = *(const uint8_t *)arg;
    unit_log(EV_PRE, k->idx, airsrt_self(ctx)->generation);
    if (kid_pre_fails[k->idx] > 0) {
        kid_pre_fails[k->idx]--;
        return -EPERM;
    }
    return 0;
}

static int kid_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env)
{
    struct kid_state *k = state;

    unit_log(EV_HANDLE, k->idx, airsrt_self(ctx)->generation);
    if (env->type == T_STOP)
        return airsrt_stop(ctx, airsrt_self(ctx));
    return env->type == T_FAIL ? -EIO : 0;
}

static void kid_post_stop(struct airsrt_ctx *ctx, void *state)
{
    (void)ctx;
    unit_log(EV_POST, ((struct kid_state *)state)->idx, 0);
}

/* Would resume: a supervised child's on_error must not be asked. */
static enum airsrt_directive kid_on_error(struct airsrt_ctx *ctx, void *state,
                                          const struct airsrt_failure *f)
{
    (void)ctx;
    (void)f;
    unit_log(EV_ERROR, ((struct kid_state *)state)->idx, 0);
    return AIRSRT_RESUME;
}

static const struct airsrt_actor_type kid = {
    .name = "kid", .state_size = sizeof(struct kid_state),
    .pre_start = kid_pre_start, .handle = kid_handle,
    .post_stop = kid_post_stop, .on_error = kid_on_error };

/* ---- keeper: keeps the worker alive; boss: a plain parent ---- */

static int quiet_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    (void)env;
    return 0;
}

static const struct airsrt_actor_type keeper = {
    .name = "keeper", .handle = quiet_handle };

static const struct airsrt_supervisor_spec *boss_spec;
static struct airsrt_failure boss_failure;

static int boss_pre_start(struct airsrt_ctx *ctx, void *state,
                          const void *arg, size_t arg_len)
{
    (void)state;
    (void)arg;
    (void)arg_len;
    return airsrt_supervise(ctx, boss_spec, NULL, NULL);
}

static enum airsrt_directive boss_on_error(struct airsrt_ctx *ctx,
                                           void *state,
                                           const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    boss_failure = *f;
    boss_failure.env = NULL;
    unit_log(EV_PARENT_ERROR, f->where, (uint64_t)(int64_t)f->err);
    return AIRSRT_STOP;
}

static const struct airsrt_actor_type boss = {
    .name = "boss", .pre_start = boss_pre_start, .handle = quiet_handle,
    .on_error = boss_on_error };

static const struct airsrt_actor_type *const types[] = {
    &kid, &keeper, &boss, NULL };

/* ---- helpers ---- */

static const uint8_t idx_bytes[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
static struct airsrt_spawn_opts kid_opts[8];
static struct airsrt_child_spec kids[8];
static const char *const ids[8] = { "c0", "c1", "c2", "c3",
                                    "c4", "c5", "c6", "c7" };

/* n kid specs, restart types from rt (NULL: all permanent). */
static const struct airsrt_child_spec *kid_specs(size_t n,
                                                 const enum airsrt_restart *rt)
{
    for (size_t i = 0; i < n; i++) {
        kid_opts[i] = (struct airsrt_spawn_opts){ .arg = &idx_bytes[i],
                                                  .arg_len = 1 };
        kids[i] = (struct airsrt_child_spec){
            .id = ids[i], .type = &kid, .opts = &kid_opts[i],
            .restart = rt != NULL ? rt[i] : AIRSRT_RESTART_PERMANENT };
    }
    return kids;
}

static struct airsrt_address supervise(const struct airsrt_supervisor_spec *s)
{
    struct airsrt_address a;
    int rc = airsrt_supervise(unit_ctx(), s, NULL, &a);

    cr_assert_eq(rc, 0, "supervise: %s", airsrt_strerror(rc));
    return a;
}

static struct airsrt_address child(const struct airsrt_address *sup,
                                   const char *id)
{
    struct airsrt_address a;
    int rc = airsrt_supervisor_find_child(unit_ctx(), sup, id, &a);

    cr_assert_eq(rc, 0, "find %s: %s", id, airsrt_strerror(rc));
    return a;
}

static void send_to(const struct airsrt_address *a, uint32_t type)
{
    cr_assert_eq(unit_send_seq(unit_ctx(), a, type, 0, AIRSRT_PRIO_NORMAL),
                 0);
}

/* Pre_starts (+i) and post_stops (-i) logged from event from on. */
static const char *trace(uint32_t from)
{
    static char buf[512];
    size_t n = 0;

    buf[0] = '\0';
    for (uint32_t i = from; i < unit_nevents && n + 8 < sizeof(buf); i++) {
        const struct unit_event *e = &unit_events[i];

        if (e->what == EV_PRE || e->what == EV_POST)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%c%u",
                                  n ? " " : "", e->what == EV_PRE ? '+' : '-',
                                  e->who);
    }
    return buf;
}

static void open_worker(void)
{
    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &keeper, NULL);
}

/* Supervises n permanent kids by strategy, fails kid `failing` and
 * returns the trace of what followed. */
static const char *fail_one(enum airsrt_strategy strategy, size_t n,
                            const char *failing, struct airsrt_address *sup)
{
    struct airsrt_supervisor_spec s = {
        .strategy = strategy, .max_restarts = 5, .period_ns = FOREVER_NS,
        .children = kid_specs(n, NULL), .nchildren = n };
    struct airsrt_address c;
    uint32_t mark;

    *sup = supervise(&s);
    c = child(sup, failing);
    mark = unit_nevents;
    send_to(&c, T_FAIL);
    cr_assert_eq(unit_settle(), -1);
    return trace(mark);
}

/* ---- starting and stopping ---- */

Test(supervision, starts_children_in_order_and_stops_them_in_reverse,
     .timeout = 30)
{
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 3,
        .period_ns = FOREVER_NS, .children = kid_specs(4, NULL),
        .nchildren = 4 };
    struct airsrt_address sup;

    open_worker();
    sup = supervise(&s);
    cr_assert_str_eq(trace(0), "+0 +1 +2 +3");
    cr_assert_eq(airsrt_stop(unit_ctx(), &sup), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_str_eq(trace(0), "+0 +1 +2 +3 -3 -2 -1 -0");
    cr_assert_eq(unit_state(&sup), AIRSRT_ACTOR_STOPPED);
    unit_close();
}

Test(supervision, stops_in_reverse_spec_order_after_a_restart, .timeout = 30)
{
    struct airsrt_address sup;
    uint32_t mark;

    open_worker();
    /* c1 restarted: it is now the youngest actor, yet the stop order is
     * still that of the spec. */
    cr_assert_str_eq(fail_one(AIRSRT_ONE_FOR_ONE, 3, "c1", &sup), "-1 +1");
    mark = unit_nevents;
    cr_assert_eq(airsrt_stop(unit_ctx(), &sup), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_str_eq(trace(mark), "-2 -1 -0");
    unit_close();
}

Test(supervision, start_failure_stops_started_children_in_reverse,
     .timeout = 30)
{
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 3,
        .period_ns = FOREVER_NS, .children = kid_specs(4, NULL),
        .nchildren = 4 };
    struct airsrt_address sup = { 0 };
    uint32_t alive;

    open_worker();
    alive = unit_w->alive;
    kid_pre_fails[2] = 1;
    cr_assert_eq(airsrt_supervise(unit_ctx(), &s, NULL, &sup), -EPERM);
    cr_assert(airsrt_address_is_null(&sup));
    cr_assert_eq(unit_settle(), -1);
    /* c2 failed its pre_start (no post_stop), c3 never started. */
    cr_assert_str_eq(trace(0), "+0 +1 +2 -1 -0");
    cr_assert_eq(unit_w->alive, alive, "actors left behind");
    unit_close();
}

/* ---- strategies ---- */

Test(supervision, one_for_one_restarts_only_the_failed_child, .timeout = 30)
{
    struct airsrt_address sup, before[3], after[3];
    const char *t;

    open_worker();
    {
        struct airsrt_supervisor_spec s = {
            .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 5,
            .period_ns = FOREVER_NS, .children = kid_specs(3, NULL),
            .nchildren = 3 };

        sup = supervise(&s);
    }
    for (int i = 0; i < 3; i++)
        before[i] = child(&sup, ids[i]);
    send_to(&before[1], T_FAIL);
    cr_assert_eq(unit_settle(), -1);
    t = trace(0);
    cr_assert_str_eq(t, "+0 +1 +2 -1 +1");
    for (int i = 0; i < 3; i++)
        after[i] = child(&sup, ids[i]);
    cr_assert(airsrt_address_equal(&before[0], &after[0]));
    cr_assert(airsrt_address_equal(&before[2], &after[2]));
    /* A new incarnation: a new address, the old one stale. */
    cr_assert_not(airsrt_address_equal(&before[1], &after[1]));
    cr_assert_eq(unit_send_seq(unit_ctx(), &before[1], T_OK, 0,
                               AIRSRT_PRIO_NORMAL), -ESTALE);
    cr_assert_eq(atomic_load(&unit_w->self->actor_restarts), 1);
    unit_close();
}

Test(supervision, one_for_all_stops_the_others_in_reverse_then_restarts_all,
     .timeout = 30)
{
    struct airsrt_address sup;

    open_worker();
    cr_assert_str_eq(fail_one(AIRSRT_ONE_FOR_ALL, 4, "c1", &sup),
                     "-1 -3 -2 -0 +0 +1 +2 +3");
    unit_close();
}

Test(supervision, rest_for_one_restarts_the_failed_child_and_later_ones,
     .timeout = 30)
{
    struct airsrt_address sup, c0;

    open_worker();
    cr_assert_str_eq(fail_one(AIRSRT_REST_FOR_ONE, 4, "c1", &sup),
                     "-1 -3 -2 +1 +2 +3");
    c0 = child(&sup, "c0");
    cr_assert_eq(c0.generation, unit_events[0].value, "c0 was restarted");
    unit_close();
}

Test(supervision, supervised_childs_own_on_error_is_not_asked, .timeout = 30)
{
    struct airsrt_address sup;

    open_worker();
    cr_assert_str_eq(fail_one(AIRSRT_ONE_FOR_ONE, 2, "c0", &sup), "-0 +0");
    cr_assert_eq(unit_log_count(EV_ERROR, UNIT_ANY), 0);
    unit_close();
}

/* ---- restart types ---- */

/* Ends c0 of the given restart type by T_FAIL or T_STOP; true if it was
 * restarted. */
static bool restarted(enum airsrt_restart rt, uint32_t how)
{
    const enum airsrt_restart types2[2] = { rt, AIRSRT_RESTART_PERMANENT };
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 5,
        .period_ns = FOREVER_NS, .children = kid_specs(2, types2),
        .nchildren = 2 };
    struct airsrt_address sup = supervise(&s), c0 = child(&sup, "c0");
    struct airsrt_address now;
    int rc;

    send_to(&c0, how);
    cr_assert_eq(unit_settle(), -1);
    rc = airsrt_supervisor_find_child(unit_ctx(), &sup, "c0", &now);
    cr_assert(rc == 0 || rc == -ESRCH, "find: %d", rc);
    cr_assert_eq(airsrt_stop(unit_ctx(), &sup), 0);
    cr_assert_eq(unit_settle(), -1);
    return rc == 0;
}

Test(supervision, permanent_child_is_restarted_after_failure_and_stop,
     .timeout = 30)
{
    open_worker();
    cr_assert(restarted(AIRSRT_RESTART_PERMANENT, T_FAIL));
    cr_assert(restarted(AIRSRT_RESTART_PERMANENT, T_STOP));
    unit_close();
}

Test(supervision, transient_child_is_restarted_only_after_failure,
     .timeout = 30)
{
    open_worker();
    cr_assert(restarted(AIRSRT_RESTART_TRANSIENT, T_FAIL));
    cr_assert_not(restarted(AIRSRT_RESTART_TRANSIENT, T_STOP));
    unit_close();
}

Test(supervision, temporary_child_is_never_restarted, .timeout = 30)
{
    open_worker();
    cr_assert_not(restarted(AIRSRT_RESTART_TEMPORARY, T_FAIL));
    cr_assert_not(restarted(AIRSRT_RESTART_TEMPORARY, T_STOP));
    unit_close();
}

Test(supervision, temporary_sibling_stopped_by_one_for_all_stays_down,
     .timeout = 30)
{
    const enum airsrt_restart rt[3] = { AIRSRT_RESTART_PERMANENT,
                                        AIRSRT_RESTART_TEMPORARY,
                                        AIRSRT_RESTART_PERMANENT };
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ALL, .max_restarts = 5,
        .period_ns = FOREVER_NS, .children = kid_specs(3, rt),
        .nchildren = 3 };
    struct airsrt_address sup, c2, none;
    uint32_t mark;

    open_worker();
    sup = supervise(&s);
    c2 = child(&sup, "c2");
    mark = unit_nevents;
    send_to(&c2, T_FAIL);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_str_eq(trace(mark), "-2 -1 -0 +0 +2");
    cr_assert_eq(airsrt_supervisor_find_child(unit_ctx(), &sup, "c1", &none),
                 -ESRCH);
    unit_close();
}

/* ---- intensity and escalation ---- */

Test(supervision, intensity_exceeded_past_the_root_ends_the_worker_112,
     .timeout = 30)
{
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 2,
        .period_ns = FOREVER_NS, .children = kid_specs(2, NULL),
        .nchildren = 2 };
    struct airsrt_address sup;

    open_worker();
    sup = supervise(&s);
    for (int i = 0; i < 2; i++) {
        struct airsrt_address c0 = child(&sup, "c0");

        send_to(&c0, T_FAIL);
        cr_assert_eq(unit_settle(), -1, "gave up after %d restarts", i + 1);
    }
    {
        struct airsrt_address c0 = child(&sup, "c0");

        send_to(&c0, T_FAIL);
    }
    cr_assert_eq(unit_settle(), AIRSRT_EXIT_ESCALATED);
    /* Two restarts, then the third failure: the other kid stopped first,
     * as the supervisor gave up. */
    cr_assert_str_eq(trace(0), "+0 +1 -0 +0 -0 +0 -0 -1");
    unit_close();
}

/* With a period shorter than a failed start, the intensity alone would
 * never be exceeded by a child that cannot start again: the supervisor
 * gives up after max_restarts failed starts in a row instead of
 * retrying in one poll for ever. */
Test(supervision, child_that_cannot_restart_gives_up_whatever_the_period,
     .timeout = 30)
{
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 2, .period_ns = 1,
        .children = kid_specs(1, NULL), .nchildren = 1 };
    struct airsrt_address sup, c0;

    open_worker();
    sup = supervise(&s);
    cr_assert_eq(airsrt_supervisor_find_child(unit_ctx(), &sup, "c0", &c0), 0);
    kid_pre_fails[0] = 1000;
    send_to(&c0, T_FAIL);
    cr_assert_eq(unit_settle(), AIRSRT_EXIT_ESCALATED);
    /* The first start, then three failed ones: max_restarts + 1 tries. */
    cr_assert_eq(unit_log_count(EV_PRE, 0), 4);
    unit_close();
}

Test(supervision, restarts_spread_over_more_than_the_period_are_allowed,
     .timeout = 30)
{
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 1, .period_ns = 1,
        .children = kid_specs(1, NULL), .nchildren = 1 };
    struct airsrt_address sup;

    open_worker();
    sup = supervise(&s);
    for (int i = 0; i < 10; i++) {
        struct airsrt_address c0 = child(&sup, "c0");

        send_to(&c0, T_FAIL);
        cr_assert_eq(unit_settle(), -1);
    }
    cr_assert_eq(unit_log_count(EV_PRE, 0), 11);
    unit_close();
}

Test(supervision, nested_supervisor_that_gives_up_is_restarted_by_its_parent,
     .timeout = 30)
{
    struct airsrt_supervisor_spec inner = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 0,
        .period_ns = FOREVER_NS, .children = kid_specs(2, NULL),
        .nchildren = 2 };
    struct airsrt_child_spec outer_kids[] = {
        { .id = "inner", .supervisor = &inner },
    };
    struct airsrt_supervisor_spec outer = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 3,
        .period_ns = FOREVER_NS, .children = outer_kids, .nchildren = 1 };
    struct airsrt_address top, in1, in2, c0;

    open_worker();
    top = supervise(&outer);
    in1 = child(&top, "inner");
    c0 = child(&in1, "c0");
    send_to(&c0, T_FAIL);
    cr_assert_eq(unit_settle(), -1);
    /* inner may not restart at all: it stops c1 and fails; outer starts
     * a fresh inner, which starts both kids again. */
    cr_assert_str_eq(trace(0), "+0 +1 -0 -1 +0 +1");
    in2 = child(&top, "inner");
    cr_assert_not(airsrt_address_equal(&in1, &in2));
    cr_assert_eq(airsrt_supervisor_find_child(unit_ctx(), &in1, "c0", &c0),
                 -ESTALE);
    unit_close();
}

Test(supervision, escalation_through_two_levels_ends_the_worker_112,
     .timeout = 30)
{
    struct airsrt_supervisor_spec inner = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 0,
        .period_ns = FOREVER_NS, .children = kid_specs(1, NULL),
        .nchildren = 1 };
    struct airsrt_child_spec mid_kids[] = {
        { .id = "inner", .supervisor = &inner } };
    struct airsrt_supervisor_spec mid = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 0,
        .period_ns = FOREVER_NS, .children = mid_kids, .nchildren = 1 };
    struct airsrt_child_spec top_kids[] = {
        { .id = "mid", .supervisor = &mid } };
    struct airsrt_supervisor_spec top = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 0,
        .period_ns = FOREVER_NS, .children = top_kids, .nchildren = 1 };
    struct airsrt_address t, m, i, c0;

    open_worker();
    t = supervise(&top);
    m = child(&t, "mid");
    i = child(&m, "inner");
    c0 = child(&i, "c0");
    send_to(&c0, T_FAIL);
    cr_assert_eq(unit_settle(), AIRSRT_EXIT_ESCALATED);
    cr_assert_str_eq(trace(0), "+0 -0");
    cr_assert_eq(unit_state(&t), AIRSRT_ACTOR_FAILED);
    unit_close();
}

Test(supervision, giving_up_under_a_plain_actor_asks_its_on_error,
     .timeout = 30)
{
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 0,
        .period_ns = FOREVER_NS, .children = kid_specs(1, NULL),
        .nchildren = 1 };
    struct airsrt_child_info info;
    struct airsrt_address b, c0;

    boss_spec = &s;
    open_worker();
    b = unit_spawn(unit_ctx(), &boss, NULL);
    /* The supervisor is boss's only child: find it through the tree. */
    {
        struct actor *ba = airsrt__actor_find(unit_w, &b);
        struct airsrt_address sup =
            airsrt__actor_at(unit_w, ba->first_child)->addr;

        cr_assert_eq(airsrt_supervisor_which_children(unit_ctx(), &sup,
                                                      &info, 1), 1);
        c0 = info.addr;
    }
    send_to(&c0, T_FAIL);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(boss_failure.where, AIRSRT_FAILED_IN_CHILD);
    cr_assert_eq(boss_failure.err, AIRSRT_SUPERVISOR_GAVE_UP);
    cr_assert_eq(unit_state(&b), AIRSRT_ACTOR_FAILED);
    cr_assert_str_eq(trace(0), "+0 -0");
    unit_close();
}

/* ---- names and lookups ---- */

Test(supervision, named_child_keeps_its_name_across_restarts, .timeout = 30)
{
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 5,
        .period_ns = FOREVER_NS, .children = kid_specs(1, NULL),
        .nchildren = 1 };
    struct airsrt_address sup, c0;
    struct unit_event h[4];

    kid_opts[0].name = "svc.kid";
    open_worker();
    sup = supervise(&s);
    cr_assert_eq(airsrt_send_name(unit_ctx(), "svc.kid", T_FAIL, NULL, 0), 0);
    cr_assert_eq(unit_settle(), -1);
    c0 = child(&sup, "c0");
    cr_assert_eq(airsrt_send_name(unit_ctx(), "svc.kid", T_OK, NULL, 0), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_select(EV_HANDLE, h, 4), 2);
    cr_assert_eq(h[1].value, c0.generation,
                 "the name did not reach the new incarnation");
    cr_assert_neq(h[0].value, h[1].value);
    unit_close();
}

Test(supervision, which_children_lists_the_spec_in_order, .timeout = 30)
{
    const enum airsrt_restart rt[3] = { AIRSRT_RESTART_PERMANENT,
                                        AIRSRT_RESTART_TRANSIENT,
                                        AIRSRT_RESTART_TEMPORARY };
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 5,
        .period_ns = FOREVER_NS, .children = kid_specs(3, rt),
        .nchildren = 3 };
    struct airsrt_child_info info[4];
    struct airsrt_address sup;

    open_worker();
    sup = supervise(&s);
    cr_assert_eq(airsrt_supervisor_which_children(unit_ctx(), &sup, info, 4),
                 3);
    for (int i = 0; i < 3; i++) {
        struct airsrt_address c = child(&sup, ids[i]);

        cr_assert_str_eq(info[i].id, ids[i]);
        cr_assert_eq(info[i].restart, rt[i]);
        cr_assert_not(info[i].is_supervisor);
        cr_assert(airsrt_address_equal(&info[i].addr, &c));
    }
    cr_assert_eq(airsrt_supervisor_find_child(unit_ctx(), &sup, "nope",
                                              &info[0].addr), -ENOENT);
    cr_assert_eq(airsrt_supervisor_which_children(unit_ctx(), &info[0].addr,
                                                  info, 4), -EINVAL,
                 "a kid is no supervisor");
    unit_close();
}

Test(supervision, malformed_specs_are_refused, .timeout = 30)
{
    struct airsrt_child_spec c[2];
    struct airsrt_supervisor_spec s = { .children = c, .nchildren = 2 };
    struct airsrt_address sup;

    open_worker();
    memcpy(c, kid_specs(2, NULL), sizeof(c));
    c[1].id = "c0";
    cr_assert_eq(airsrt_supervise(unit_ctx(), &s, NULL, NULL), -EINVAL,
                 "duplicate id");
    memcpy(c, kid_specs(2, NULL), sizeof(c));
    c[1].supervisor = &s;
    cr_assert_eq(airsrt_supervise(unit_ctx(), &s, NULL, NULL), -EINVAL,
                 "type and supervisor");
    memcpy(c, kid_specs(2, NULL), sizeof(c));
    c[1].id = "";
    cr_assert_eq(airsrt_supervise(unit_ctx(), &s, NULL, NULL), -EINVAL);
    memcpy(c, kid_specs(2, NULL), sizeof(c));
    c[1].type = NULL;
    c[1].supervisor = &s;       /* a cycle: too deep */
    cr_assert_eq(airsrt_supervise(unit_ctx(), &s, NULL, NULL), -EINVAL);
    memcpy(c, kid_specs(2, NULL), sizeof(c));
    s.strategy = (enum airsrt_strategy)7;
    cr_assert_eq(airsrt_supervise(unit_ctx(), &s, NULL, NULL), -EINVAL);
    cr_assert_eq(unit_nevents, 0, "a child started");
    /* The control: the same spec, left whole, is taken and started. */
    memcpy(c, kid_specs(2, NULL), sizeof(c));
    s.strategy = AIRSRT_ONE_FOR_ONE;
    sup = supervise(&s);
    child(&sup, "c0");
    child(&sup, "c1");
    unit_close();
}

Test(supervision, spec_is_copied_at_supervise, .timeout = 30)
{
    uint8_t arg = 1;
    char id[8] = "c0", name[16] = "svc.copy";
    struct airsrt_spawn_opts o = { .arg = &arg, .arg_len = 1, .name = name };
    struct airsrt_child_spec c = { .id = id, .type = &kid, .opts = &o };
    struct airsrt_supervisor_spec s = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 5,
        .period_ns = FOREVER_NS, .children = &c, .nchildren = 1 };
    struct airsrt_address sup, c0;

    open_worker();
    sup = supervise(&s);
    /* The caller's spec is gone: the restart must use the copy. */
    arg = 7;
    strcpy(id, "zz");
    strcpy(name, "other");
    c0 = child(&sup, "c0");
    send_to(&c0, T_FAIL);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_str_eq(trace(0), "+1 -1 +1");
    cr_assert_eq(airsrt_send_name(unit_ctx(), "svc.copy", T_OK, NULL, 0), 0);
    unit_close();
}
