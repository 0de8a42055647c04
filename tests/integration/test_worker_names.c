/*
 * tests/integration/test_worker_names.c - names across worker deaths and
 * moves. An envelope sent to a name carries the name's registry id and is
 * resolved by the worker that receives it, so:
 *
 *  - envelopes sent to a name while its worker is dead (kill -9) wait in
 *    the ring and reach the name's holder in the worker's next
 *    incarnation, which binds the same registry id;
 *  - envelopes queued for a worker whose name has moved to another worker
 *    meanwhile are forwarded there, not dropped.
 *
 * The test plays the supervisor: after a kill it unbinds the dead
 * incarnation's names and gives the slot its next incarnation.
 */
#include <criterion/criterion.h>

#include "tests/lib/integ_actors.h"
#include "tests/lib/integ_worker.h"

TestSuite(worker_names, .fini = harness_fini);

enum { HOLDER = 0, SENDER = 1, BYSTANDER = 2 };

/* The holder's report: everything arrived once, in order. */
static void expect_in_order(uint64_t total)
{
    struct integ_report *r = integ_report(HOLDER);

    cr_assert_eq(atomic_load(&r->received), total);
    cr_assert_eq(atomic_load(&r->out_of_order), 0,
                 "first probe out of order: seq %llu",
                 (unsigned long long)atomic_load(&r->first_bad_seq) - 1);
    cr_assert_eq(atomic_load(&r->next_seq), total);
    cr_assert_eq(atomic_load(&integ_report(SENDER)->error), 0, "send: %s",
                 airsrt_strerror(atomic_load(&integ_report(SENDER)->error)));
}

Test(worker_names, envelopes_sent_while_holder_is_dead_reach_next_incarnation,
     .timeout = 120)
{
    struct integ_report *holder, *sender;
    struct airsrt_address first, second;
    uint32_t id, id_again;
    pid_t pid0, pid1;

    wh_runtime(2, NULL);
    integ_actors_setup();
    holder = integ_report(HOLDER);
    sender = integ_report(SENDER);
    pid0 = wh_fork_worker(0, integ_types, "counter@ledger=0");
    pid1 = wh_fork_worker(1, integ_types, "agent=1");
    id = integ_await_name("ledger", 0, 1, &first);
    integ_await_started(SENDER, 1);

    /* Worker 1 learns where "ledger" lives by using it. */
    integ_send_name(SENDER, "ledger", 100);
    INTEG_AWAIT(atomic_load(&holder->received) == 100);

    harness_kill(pid0);
    integ_reap_incarnation(0, 1);
    /* Nobody holds the name now: worker 1 sends to its last holder's
     * worker, where the envelopes wait in the ring. */
    integ_send_name(SENDER, "ledger", 200);
    INTEG_AWAIT(atomic_load(&sender->sent) == 300 ||
                atomic_load(&sender->error) != 0);
    cr_assert_eq(atomic_load(&sender->error), 0, "send while dead: %s",
                 airsrt_strerror(atomic_load(&sender->error)));
    cr_assert_eq(atomic_load(&holder->received), 100);

    pid0 = wh_fork_worker(0, integ_types, "counter@ledger=0");
    id_again = integ_await_name("ledger", 0, 2, &second);
    cr_assert_eq(id_again, id, "the name changed its registry id");
    INTEG_AWAIT(atomic_load(&holder->received) >= 300);
    /* Exactly what was sent while it was dead reached the new one. */
    cr_assert_eq(atomic_load(&holder->received_at[0][1]), 100);
    cr_assert_eq(atomic_load(&holder->received_at[0][2]), 200);
    expect_in_order(300);
    cr_assert_eq(integ_dead_letters_all(0), 0);
    cr_assert_eq(integ_dead_letters_all(1), 0);

    integ_ctl_shutdown(0);
    integ_ctl_shutdown(1);
    cr_assert_eq(integ_exit_status(pid0), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pid1), AIRSRT_EXIT_OK);
    /* Published when it stopped: the runtime's own count agrees. */
    cr_assert_eq(atomic_load(&integ_actor(&second)->handled), 200);
}

Test(worker_names, envelopes_queued_for_old_holder_are_forwarded_to_new_one,
     .timeout = 120)
{
    struct integ_report *holder, *sender;
    struct airsrt_address moved;
    uint32_t id;
    pid_t pid0, pid1, pid2;

    wh_runtime(3, NULL);
    integ_actors_setup();
    holder = integ_report(HOLDER);
    sender = integ_report(SENDER);
    pid0 = wh_fork_worker(0, integ_types, "counter@mover=0");
    pid1 = wh_fork_worker(1, integ_types, "agent=1");
    id = integ_await_name("mover", 0, 1, NULL);
    integ_await_started(SENDER, 1);
    integ_send_name(SENDER, "mover", 10);
    INTEG_AWAIT(atomic_load(&holder->received) == 10);

    /* Queue 100 for worker 0 while it is dead... */
    harness_kill(pid0);
    integ_reap_incarnation(0, 1);
    integ_send_name(SENDER, "mover", 100);
    INTEG_AWAIT(atomic_load(&sender->sent) == 110 ||
                atomic_load(&sender->error) != 0);
    /* ...then the name moves to worker 2 before worker 0 comes back. */
    pid2 = wh_fork_worker(2, integ_types, "counter@mover=0");
    cr_assert_eq(integ_await_name("mover", 2, 1, &moved), id);
    pid0 = wh_fork_worker(0, integ_types, "counter=2");
    integ_await_started(BYSTANDER, 1);

    INTEG_AWAIT(atomic_load(&holder->received) >= 110);
    cr_assert_eq(atomic_load(&holder->received_at[2][1]), 100);
    cr_assert_eq(atomic_load(&integ_self(0)->forwarded), 100);
    cr_assert_eq(atomic_load(&integ_report(BYSTANDER)->received), 0);

    /* Worker 1 now sends straight to worker 2: nothing more to forward. */
    integ_send_name(SENDER, "mover", 50);
    INTEG_AWAIT(atomic_load(&holder->received) >= 160);
    cr_assert_eq(atomic_load(&holder->received_at[2][1]), 150);
    cr_assert_eq(atomic_load(&integ_self(0)->forwarded), 100);
    expect_in_order(160);
    for (uint32_t w = 0; w < 3; w++)
        cr_assert_eq(integ_dead_letters_all(w), 0, "worker %u", w);

    for (uint32_t w = 0; w < 3; w++)
        integ_ctl_shutdown(w);
    cr_assert_eq(integ_exit_status(pid0), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pid1), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pid2), AIRSRT_EXIT_OK);
}
