/*
 * tests/worker/test_scheduler.c - who runs next in one in-process worker:
 * priority lanes (system > high > normal > low, FIFO in each), deadlines
 * that expire envelopes before they are handled, round robin between
 * actors with a per-turn budget, and per-pair order of local sends.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "tests/lib/unit_worker.h"

TestSuite(scheduler, .fini = harness_fini);

enum { EV_HANDLE = 1 };     /* who slot, value seq */
enum { T_SEQ = 7, T_GO = 8, T_PAIR = 9 };

static int recorder_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    (void)state;
    unit_log(EV_HANDLE, airsrt_self(ctx)->slot, unit_seq(env));
    return 0;
}

static const struct airsrt_actor_type recorder = {
    .name = "recorder", .handle = recorder_handle };

/* ---- per-pair order: senders and a receiver ---- */

#define CHUNK 1000u
#define SENDERS 2u

struct pair_msg {
    uint32_t tag;           /* which sender */
    uint32_t reserved;
    uint64_t seq;
};

struct sender {
    struct airsrt_address to;
    uint32_t tag;
    uint64_t next, total;
};

struct sender_arg {
    struct airsrt_address to;
    uint32_t tag;
    uint64_t total;
};

static uint64_t recv_next[SENDERS], recv_bad_order, recv_bad_sender;
static struct airsrt_address sender_addr[SENDERS];

static int sender_pre_start(struct airsrt_ctx *ctx, void *state,
                            const void *arg, size_t arg_len)
{
    struct sender *s = state;
    struct sender_arg a;

    cr_assert_eq(arg_len, sizeof(a));
    memcpy(&a, arg, sizeof(a));
    s->to = a.to;
    s->tag = a.tag;
    s->total = a.total;
    sender_addr[a.tag] = *airsrt_self(ctx);
    return 0;
}

/* Each T_GO sends the next CHUNK and, if more are due, another T_GO to
 * itself: the receiver runs between chunks. */
static int sender_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct sender *s = state;
    struct pair_msg m = { .tag = s->tag };
    int rc;

    (void)env;
    for (uint32_t i = 0; i < CHUNK && s->next < s->total; i++) {
        m.seq = s->next++;
        rc = airsrt_send(ctx, &s->to, T_PAIR, &m, sizeof(m));
        if (rc != 0)
            return rc;
    }
    if (s->next < s->total)
        return airsrt_send(ctx, airsrt_self(ctx), T_GO, NULL, 0);
    return 0;
}

static const struct airsrt_actor_type sender = {
    .name = "sender", .state_size = sizeof(struct sender),
    .pre_start = sender_pre_start, .handle = sender_handle };

static int receiver_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    struct pair_msg m;

    (void)ctx;
    (void)state;
    cr_assert_eq(env->payload_len, sizeof(m));
    memcpy(&m, env->payload, sizeof(m));
    cr_assert_lt(m.tag, SENDERS);
    if (m.seq != recv_next[m.tag])
        recv_bad_order++;
    if (!airsrt_address_equal(&env->sender, &sender_addr[m.tag]))
        recv_bad_sender++;
    recv_next[m.tag] = m.seq + 1;
    return 0;
}

static const struct airsrt_actor_type receiver = {
    .name = "receiver", .handle = receiver_handle };

static const struct airsrt_actor_type *const types[] = {
    &recorder, &sender, &receiver, NULL };

static int send_seq(const struct airsrt_address *a, uint64_t seq,
                    uint8_t prio)
{
    return unit_send_seq(unit_ctx(), a, T_SEQ, seq, prio);
}

Test(scheduler, lanes_are_handled_system_high_normal_low_fifo_in_each,
     .timeout = 30)
{
    static const uint8_t prio[] = {
        AIRSRT_PRIO_LOW, AIRSRT_PRIO_NORMAL, AIRSRT_PRIO_HIGH,
        AIRSRT_PRIO_SYSTEM, AIRSRT_PRIO_LOW, AIRSRT_PRIO_NORMAL,
        AIRSRT_PRIO_HIGH, AIRSRT_PRIO_SYSTEM };
    static const uint64_t want[] = { 3, 7, 2, 6, 1, 5, 0, 4 };
    struct unit_event ev[16];
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &recorder, NULL);
    for (uint64_t i = 0; i < 8; i++)
        cr_assert_eq(send_seq(&a, i, prio[i]), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_select(EV_HANDLE, ev, 16), 8);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(ev[i].value, want[i], "envelope %d was seq %lu, not "
                     "%lu", i, (unsigned long)ev[i].value,
                     (unsigned long)want[i]);
    unit_close();
}

Test(scheduler, send_rejects_a_priority_past_system, .timeout = 30)
{
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &recorder, NULL);
    cr_assert_eq(send_seq(&a, 0, AIRSRT_PRIO_SYSTEM + 1), -EINVAL);
    cr_assert_eq(unit_w->queued, 0);
    unit_close();
}

Test(scheduler, envelope_past_its_deadline_is_a_dead_letter_not_handled,
     .timeout = 30)
{
    struct airsrt_send_opts soon = { .priority = AIRSRT_PRIO_NORMAL,
                                     .ttl_ns = 1 };
    struct airsrt_send_opts later = { .priority = AIRSRT_PRIO_NORMAL,
                                      .ttl_ns = 3600ull * 1000000000ull };
    struct timespec nap = { 0, 2000000 };
    struct unit_event ev[4];
    struct airsrt_address a;
    uint64_t seq;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &recorder, NULL);
    seq = 0;
    cr_assert_eq(airsrt_send_ex(unit_ctx(), &a, NULL, &soon, T_SEQ, &seq, 8),
                 0);
    seq = 1;
    cr_assert_eq(airsrt_send_ex(unit_ctx(), &a, NULL, &later, T_SEQ, &seq,
                                8), 0);
    seq = 2;
    cr_assert_eq(airsrt_send(unit_ctx(), &a, T_SEQ, &seq, 8), 0);
    /* The 1 ns deadline is long past when the actor gets to it. */
    nanosleep(&nap, NULL);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_select(EV_HANDLE, ev, 4), 2);
    cr_assert_eq(ev[0].value, 1);
    cr_assert_eq(ev[1].value, 2);
    cr_assert_eq(unit_dead(AIRSRT_DL_EXPIRED), 1);
    cr_assert_eq(atomic_load(&unit_stats(&a)->handled), 2,
                 "an expired envelope counted as handled");
    unit_close();
}

Test(scheduler, round_robin_interleaves_actors_in_runs_of_the_budget,
     .timeout = 30)
{
    struct airsrt_worker_opts wo = { .spin_ns = 0, .turn_budget = 3 };
    /* 10 each, A queued first: A3 B3 A3 B3 A3 B3 A1 B1. */
    static const uint32_t runs[] = { 3, 3, 3, 3, 3, 3, 1, 1 };
    struct unit_event ev[32];
    struct airsrt_address a, b;
    uint32_t i = 0, r = 0;

    unit_open(types, 0, &wo);
    a = unit_spawn(unit_ctx(), &recorder, NULL);
    b = unit_spawn(unit_ctx(), &recorder, NULL);
    for (uint64_t k = 0; k < 10; k++)
        cr_assert_eq(send_seq(&a, k, AIRSRT_PRIO_NORMAL), 0);
    for (uint64_t k = 0; k < 10; k++)
        cr_assert_eq(send_seq(&b, k, AIRSRT_PRIO_NORMAL), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_select(EV_HANDLE, ev, 32), 20);
    for (; r < 8; r++) {
        uint32_t who = r % 2 == 0 ? a.slot : b.slot, len = 0;

        while (i < 20 && ev[i].who == who) {
            i++;
            len++;
        }
        cr_assert_eq(len, runs[r], "run %u (slot %u) was %u long, not %u",
                     r, who, len, runs[r]);
    }
    cr_assert_eq(i, 20);
    /* FIFO for each actor across its turns. */
    for (uint64_t k = 0, na = 0, nb = 0; k < 20; k++) {
        uint64_t *n = ev[k].who == a.slot ? &na : &nb;

        cr_assert_eq(ev[k].value, (*n)++);
    }
    unit_close();
}

Test(scheduler, local_sends_keep_per_pair_order_over_100k, .timeout = 120)
{
    uint64_t total = harness_count(100000);
    struct airsrt_address r;

    unit_open(types, 0, NULL);
    r = unit_spawn(unit_ctx(), &receiver, NULL);
    for (uint32_t t = 0; t < SENDERS; t++) {
        struct sender_arg arg = { .to = r, .tag = t, .total = total };
        struct airsrt_spawn_opts o = { .arg = &arg, .arg_len = sizeof(arg) };
        struct airsrt_address s = unit_spawn(unit_ctx(), &sender, &o);

        cr_assert_eq(airsrt_send(unit_ctx(), &s, T_GO, NULL, 0), 0);
    }
    cr_assert_eq(unit_settle(), -1);
    for (uint32_t t = 0; t < SENDERS; t++)
        cr_assert_eq(recv_next[t], total, "sender %u: %lu of %lu arrived",
                     t, (unsigned long)recv_next[t], (unsigned long)total);
    cr_assert_eq(recv_bad_order, 0);
    cr_assert_eq(recv_bad_sender, 0);
    cr_assert_eq(atomic_load(&unit_stats(&r)->handled), SENDERS * total);
    unit_close();
}
