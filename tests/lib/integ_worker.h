/*
 * tests/lib/integ_worker.h - what the worker integration suites share on
 * top of worker_harness.h: talking to running workers the way the tools
 * and the supervisor will (their control rings, the registry, the worker
 * table), waiting for what they report in shared memory, reading a
 * process's CPU time, and running airsrt_worker_main() as a user would,
 * with its stderr captured.
 *
 * Nothing here waits without a deadline: every wait fails the test with
 * what it was waiting for, well before the test's own .timeout, so a hung
 * worker shows as a reason, not as a killed test. Children are forked with
 * harness_fork(), so harness_fini reaps them whatever happens.
 */
#ifndef AIRSRT_TESTS_INTEG_WORKER_H
#define AIRSRT_TESTS_INTEG_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/lib/worker_harness.h"

/* How long a wait may take by default: generous, for valgrind on a busy
 * two-core machine. Suites set .timeout above what their waits add up to. */
#define INTEG_WAIT_MS 30000u

/* CLOCK_MONOTONIC deadline ms from now, and whether it is still ahead. */
uint64_t integ_deadline(uint32_t ms);
bool integ_is_before(uint64_t deadline);

/* Sleeps a millisecond: the step of every polling wait. */
void integ_nap(void);

/* Sleeps ms milliseconds, however many signals arrive. */
void integ_sleep_ms(uint32_t ms);

/*
 * Polls cond every millisecond until it holds; fails the test after ms
 * milliseconds, naming the condition. cond is re-evaluated each time, so
 * it may read shared memory that workers write. The condition's text is
 * taken here, before its macros (atomic_load) are expanded.
 */
#define INTEG_AWAIT_MS(cond, ms) integ_await_((cond), (ms), #cond)
#define INTEG_AWAIT(cond) integ_await_((cond), INTEG_WAIT_MS, #cond)
#define integ_await_(cond, ms, text)                                        \
    do {                                                                    \
        uint64_t integ_until_ = integ_deadline(ms);                         \
        while (!(cond)) {                                                   \
            cr_assert(integ_is_before(integ_until_),                        \
                      "%s:%d: still not true after %u ms: %s", __FILE__,     \
                      __LINE__, (unsigned)(ms), text);                      \
            integ_nap();                                                    \
        }                                                                   \
    } while (0)

/* Waits up to INTEG_WAIT_MS for child pid to end, then reaps it; returns
 * its exit code, or 128 + the signal that ended it (as wh_exit_status). */
int integ_exit_status(pid_t pid);

/*
 * Pushes an envelope of type with len bytes of payload onto worker w's
 * control ring, addressed to actor to (NULL: to nobody, a command for the
 * worker itself), as a tool does; rings w's doorbell so that a sleeping
 * worker takes it now rather than at its next heartbeat. Fails the test if
 * the ring refuses it.
 */
void integ_ctl_send(uint32_t w, const struct airsrt_address *to,
                    uint32_t type, const void *payload, uint32_t len);

/* AIRSRT_CTL_SHUTDOWN for worker w. */
void integ_ctl_shutdown(uint32_t w);

/*
 * Waits until name is bound to an actor of worker w, incarnation inc, and
 * returns its registry id; stores the holder in *addr if addr is not NULL.
 */
uint32_t integ_await_name(const char *name, uint32_t w, uint32_t inc,
                          struct airsrt_address *addr);

/*
 * The supervisor's part after worker w of incarnation inc died: unbinds
 * the names that incarnation held and gives the slot incarnation inc + 1,
 * so the worker can be started again.
 */
void integ_reap_incarnation(uint32_t w, uint32_t inc);

/* Worker w's self page and its actor slot's counters in the segment. */
struct airsrt_worker_self *integ_self(uint32_t w);
struct airsrt_actor_stats *integ_actor(const struct airsrt_address *a);

/* Dead letters worker w counted for reason, and for all reasons. */
uint64_t integ_dead_letters(uint32_t w, unsigned reason);
uint64_t integ_dead_letters_all(uint32_t w);

/*
 * As wh_fork_worker(), with worker options of the test's choosing (o may
 * set outbox_max, spin_ns, ...; stop_flag is ignored).
 */
pid_t integ_fork_worker_opts(uint32_t w,
                             const struct airsrt_actor_type *const *types,
                             const char *start,
                             const struct airsrt_worker_opts *o);

/* User CPU plus system CPU pid has used, in clock ticks (utime + stime of
 * /proc/<pid>/stat). Fails the test if pid is gone. */
uint64_t integ_cpu_ticks(pid_t pid);

/* "AIRSRT_FD=<n>", n a descriptor of the test's segment that survives
 * exec (made once per test process). */
const char *integ_env_fd(void);

/*
 * A process started the way a user or the supervisor starts a worker
 * binary: the AIRSRT_* variables of the test's own environment removed,
 * the "NAME=value" strings of env (NULL-terminated, may be NULL) set, and
 * stderr going to a pipe the test reads.
 */
struct integ_proc {
    pid_t pid;
    int err_fd;             /* read end of the child's stderr */
};

/* Forks a child that calls airsrt_worker_main(argc, argv, types) itself
 * (argv NULL-terminated) and exits with what it returns. */
struct integ_proc integ_run_main(const struct airsrt_actor_type *const *types,
                                 char *const argv[], const char *const *env);

/* Forks a child that execs the binary at path with argv. */
struct integ_proc integ_run_exec(const char *path, char *const argv[],
                                 const char *const *env);

/*
 * Reads the child's stderr to its end into buf (NUL-terminated, cut to
 * len), waits for it and returns its exit code, or 128 + the signal that
 * ended it. Fails the test if stderr stays open past INTEG_WAIT_MS.
 */
int integ_finish(struct integ_proc *p, char *buf, size_t len);

#endif
