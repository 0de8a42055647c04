/*
 * tests/integration/test_worker_stale.c - a stale address never reaches
 * another actor. An address names one incarnation of one actor; once its
 * worker restarted, or the actor stopped, an envelope sent to it becomes
 * a dead letter (reason stale) in the worker it reaches - even when the
 * actor now in that slot has the same slot number and generation (a new
 * incarnation), or the same slot with the next generation (a new actor).
 *
 * Each test ends with a sentinel: one probe to the live actor, sent after
 * the stale ones on the same ring. Rings are FIFO, so once the sentinel
 * has arrived, every stale envelope has been dealt with, and the live
 * actor's count shows that none of them reached it.
 */
#include <criterion/criterion.h>

#include "tests/lib/integ_actors.h"
#include "tests/lib/integ_worker.h"

TestSuite(worker_stale, .fini = harness_fini);

enum { TARGET = 0, SENDER = 1, SPAWNER = 2, OLD = 3, NEW = 4 };

/* Waits until worker w has counted want stale dead letters. */
static void await_stale(uint32_t w, uint64_t want)
{
    INTEG_AWAIT(integ_dead_letters(w, AIRSRT_DL_STALE) >= want);
    cr_assert_eq(integ_dead_letters(w, AIRSRT_DL_STALE), want);
}

Test(worker_stale, address_of_previous_incarnation_becomes_dead_letter,
     .timeout = 120)
{
    struct integ_report *target;
    struct airsrt_address old, now;
    pid_t pid0, pid1;

    wh_runtime(2, NULL);
    integ_actors_setup();
    target = integ_report(TARGET);
    pid0 = wh_fork_worker(0, integ_types, "counter=0");
    pid1 = wh_fork_worker(1, integ_types, "agent=1");
    old = integ_await_started(TARGET, 1);
    integ_await_started(SENDER, 1);
    integ_send_addr(SENDER, &old, 1);
    INTEG_AWAIT(atomic_load(&target->received) == 1);

    harness_kill(pid0);
    integ_reap_incarnation(0, 1);
    /* Five wait in the ring while worker 0 is dead... */
    integ_send_addr(SENDER, &old, 5);
    INTEG_AWAIT(atomic_load(&integ_report(SENDER)->sent) == 6);
    pid0 = wh_fork_worker(0, integ_types, "counter=0");
    now = integ_await_started(TARGET, 2);
    /* The same slot and generation: only the incarnation tells them
     * apart. */
    cr_assert_eq(now.slot, old.slot);
    cr_assert_eq(now.generation, old.generation);
    cr_assert_eq(now.incarnation, old.incarnation + 1);
    await_stale(0, 5);
    /* ...and three more are sent after it came back. */
    integ_send_addr(SENDER, &old, 3);
    await_stale(0, 8);

    integ_send_addr(SENDER, &now, 1);
    INTEG_AWAIT(atomic_load(&target->received_at[0][2]) == 1);
    cr_assert_eq(atomic_load(&target->received), 2);
    cr_assert_eq(integ_dead_letters_all(0), 8);
    cr_assert_eq(integ_dead_letters_all(1), 0);
    cr_assert_eq(atomic_load(&integ_report(SENDER)->error), 0);

    integ_ctl_shutdown(0);
    integ_ctl_shutdown(1);
    cr_assert_eq(integ_exit_status(pid0), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pid1), AIRSRT_EXIT_OK);
    /* Published when it stopped: the runtime's own count agrees. */
    cr_assert_eq(atomic_load(&integ_actor(&now)->handled), 1);
}

Test(worker_stale, address_of_stopped_actor_in_other_worker_becomes_dead_letter,
     .timeout = 120)
{
    struct airsrt_address old, now;
    pid_t pid0, pid1;

    wh_runtime(2, NULL);
    integ_actors_setup();
    pid0 = wh_fork_worker(0, integ_types, "agent=2");
    pid1 = wh_fork_worker(1, integ_types, "agent=1");
    integ_await_started(SPAWNER, 1);
    integ_await_started(SENDER, 1);
    old = integ_spawn(SPAWNER, OLD, 0, AIRSRT_OVERFLOW_DROP_NEWEST);
    integ_send_addr(SENDER, &old, 1);
    INTEG_AWAIT(atomic_load(&integ_report(OLD)->received) == 1);

    integ_stop(SPAWNER, &old);
    INTEG_AWAIT(atomic_load(&integ_report(OLD)->post_stops) == 1);
    /* The freed slot goes to the next actor, one generation up. */
    now = integ_spawn(SPAWNER, NEW, 0, AIRSRT_OVERFLOW_DROP_NEWEST);
    cr_assert_eq(now.slot, old.slot);
    cr_assert_eq(now.generation, old.generation + 1);
    cr_assert_eq(now.incarnation, old.incarnation);

    integ_send_addr(SENDER, &old, 4);
    await_stale(0, 4);
    integ_send_addr(SENDER, &now, 1);
    INTEG_AWAIT(atomic_load(&integ_report(NEW)->received) == 1);
    cr_assert_eq(atomic_load(&integ_report(OLD)->received), 1);
    cr_assert_eq(integ_dead_letters_all(0), 4);
    cr_assert_eq(atomic_load(&integ_report(SENDER)->error), 0);

    integ_ctl_shutdown(0);
    integ_ctl_shutdown(1);
    cr_assert_eq(integ_exit_status(pid0), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pid1), AIRSRT_EXIT_OK);
    cr_assert_eq(atomic_load(&integ_actor(&now)->handled), 1);
}
