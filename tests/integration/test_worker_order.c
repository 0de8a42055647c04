/*
 * tests/integration/test_worker_order.c - envelopes from one sender to one
 * receiver in another worker process arrive in the order they were sent:
 * a long stream from an agent in worker 0 to a counter in worker 1, which
 * checks every sequence number (no gap, no duplicate, no reordering).
 *
 * The agent respects backpressure (tests/lib/integ_actors.h), so the same
 * stream is run through the default ring, through a small ring that keeps
 * the sender's outbox busy, and through a small ring with a small outbox
 * that makes sends refuse with -EAGAIN: each time all of it must arrive,
 * in order, and the slow paths must really have been taken.
 */
#include <criterion/criterion.h>

#include "tests/lib/integ_actors.h"
#include "tests/lib/integ_worker.h"

TestSuite(worker_order, .fini = harness_fini);

enum { RECEIVER = 0, SENDER = 1 };

/* The receiver and the sender running, in their workers, in a runtime of
 * ring_bytes rings (0: the default); the sender with outbox_max (0: the
 * default). */
static void start_pair(uint32_t ring_bytes, uint32_t outbox_max,
                       pid_t pids[2])
{
    struct airsrt_shm_params p = { .ring_bytes = ring_bytes };
    struct airsrt_worker_opts o = { .spin_ns = AIRSRT_SPIN_NS_DEFAULT,
                                    .outbox_max = outbox_max };

    /* A ring carries at most two records of payload_max. */
    if (ring_bytes != 0)
        p.payload_max = airsrt_ring_payload_limit(ring_bytes);
    wh_runtime(2, &p);
    integ_actors_setup();
    pids[1] = wh_fork_worker(1, integ_types, "counter=0");
    pids[0] = integ_fork_worker_opts(0, integ_types, "agent=1", &o);
    integ_await_started(RECEIVER, 1);
    integ_await_started(SENDER, 1);
}

/* Streams total probes and checks that every one arrived, once, in order,
 * in worker 1 - and that nothing became a dead letter on the way. */
static void stream_in_order(uint64_t total, uint32_t wait_ms)
{
    struct integ_report *rx = integ_report(RECEIVER);
    struct integ_report *tx = integ_report(SENDER);
    struct airsrt_address to = rx->self;

    integ_send_addr(SENDER, &to, total);
    INTEG_AWAIT_MS(atomic_load(&rx->received) >= total ||
                   atomic_load(&tx->error) != 0, wait_ms);
    cr_assert_eq(atomic_load(&tx->error), 0, "send: %s",
                 airsrt_strerror(atomic_load(&tx->error)));
    cr_assert_eq(atomic_load(&tx->sent), total);
    cr_assert_eq(atomic_load(&rx->out_of_order), 0,
                 "%llu probes out of order, the first seq %llu",
                 (unsigned long long)atomic_load(&rx->out_of_order),
                 (unsigned long long)atomic_load(&rx->first_bad_seq) - 1);
    cr_assert_eq(atomic_load(&rx->next_seq), total);
    cr_assert_eq(atomic_load(&rx->received_at[1][1]), total);
    cr_assert_eq(atomic_load(&rx->unexpected), 0);
    cr_assert_eq(integ_dead_letters_all(0), 0);
    cr_assert_eq(integ_dead_letters_all(1), 0);
}

/* Both workers end cleanly; then nothing more arrived than was sent. */
static void stop_pair(const pid_t pids[2], uint64_t total)
{
    integ_ctl_shutdown(0);
    integ_ctl_shutdown(1);
    cr_assert_eq(integ_exit_status(pids[0]), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pids[1]), AIRSRT_EXIT_OK);
    cr_assert_eq(atomic_load(&integ_report(RECEIVER)->received), total);
    cr_assert_eq(atomic_load(&integ_self(1)->envelopes_in), total);
}

Test(worker_order, stream_arrives_in_send_order_through_default_ring,
     .timeout = 120)
{
    uint64_t total = harness_count(1000000);
    pid_t pids[2];

    start_pair(0, 0, pids);
    stream_in_order(total, 100000);
    stop_pair(pids, total);
}

Test(worker_order, stream_arrives_in_send_order_behind_full_small_ring,
     .timeout = 120)
{
    uint64_t total = harness_count(1000000);
    struct integ_report *tx;
    pid_t pids[2];

    start_pair(16384, 0, pids);
    stream_in_order(total, 100000);
    /* A 16 KiB ring holds about 150 probes: the sender's outbox must
     * have taken the rest, and said so. */
    tx = integ_report(SENDER);
    cr_assert_gt(atomic_load(&integ_self(0)->backpressure), 0);
    cr_assert_gt(atomic_load(&tx->backpressured), 0);
    cr_assert_eq(atomic_load(&tx->eagain), 0);
    stop_pair(pids, total);
}

Test(worker_order, stream_arrives_in_send_order_when_outbox_refuses,
     .timeout = 120)
{
    uint64_t total = harness_count(200000);
    struct integ_report *tx;
    pid_t pids[2];

    /* An outbox of 8: past them a send is refused (-EAGAIN), not queued,
     * and the agent sends that probe again on a later turn. */
    start_pair(16384, 8, pids);
    stream_in_order(total, 100000);
    tx = integ_report(SENDER);
    cr_assert_gt(atomic_load(&integ_self(0)->backpressure), 0);
    cr_assert_gt(atomic_load(&tx->eagain), 0);
    stop_pair(pids, total);
}
