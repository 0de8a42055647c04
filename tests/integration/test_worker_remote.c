/*
 * tests/integration/test_worker_remote.c - what an actor in one worker
 * process does to an actor in another besides sending it mail: fill its
 * bounded mailbox (a rejecting one answers with AIRSRT_MSG_REJECTED, and
 * counts the dead letter where it refused it) and stop it (its post_stop
 * runs in its own worker).
 */
#include <criterion/criterion.h>
#include <signal.h>

#include "tests/lib/integ_actors.h"
#include "tests/lib/integ_worker.h"

TestSuite(worker_remote, .fini = harness_fini);

enum { VICTIM = 0, SENDER = 1, SPAWNER = 2, SINK = 3, KEEPER = 4 };

#define SINK_BOUND 4u
#define BURST      64u

/*
 * Every probe of the burst was either handled by the sink or refused with
 * its own message id. The agent's burst is one run of sends with nothing
 * else sent between them, so its message ids are consecutive, from its
 * worker's origin (airsrt/envelope.h): each refused probe's id must be
 * the one its sequence number puts it at.
 */
static void expect_each_probe_once(const struct integ_report *rx,
                                   const struct integ_report *tx)
{
    uint64_t base = 0;

    for (uint64_t seq = 0; seq < BURST; seq++) {
        uint64_t got = rx->msgid[seq], refused = tx->rejected_msgid[seq];

        cr_assert((got != 0) != (refused != 0),
                  "probe %llu: handled id %#llx, refused id %#llx",
                  (unsigned long long)seq, (unsigned long long)got,
                  (unsigned long long)refused);
        if (base == 0)
            base = (got ? got : refused) - seq;
        cr_assert_eq(got ? got : refused, base + seq,
                     "probe %llu: message id out of line",
                     (unsigned long long)seq);
    }
    cr_assert_eq(airsrt_msgid_origin(base), 1);
}

Test(worker_remote, full_reject_mailbox_answers_remote_sender_with_rejected,
     .timeout = 120)
{
    struct integ_report *rx, *tx;
    struct airsrt_address sink;
    uint64_t handled, refused;
    pid_t pid0, pid1;

    wh_runtime(2, NULL);
    integ_actors_setup();
    rx = integ_report(SINK);
    tx = integ_report(SENDER);
    pid0 = wh_fork_worker(0, integ_types, "agent=2");
    pid1 = wh_fork_worker(1, integ_types, "agent=1");
    integ_await_started(SPAWNER, 1);
    integ_await_started(SENDER, 1);
    sink = integ_spawn(SPAWNER, SINK, SINK_BOUND, AIRSRT_OVERFLOW_REJECT);

    /* One burst, published at once: worker 0 takes it from the ring in
     * one read, so the sink's mailbox fills before the sink runs. */
    integ_send_addr(SENDER, &sink, BURST);
    INTEG_AWAIT(atomic_load(&rx->received) + atomic_load(&tx->rejected) >=
                BURST);
    handled = atomic_load(&rx->received);
    refused = atomic_load(&tx->rejected);
    cr_assert_eq(handled + refused, BURST);
    cr_assert_geq(handled, SINK_BOUND);
    cr_assert_gt(refused, 0);
    cr_assert_eq(atomic_load(&tx->rejected_bad), 0);
    cr_assert(airsrt_address_equal(&tx->rejected_by, &sink));
    cr_assert_eq(atomic_load(&rx->out_of_order), 0);
    expect_each_probe_once(rx, tx);
    /* Counted where the mailbox refused them, and nowhere else. */
    cr_assert_eq(integ_dead_letters(0, AIRSRT_DL_MAILBOX_FULL), refused);
    cr_assert_eq(integ_dead_letters_all(0), refused);
    cr_assert_eq(integ_dead_letters_all(1), 0);
    cr_assert_eq(atomic_load(&tx->unexpected), 0);

    integ_ctl_shutdown(0);
    integ_ctl_shutdown(1);
    cr_assert_eq(integ_exit_status(pid0), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pid1), AIRSRT_EXIT_OK);
}

Test(worker_remote, stop_of_actor_in_other_worker_runs_post_stop_there,
     .timeout = 120)
{
    struct integ_report *victim, *keeper;
    struct airsrt_address victim_at, keeper_at;
    pid_t pid0, pid1;

    wh_runtime(2, NULL);
    integ_actors_setup();
    victim = integ_report(VICTIM);
    keeper = integ_report(KEEPER);
    pid0 = wh_fork_worker(0, integ_types, "counter=0,counter=4");
    pid1 = wh_fork_worker(1, integ_types, "agent=1");
    victim_at = integ_await_started(VICTIM, 1);
    keeper_at = integ_await_started(KEEPER, 1);
    integ_await_started(SENDER, 1);

    integ_stop(SENDER, &victim_at);
    INTEG_AWAIT(atomic_load(&victim->post_stops) == 1);
    cr_assert_eq(atomic_load(&victim->post_stop_pid), pid0);
    INTEG_AWAIT(atomic_load(&integ_actor(&victim_at)->state) ==
                AIRSRT_ACTOR_STOPPED);
    /* Gone for good: its address is stale now. */
    integ_send_addr(SENDER, &victim_at, 1);
    INTEG_AWAIT(integ_dead_letters(0, AIRSRT_DL_STALE) == 1);
    /* Nobody else was stopped, and worker 0 goes on. */
    integ_send_addr(SENDER, &keeper_at, 1);
    INTEG_AWAIT(atomic_load(&keeper->received) == 1);
    cr_assert_eq(atomic_load(&keeper->post_stops), 0);
    cr_assert_eq(kill(pid0, 0), 0);
    cr_assert_eq(atomic_load(&integ_self(0)->state), AIRSRT_WORKER_RUNNING);

    integ_ctl_shutdown(0);
    integ_ctl_shutdown(1);
    cr_assert_eq(integ_exit_status(pid0), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pid1), AIRSRT_EXIT_OK);
    /* post_stop ran exactly once for each. */
    cr_assert_eq(atomic_load(&victim->post_stops), 1);
    cr_assert_eq(atomic_load(&keeper->post_stops), 1);
}
