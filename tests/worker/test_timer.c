/*
 * tests/worker/test_timer.c - timers in one in-process worker
 * (airsrt/timer.h): they fire by due time, FIFO among equal due times;
 * a cancelled one never sends; ids are never reused; a million can be
 * pending, then cancelled or fired, each exactly once; an idle worker
 * sleeps until its next timer, not until its heartbeat; a fired timer is
 * sent as a send would be then (stale address, name bound later).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "tests/lib/unit_worker.h"

TestSuite(timer, .fini = harness_fini);

enum { EV_TICK = 1 };       /* who slot, value seq */
enum { T_TICK = 11 };

/* Timer ticks handled, by any recorder, and whether they came in the
 * order of their sequence numbers. */
static uint64_t ticks, ticks_out_of_order, tick_next;

static int recorder_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    (void)state;
    unit_log(EV_TICK, airsrt_self(ctx)->slot, unit_seq(env));
    return 0;
}

/* Counts ticks without the log: for the million. */
static int counter_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    uint64_t seq = unit_seq(env);

    (void)ctx;
    (void)state;
    if (seq != tick_next)
        ticks_out_of_order++;
    tick_next = seq + 1;
    ticks++;
    return 0;
}

/* Marks each tick in a bitmap: for the million that fire. */
static uint8_t *seen;
static uint64_t seen_twice;

static int marker_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    uint64_t seq = unit_seq(env);

    (void)ctx;
    (void)state;
    if (seen[seq / 8] & (1u << (seq % 8)))
        seen_twice++;
    seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
    ticks++;
    return 0;
}

static const struct airsrt_actor_type recorder = {
    .name = "recorder", .handle = recorder_handle };
static const struct airsrt_actor_type counter = {
    .name = "counter", .handle = counter_handle };
static const struct airsrt_actor_type marker = {
    .name = "marker", .handle = marker_handle };
static const struct airsrt_actor_type *const types[] = {
    &recorder, &counter, &marker, NULL };

static uint64_t set_tick(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                         uint64_t delay_ns, uint64_t seq)
{
    uint64_t id = 0;
    int rc = airsrt_send_after(ctx, to, NULL, delay_ns, T_TICK, &seq,
                               sizeof(seq), &id);

    cr_assert_eq(rc, 0, "send_after: %s", airsrt_strerror(rc));
    cr_assert_neq(id, 0);
    return id;
}

/* Every timer fired and what it sent handled. */
static bool is_all_fired(void *arg)
{
    const struct airsrt_worker *w = arg;

    return w->timers.n == 0 && w->queued == 0 && w->runq_head == NULL;
}

static void fire_all(void)
{
    wh_poll_until(unit_w, is_all_fired, unit_w, UNIT_SETTLE_MS);
}

/* The due time the heap holds for timer id (white box). */
static uint64_t due_of(uint64_t id)
{
    const struct timer_heap *t = &unit_w->timers;
    const struct timer_rec *r = &t->recs[(uint32_t)id - 1];

    cr_assert_not_null(r->m);
    return t->heap[r->pos].due_ns;
}

#define ORDER_N 300u

struct expect {
    uint64_t due;
    uint64_t seq;
};

static int expect_cmp(const void *a, const void *b)
{
    const struct expect *x = a, *y = b;

    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

Test(timer, fires_by_due_time_when_set_out_of_order)
{
    static struct expect want[ORDER_N];
    struct unit_event got[ORDER_N];
    struct airsrt_address r;

    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &recorder, NULL);
    for (uint64_t i = 0; i < ORDER_N; i++) {
        uint64_t delay = arc4random_uniform(20) * 1000000ull;
        uint64_t before = airsrt_now_ns();
        uint64_t id = set_tick(unit_ctx(), &r, delay, i);
        uint64_t due = due_of(id);

        /* Due delay after it was set, not whenever the heap says. */
        cr_assert(due >= before + delay && due <= airsrt_now_ns() + delay,
                  "timer %llu due %llu ns after it was set, not %llu",
                  (unsigned long long)i,
                  (unsigned long long)(due - before),
                  (unsigned long long)delay);
        want[i] = (struct expect){ .due = due, .seq = i };
    }
    qsort(want, ORDER_N, sizeof(want[0]), expect_cmp);
    fire_all();
    cr_assert_eq(unit_log_select(EV_TICK, got, ORDER_N), ORDER_N);
    for (uint32_t i = 0; i < ORDER_N; i++)
        cr_assert_eq(got[i].value, want[i].seq, "fired #%u: seq %llu, "
                     "expected %llu", i, (unsigned long long)got[i].value,
                     (unsigned long long)want[i].seq);
    unit_close();
}

Test(timer, fires_in_order_set_when_due_times_are_equal)
{
    struct unit_event got[ORDER_N];
    struct airsrt_address r;
    struct timer_heap *t;

    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &recorder, NULL);
    for (uint64_t i = 0; i < ORDER_N; i++)
        set_tick(unit_ctx(), &r, 3600ull * 1000000000ull, i);
    /* One due time for all (white box): set in order, their due times
     * did not decrease, so the heap's order stays valid. */
    t = &unit_w->timers;
    for (uint32_t i = 0; i < t->n; i++)
        t->heap[i].due_ns = 1;
    fire_all();
    cr_assert_eq(unit_log_select(EV_TICK, got, ORDER_N), ORDER_N);
    for (uint32_t i = 0; i < ORDER_N; i++)
        cr_assert_eq(got[i].value, i);
    unit_close();
}

Test(timer, zero_delay_fires_in_the_next_poll)
{
    struct airsrt_address r;

    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &recorder, NULL);
    unit_settle();
    set_tick(unit_ctx(), &r, 0, 42);
    cr_assert_eq(unit_log_count(EV_TICK, UNIT_ANY), 0);
    cr_assert_eq(airsrt__worker_poll(unit_w, 0), -1);
    /* Fired before actors ran in that same poll. */
    cr_assert_eq(unit_log_count(EV_TICK, r.slot), 1);
    cr_assert_eq(unit_events[unit_nevents - 1].value, 42);
    cr_assert_eq(unit_w->timers.n, 0);
    unit_close();
}

Test(timer, cancelled_timer_never_sends)
{
    struct airsrt_address r;
    uint64_t id, keep;

    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &recorder, NULL);
    id = set_tick(unit_ctx(), &r, 0, 1);
    keep = set_tick(unit_ctx(), &r, 0, 2);
    cr_assert_eq(airsrt_cancel_timer(unit_ctx(), id), 0);
    cr_assert_eq(airsrt_cancel_timer(unit_ctx(), id), -ENOENT);
    fire_all();
    cr_assert_eq(unit_log_count(EV_TICK, UNIT_ANY), 1);
    cr_assert_eq(unit_events[0].value, 2);
    cr_assert_eq(airsrt_cancel_timer(unit_ctx(), keep), -ENOENT,
                 "a fired timer cannot be cancelled");
    cr_assert_eq(airsrt_cancel_timer(unit_ctx(), 0), -ENOENT);
    cr_assert_eq(airsrt_cancel_timer(unit_ctx(), UINT64_MAX), -ENOENT);
    unit_close();
}

Test(timer, stale_id_cannot_cancel_the_timer_that_reuses_its_record)
{
    struct airsrt_address r;
    uint64_t old, now;

    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &recorder, NULL);
    old = set_tick(unit_ctx(), &r, 3600000000000ull, 1);
    cr_assert_eq(airsrt_cancel_timer(unit_ctx(), old), 0);
    now = set_tick(unit_ctx(), &r, 0, 2);
    cr_assert_eq((uint32_t)now, (uint32_t)old, "the record is reused");
    cr_assert_neq(now, old);
    cr_assert_eq(airsrt_cancel_timer(unit_ctx(), old), -ENOENT);
    fire_all();
    cr_assert_eq(unit_log_count(EV_TICK, r.slot), 1);
    unit_close();
}

Test(timer, only_the_actor_that_set_a_timer_may_cancel_it)
{
    struct airsrt_address r, other;
    struct airsrt_ctx octx;
    uint64_t id;

    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &recorder, NULL);
    other = unit_spawn(unit_ctx(), &recorder, NULL);
    id = set_tick(unit_ctx(), &r, 3600000000000ull, 1);
    octx = airsrt__actor_ctx(unit_w, airsrt__actor_find(unit_w, &other));
    cr_assert_eq(airsrt_cancel_timer(&octx, id), -EPERM);
    /* One it set itself, it may. */
    id = set_tick(&octx, &r, 3600000000000ull, 2);
    cr_assert_eq(airsrt_cancel_timer(unit_ctx(), id), -EPERM);
    cr_assert_eq(airsrt_cancel_timer(&octx, id), 0);
    cr_assert_eq(unit_w->timers.n, 1);
    unit_close();
}

Test(timer, send_after_refuses_what_a_send_refuses)
{
    struct airsrt_address r, far;
    uint64_t seq = 0, id = 7;
    struct airsrt_ctx *c;

    unit_open(types, 0, NULL);
    c = unit_ctx();
    r = unit_spawn(c, &recorder, NULL);
    far = r;
    far.node = 1;
    cr_assert_eq(airsrt_send_after(c, NULL, NULL, 0, T_TICK, &seq, 8, &id),
                 -EINVAL);
    cr_assert_eq(airsrt_send_after(c, &r, "x", 0, T_TICK, &seq, 8, &id),
                 -EINVAL);
    cr_assert_eq(airsrt_send_after(c, &r, NULL, 0, AIRSRT_TYPE_RESERVED,
                                   &seq, 8, &id), -EINVAL);
    cr_assert_eq(airsrt_send_after(c, &r, NULL, 0, T_TICK, NULL, 8, &id),
                 -EINVAL);
    cr_assert_eq(airsrt_send_after(c, NULL, "no spaces", 0, T_TICK, &seq, 8,
                                   &id), -EINVAL);
    cr_assert_eq(airsrt_send_after(c, &far, NULL, 0, T_TICK, &seq, 8, &id),
                 -EHOSTUNREACH);
    cr_assert_eq(airsrt_send_after(c, &r, NULL, 0, T_TICK, &seq,
                                   unit_w->payload_max + 1, &id), -EMSGSIZE);
    cr_assert_eq(id, 7, "nothing stored on error");
    cr_assert_eq(unit_w->timers.n, 0);
    cr_assert_eq(airsrt_send_after(c, &r, NULL, 0, T_TICK, NULL, 0, NULL), 0);
    unit_close();
}

Test(timer, fired_timer_to_stopped_actor_is_a_stale_dead_letter)
{
    struct airsrt_address r;

    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &recorder, NULL);
    unit_spawn(unit_ctx(), &recorder, NULL);    /* keeps the worker up */
    set_tick(unit_ctx(), &r, 3600000000000ull, 1);
    cr_assert_eq(airsrt_stop(unit_ctx(), &r), 0);
    unit_settle();
    cr_assert_eq(unit_state(&r), AIRSRT_ACTOR_STOPPED);
    cr_assert_eq(unit_w->timers.n, 1, "a stop leaves its timers set");
    unit_w->timers.heap[0].due_ns = 1;      /* due now (white box) */
    fire_all();
    cr_assert_eq(unit_log_count(EV_TICK, UNIT_ANY), 0);
    cr_assert_eq(unit_dead(AIRSRT_DL_STALE), 1);
    unit_close();
}

Test(timer, name_is_resolved_when_the_timer_fires)
{
    struct airsrt_spawn_opts o = { .name = "later" };
    struct airsrt_address r;
    uint64_t seq = 5;

    unit_open(types, 0, NULL);
    cr_assert_eq(airsrt_send_after(unit_ctx(), NULL, "later", 0, T_TICK, &seq,
                                   sizeof(seq), NULL), 0);
    cr_assert_eq(airsrt_send_after(unit_ctx(), NULL, "never", 0, T_TICK, &seq,
                                   sizeof(seq), NULL), 0);
    r = unit_spawn(unit_ctx(), &recorder, &o);
    fire_all();
    cr_assert_eq(unit_log_count(EV_TICK, r.slot), 1);
    cr_assert_eq(unit_dead(AIRSRT_DL_UNBOUND), 1);
    unit_close();
}

Test(timer, poll_fires_at_most_its_budget_of_due_timers)
{
    struct airsrt_address r;

    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &counter, NULL);
    for (uint64_t i = 0; i < AIRSRT_TIMER_FIRE_BUDGET + 10; i++)
        set_tick(unit_ctx(), &r, 0, i);
    airsrt__worker_poll(unit_w, 0);
    cr_assert_eq(unit_w->timers.n, 10);
    fire_all();
    cr_assert_eq(ticks, AIRSRT_TIMER_FIRE_BUDGET + 10);
    cr_assert_eq(ticks_out_of_order, 0);
    unit_close();
}

/* ---- a million pending ---- */

#define MILLION 1000000u

Test(timer, million_pending_timers_all_cancelled, .timeout = 120)
{
    uint32_t n = (uint32_t)harness_count(MILLION);
    uint64_t *ids = malloc(n * sizeof(*ids));
    struct airsrt_address r;

    cr_assert_not_null(ids);
    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &counter, NULL);
    for (uint32_t i = 0; i < n; i++)
        ids[i] = set_tick(unit_ctx(), &r,
                          3600000000000ull + arc4random_uniform(1u << 30), i);
    cr_assert_eq(unit_w->timers.n, n);
    /* In a random order: holes all over the heap. */
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = arc4random_uniform(i + 1);
        uint64_t x = ids[i];

        ids[i] = ids[j];
        ids[j] = x;
    }
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(airsrt_cancel_timer(unit_ctx(), ids[i]), 0);
    cr_assert_eq(unit_w->timers.n, 0);
    fire_all();
    cr_assert_eq(ticks, 0);
    free(ids);
    unit_close();
}

Test(timer, million_pending_timers_all_fire_exactly_once, .timeout = 120)
{
    uint32_t n = (uint32_t)harness_count(MILLION);
    struct airsrt_address r;

    seen = calloc(n / 8 + 1, 1);
    cr_assert_not_null(seen);
    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &marker, NULL);
    for (uint32_t i = 0; i < n; i++)
        set_tick(unit_ctx(), &r, arc4random_uniform(10000000), i);
    cr_assert_eq(unit_w->timers.n, n);
    fire_all();
    cr_assert_eq(ticks, n);
    cr_assert_eq(seen_twice, 0);
    for (uint32_t i = 0; i < n; i++)
        cr_assert(seen[i / 8] & (1u << (i % 8)), "tick %u never came", i);
    cr_assert_eq(unit_dead(AIRSRT_DL_STALE), 0);
    free(seen);
    unit_close();
}

/* ---- sleeping ---- */

Test(timer, idle_worker_sleeps_until_its_next_timer_not_its_heartbeat,
     .timeout = 30)
{
    /* A heartbeat far beyond the test's timeout: a worker that slept
     * until it would never pass. */
    struct airsrt_worker_opts o = { .spin_ns = 0,
                                    .heartbeat_ns = 3600000000000ull };
    struct airsrt_address r;
    uint64_t id, due;

    unit_open(types, 0, &o);
    r = unit_spawn(unit_ctx(), &recorder, NULL);
    unit_settle();
    id = set_tick(unit_ctx(), &r, 50000000, 1);
    due = due_of(id);
    /* Nothing to do in this poll: it sleeps on the doorbell, until the
     * timer is due (never before: a timed futex wait does not end early
     * unless rung, and nobody rings). */
    cr_assert_eq(airsrt__worker_poll(unit_w, -1), -1);
    cr_assert_geq(airsrt_now_ns(), due);
    cr_assert_eq(unit_log_count(EV_TICK, UNIT_ANY), 0);
    cr_assert_eq(airsrt__worker_poll(unit_w, -1), -1);
    cr_assert_eq(unit_log_count(EV_TICK, r.slot), 1);
    unit_close();
}

Test(timer, due_timers_past_the_budget_fire_in_next_polls_unslept,
     .timeout = 30)
{
    struct airsrt_worker_opts o = { .spin_ns = 0,
                                    .heartbeat_ns = 3600000000000ull };
    struct airsrt_address r;

    unit_open(types, 0, &o);
    r = unit_spawn(unit_ctx(), &counter, NULL);
    unit_settle();
    /* More than one poll fires: the polls in between must not sleep. */
    for (uint64_t i = 0; i < 3 * AIRSRT_TIMER_FIRE_BUDGET; i++)
        set_tick(unit_ctx(), &r, 0, i);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(airsrt__worker_poll(unit_w, -1), -1);
    cr_assert_eq(ticks, 3 * AIRSRT_TIMER_FIRE_BUDGET);
    unit_close();
}

/* msg nodes in the free lists of w's pool. */
static uint64_t pool_free_nodes(const struct airsrt_worker *w)
{
    uint64_t n = 0;

    for (uint32_t c = 0; c < AIRSRT_POOL_CLASSES; c++)
        n += w->pool.nfree[c];
    return n;
}

Test(timer, worker_closed_with_pending_timers_frees_them)
{
    struct airsrt_address r;
    uint64_t nodes;

    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &recorder, NULL);
    for (uint64_t i = 0; i < 1000; i++)
        set_tick(unit_ctx(), &r, 3600000000000ull, i);
    cr_assert_eq(airsrt_send_after(unit_ctx(), NULL, "somebody",
                                   3600000000000ull, T_TICK, &r, sizeof(r),
                                   NULL), 0);
    cr_assert_eq(unit_w->timers.n, 1001);
    nodes = pool_free_nodes(unit_w);
    /* What closing the worker does to its timers: each envelope back in
     * the pool, no entry left, the tables gone. That the name copy and
     * the tables are really freed is for make valgrind / make asan, which
     * run this suite. */
    airsrt__timers_fini(unit_w);
    cr_assert_eq(unit_w->timers.n, 0);
    cr_assert_null(unit_w->timers.heap);
    cr_assert_null(unit_w->timers.recs);
    cr_assert_eq(pool_free_nodes(unit_w), nodes + 1001);
    unit_close();
}
