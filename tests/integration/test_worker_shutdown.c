/*
 * tests/integration/test_worker_shutdown.c - a worker told to shut down,
 * by AIRSRT_CTL_SHUTDOWN on its control ring or by SIGTERM, stops every
 * actor in order - children before their parent, the youngest top-level
 * actor first - running each post_stop once, and exits 0.
 *
 * Worker 0 runs a counter (report 0) then an agent (report 1), and the
 * agent spawns a counter child (report 2): the post_stops must come in
 * the order child, agent, counter.
 */
#include <criterion/criterion.h>
#include <signal.h>

#include "shm/doorbell.h"
#include "tests/lib/integ_actors.h"
#include "tests/lib/integ_worker.h"

TestSuite(worker_shutdown, .fini = harness_fini);

enum { ELDEST = 0, PARENT = 1, CHILD = 2 };

/* The tree above, started and alive in worker 0. */
static void await_tree(void)
{
    integ_await_started(ELDEST, 1);
    integ_await_started(PARENT, 1);
    integ_spawn(PARENT, CHILD, 0, AIRSRT_OVERFLOW_DROP_NEWEST);
    for (uint32_t i = ELDEST; i <= CHILD; i++)
        cr_assert_eq(atomic_load(&integ_report(i)->post_stops), 0);
}

/* Each post_stop ran once, in pid, children first, youngest first. */
static void expect_stopped_in_order(pid_t pid)
{
    static const uint32_t order[] = { CHILD, PARENT, ELDEST };

    for (uint32_t rank = 1; rank <= 3; rank++) {
        struct integ_report *r = integ_report(order[rank - 1]);

        cr_assert_eq(atomic_load(&r->post_stops), 1, "report %u",
                     order[rank - 1]);
        cr_assert_eq(atomic_load(&r->post_stop_rank), rank,
                     "report %u stopped as number %u, not %u",
                     order[rank - 1], atomic_load(&r->post_stop_rank), rank);
        cr_assert_eq(atomic_load(&r->post_stop_pid), pid);
    }
    cr_assert_eq(atomic_load(&integ_self(0)->state), AIRSRT_WORKER_STOPPED);
    cr_assert_eq(atomic_load(&integ_self(0)->actors_alive), 0);
}

Test(worker_shutdown, ctl_shutdown_stops_actors_in_order_and_exits_zero,
     .timeout = 60)
{
    pid_t pid;

    wh_runtime(1, NULL);
    integ_actors_setup();
    pid = wh_fork_worker(0, integ_types, "counter=0,agent=1");
    await_tree();
    integ_ctl_shutdown(0);
    cr_assert_eq(integ_exit_status(pid), AIRSRT_EXIT_OK);
    expect_stopped_in_order(pid);
}

Test(worker_shutdown, sigterm_stops_actors_in_order_and_exits_zero,
     .timeout = 60)
{
    char err[1024];
    const char *env[] = { NULL, "AIRSRT_WORKER=0",
                          "AIRSRT_ACTORS=counter=0,agent=1", NULL };
    char *argv[] = { "integ-worker", NULL };
    struct integ_proc p;

    wh_runtime(1, NULL);
    integ_actors_setup();
    env[0] = integ_env_fd();
    /* airsrt_worker_main itself: it is what installs the handler. */
    p = integ_run_main(integ_types, argv, env);
    await_tree();
    /* Asleep on its doorbell: the signal must end the wait. */
    INTEG_AWAIT(atomic_load(&airsrt_shm_doorbell(&harness_shm, 0)
                                 ->is_sleeping) == 1);
    cr_assert_eq(kill(p.pid, SIGTERM), 0);
    cr_assert_eq(integ_finish(&p, err, sizeof(err)), AIRSRT_EXIT_OK,
                 "stderr: %s", err);
    expect_stopped_in_order(p.pid);
}
