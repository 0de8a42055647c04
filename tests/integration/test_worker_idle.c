/*
 * tests/integration/test_worker_idle.c - a worker with nothing to do
 * sleeps on its doorbell instead of polling: it costs next to no CPU, and
 * an envelope sent to it still wakes it and is handled.
 */
#include <criterion/criterion.h>
#include <time.h>
#include <unistd.h>

#include "shm/doorbell.h"
#include "tests/lib/integ_actors.h"
#include "tests/lib/integ_worker.h"

TestSuite(worker_idle, .fini = harness_fini);

enum { IDLER = 0, POKER = 1 };

#define IDLE_MS 1000u

/*
 * The bound: 5% of one CPU over the idle second. An idle worker wakes
 * once per heartbeat (10 times a second by default), polls its rings and
 * spins 50 us before it sleeps again: well under 1% even under valgrind.
 * A worker that polled instead of sleeping would use all of a CPU, and
 * one that woke every millisecond would use several percent. CPU time is
 * what the worker itself used, so a busy machine (which stretches the
 * wall time) does not raise it; the bound is taken over the wall time
 * that really passed.
 */
#define IDLE_CPU_PERCENT 5u

/* True once the worker has been seen asleep on its doorbell. */
static bool is_asleep(uint32_t w)
{
    return atomic_load(&airsrt_shm_doorbell(&harness_shm, w)->is_sleeping) ==
           1;
}

Test(worker_idle, idle_worker_sleeps_then_wakes_for_an_envelope,
     .timeout = 60)
{
    struct airsrt_address idler;
    uint64_t t0, t1, ticks0, ticks1, cpu_ns, wall_ns;
    long hz = sysconf(_SC_CLK_TCK);
    pid_t pid0, pid1;

    cr_assert_gt(hz, 0);
    wh_runtime(2, NULL);
    integ_actors_setup();
    pid0 = wh_fork_worker(0, integ_types, "counter@idler=0");
    integ_await_name("idler", 0, 1, &idler);
    integ_await_started(IDLER, 1);
    /* Running, started, and nothing sent to it: it goes to sleep. */
    INTEG_AWAIT(is_asleep(0));

    t0 = airsrt_now_ns();
    ticks0 = integ_cpu_ticks(pid0);
    integ_sleep_ms(IDLE_MS);
    ticks1 = integ_cpu_ticks(pid0);
    t1 = airsrt_now_ns();
    cpu_ns = (ticks1 - ticks0) * (1000000000u / (uint64_t)hz);
    wall_ns = t1 - t0;
    cr_log_info("idle worker: %llu ms of CPU in %llu ms",
                (unsigned long long)(cpu_ns / 1000000),
                (unsigned long long)(wall_ns / 1000000));
    cr_assert_lt(cpu_ns * 100, wall_ns * IDLE_CPU_PERCENT,
                 "idle worker used %llu ms of CPU in %llu ms",
                 (unsigned long long)(cpu_ns / 1000000),
                 (unsigned long long)(wall_ns / 1000000));
    cr_assert_eq(atomic_load(&integ_report(IDLER)->received), 0);

    /* An envelope from another worker wakes it; the ack proves it was
     * handled there, not just read. */
    pid1 = wh_fork_worker(1, integ_types, "agent=1");
    integ_await_started(POKER, 1);
    integ_command(POKER, &(struct integ_cmd){ .op = INTEG_OP_SEND_NAME,
                                              .count = 1, .want_ack = 1,
                                              .name = "idler" });
    INTEG_AWAIT(atomic_load(&integ_report(POKER)->acks) == 1);
    cr_assert_eq(atomic_load(&integ_report(IDLER)->received_at[0][1]), 1);
    cr_assert_eq(atomic_load(&integ_actor(&idler)->handled), 1);
    cr_assert_eq(atomic_load(&integ_report(POKER)->error), 0);

    integ_ctl_shutdown(0);
    integ_ctl_shutdown(1);
    cr_assert_eq(integ_exit_status(pid0), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pid1), AIRSRT_EXIT_OK);
}
