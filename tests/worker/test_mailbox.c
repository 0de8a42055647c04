/*
 * tests/worker/test_mailbox.c - an actor's local mailbox in one
 * in-process worker: unbounded depth, and bounded mailboxes under each
 * overflow policy (drop newest, drop oldest, reject), with the dead
 * letters they count and the system lane that ignores the bound.
 *
 * Every test queues all its envelopes from outside before the worker
 * polls once, so the mailbox is full before the actor handles anything.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "tests/lib/unit_worker.h"

TestSuite(mailbox, .fini = harness_fini);

enum { EV_HANDLE = 1 };     /* who slot, value seq */
enum { T_SEQ = 7 };

/* Logs every envelope it handles. */
static int recorder_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    (void)state;
    unit_log(EV_HANDLE, airsrt_self(ctx)->slot, unit_seq(env));
    return 0;
}

static const struct airsrt_actor_type recorder = {
    .name = "recorder", .handle = recorder_handle };

/* Checks that sequence numbers arrive 0, 1, 2, ... without a log. */
static uint64_t next_seq, out_of_order;

static int sequencer_handle(struct airsrt_ctx *ctx, void *state,
                            const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    if (unit_seq(env) != next_seq)
        out_of_order++;
    next_seq++;
    return 0;
}

static const struct airsrt_actor_type sequencer = {
    .name = "sequencer", .handle = sequencer_handle };

static const struct airsrt_actor_type *const types[] = {
    &recorder, &sequencer, NULL };

static struct airsrt_address spawn_bounded(uint32_t bound,
                                           enum airsrt_overflow overflow)
{
    struct airsrt_spawn_opts o = { .mailbox_bound = bound,
                                   .overflow = overflow };

    return unit_spawn(unit_ctx(), &recorder, &o);
}

/* The sequence numbers a handled, in order, in out. */
static uint32_t handled(const struct airsrt_address *a, uint64_t *out,
                        uint32_t max)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < unit_nevents; i++)
        if (unit_events[i].what == EV_HANDLE &&
            unit_events[i].who == a->slot && n < max)
            out[n++] = unit_events[i].value;
    return n;
}

static void expect_handled(const struct airsrt_address *a,
                           const uint64_t *want, uint32_t n)
{
    uint64_t got[64];
    uint32_t k = handled(a, got, 64);

    cr_assert_eq(k, n, "slot %u handled %u envelopes, not %u", a->slot, k,
                 n);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "slot %u: envelope %u was seq %lu, "
                     "not %lu", a->slot, i, (unsigned long)got[i],
                     (unsigned long)want[i]);
}

static int send_seq(const struct airsrt_address *a, uint64_t seq,
                    uint8_t prio)
{
    return unit_send_seq(unit_ctx(), a, T_SEQ, seq, prio);
}

Test(mailbox, unbounded_takes_100k_queued_before_the_actor_runs,
     .timeout = 120)
{
    uint64_t n = harness_count(100000);
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &sequencer, NULL);
    for (uint64_t i = 0; i < n; i++)
        cr_assert_eq(send_seq(&a, i, AIRSRT_PRIO_NORMAL), 0, "send %lu",
                     (unsigned long)i);
    cr_assert_eq(unit_w->queued, n, "not all queued before the first poll");
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(next_seq, n);
    cr_assert_eq(out_of_order, 0);
    cr_assert_eq(atomic_load(&unit_stats(&a)->handled), n);
    for (unsigned r = 0; r < AIRSRT_DL_REASONS; r++)
        cr_assert_eq(unit_dead(r), 0, "dead letters (%s)",
                     airsrt_dead_letter_reason_name(r));
    unit_close();
}

Test(mailbox, drop_newest_keeps_the_first_bound_envelopes, .timeout = 30)
{
    static const uint64_t want[] = { 0, 1, 2, 3 };
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = spawn_bounded(4, AIRSRT_OVERFLOW_DROP_NEWEST);
    for (uint64_t i = 0; i < 10; i++)
        cr_assert_eq(send_seq(&a, i, AIRSRT_PRIO_NORMAL), 0,
                     "a dropping mailbox refused the sender");
    cr_assert_eq(unit_settle(), -1);
    expect_handled(&a, want, 4);
    cr_assert_eq(unit_dead(AIRSRT_DL_MAILBOX_FULL), 6);
    unit_close();
}

Test(mailbox, drop_oldest_keeps_the_last_bound_envelopes, .timeout = 30)
{
    static const uint64_t want[] = { 6, 7, 8, 9 };
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = spawn_bounded(4, AIRSRT_OVERFLOW_DROP_OLDEST);
    for (uint64_t i = 0; i < 10; i++)
        cr_assert_eq(send_seq(&a, i, AIRSRT_PRIO_NORMAL), 0,
                     "a dropping mailbox refused the sender");
    cr_assert_eq(unit_settle(), -1);
    expect_handled(&a, want, 4);
    cr_assert_eq(unit_dead(AIRSRT_DL_MAILBOX_FULL), 6);
    unit_close();
}

Test(mailbox, reject_refuses_local_sends_with_enobufs, .timeout = 30)
{
    static const uint64_t want[] = { 0, 1, 2, 3 };
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = spawn_bounded(4, AIRSRT_OVERFLOW_REJECT);
    for (uint64_t i = 0; i < 10; i++)
        cr_assert_eq(send_seq(&a, i, AIRSRT_PRIO_NORMAL),
                     i < 4 ? 0 : -ENOBUFS, "send %lu", (unsigned long)i);
    cr_assert_eq(unit_settle(), -1);
    expect_handled(&a, want, 4);
    cr_assert_eq(unit_dead(AIRSRT_DL_MAILBOX_FULL), 6);
    cr_assert_eq(atomic_load(&unit_w->self->envelopes_in), 4);
    unit_close();
}

Test(mailbox, bound_frees_up_as_the_actor_handles, .timeout = 30)
{
    static const uint64_t want[] = { 0, 1, 3, 4 };
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = spawn_bounded(2, AIRSRT_OVERFLOW_REJECT);
    cr_assert_eq(send_seq(&a, 0, AIRSRT_PRIO_NORMAL), 0);
    cr_assert_eq(send_seq(&a, 1, AIRSRT_PRIO_NORMAL), 0);
    cr_assert_eq(send_seq(&a, 2, AIRSRT_PRIO_NORMAL), -ENOBUFS);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(send_seq(&a, 3, AIRSRT_PRIO_NORMAL), 0);
    cr_assert_eq(send_seq(&a, 4, AIRSRT_PRIO_NORMAL), 0);
    cr_assert_eq(unit_settle(), -1);
    expect_handled(&a, want, 4);
    cr_assert_eq(unit_dead(AIRSRT_DL_MAILBOX_FULL), 1);
    unit_close();
}

Test(mailbox, system_priority_ignores_the_bound_under_every_policy,
     .timeout = 30)
{
    /* System envelopes overtake the two normal ones. */
    static const uint64_t want[] = { 2, 3, 4, 0, 1 };
    struct airsrt_address a[3];

    unit_open(types, 0, NULL);
    a[0] = spawn_bounded(2, AIRSRT_OVERFLOW_DROP_NEWEST);
    a[1] = spawn_bounded(2, AIRSRT_OVERFLOW_DROP_OLDEST);
    a[2] = spawn_bounded(2, AIRSRT_OVERFLOW_REJECT);
    for (int p = 0; p < 3; p++) {
        for (uint64_t i = 0; i < 5; i++)
            cr_assert_eq(send_seq(&a[p], i, i < 2 ? AIRSRT_PRIO_NORMAL
                                                  : AIRSRT_PRIO_SYSTEM),
                         0, "policy %d, send %lu", p, (unsigned long)i);
    }
    cr_assert_eq(unit_settle(), -1);
    for (int p = 0; p < 3; p++)
        expect_handled(&a[p], want, 5);
    cr_assert_eq(unit_dead(AIRSRT_DL_MAILBOX_FULL), 0);
    unit_close();
}

Test(mailbox, drop_oldest_drops_from_the_lowest_lane_at_or_below_newcomer,
     .timeout = 30)
{
    /* Full with N0 N1 H2: H3 pushes out N0 (the oldest below it); L4
     * finds nothing at or below low and is dropped itself. */
    static const uint64_t want[] = { 2, 3, 1 };
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = spawn_bounded(3, AIRSRT_OVERFLOW_DROP_OLDEST);
    cr_assert_eq(send_seq(&a, 0, AIRSRT_PRIO_NORMAL), 0);
    cr_assert_eq(send_seq(&a, 1, AIRSRT_PRIO_NORMAL), 0);
    cr_assert_eq(send_seq(&a, 2, AIRSRT_PRIO_HIGH), 0);
    cr_assert_eq(send_seq(&a, 3, AIRSRT_PRIO_HIGH), 0);
    cr_assert_eq(send_seq(&a, 4, AIRSRT_PRIO_LOW), 0);
    cr_assert_eq(unit_settle(), -1);
    expect_handled(&a, want, 3);
    cr_assert_eq(unit_dead(AIRSRT_DL_MAILBOX_FULL), 2);
    unit_close();
}

Test(mailbox, depth_counts_every_lane_and_returns_to_zero, .timeout = 30)
{
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &recorder, NULL);
    for (uint64_t i = 0; i < 8; i++)
        cr_assert_eq(send_seq(&a, i, (uint8_t)(i % 4)), 0);
    cr_assert_eq(unit_w->queued, 8);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_w->queued, 0);
    cr_assert_eq(atomic_load(&unit_stats(&a)->depth), 0);
    cr_assert_eq(atomic_load(&unit_stats(&a)->handled), 8);
    unit_close();
}
