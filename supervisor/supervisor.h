/*
 * supervisor/supervisor.h - the OS-level supervision tree: one runtime
 * made of worker processes, started, watched, restarted and stopped as
 * OTP defines it. airsrt-run is a thin command line around this.
 *
 * The supervisor is single-threaded. It learns of a worker's death from
 * the kernel at once (a exitfd per worker, in one epoll set), of a hang
 * from the worker's heartbeat (checked every heartbeat interval), and of
 * SIGTERM / SIGINT through a signalfd. Starting and stopping children
 * are synchronous, as in OTP: a child starts once the previous one is
 * ready, and a stop waits for the process to be gone; deaths that happen
 * meanwhile wait in the epoll set and are handled next, in order.
 *
 * Who owns what: the supervisor creates the segment and is its owner
 * (header owner_pid); it alone writes the worker_sup part of each slot,
 * reaps every worker it forked (no zombies), and unlinks the segment when
 * it ends. Workers die with it: they take PR_SET_PDEATHSIG and check
 * their parent (airsrt/worker.h).
 */
#ifndef AIRSRT_SUPERVISOR_SUPERVISOR_H
#define AIRSRT_SUPERVISOR_SUPERVISOR_H

#include <stddef.h>
#include <stdio.h>

#include "supervisor/config.h"

/* airsrt-run's exit statuses, beyond 0 (orderly shutdown). */
#define AIRSRT_RUN_EXIT_USAGE        100  /* bad arguments or config */
#define AIRSRT_RUN_EXIT_SYSTEM       111  /* a system call failed it */
#define AIRSRT_RUN_EXIT_GAVE_UP      112  /* the root supervisor exceeded
                                             its restart intensity */
#define AIRSRT_RUN_EXIT_START_FAILED 113  /* a child did not start */

struct airsrt_supervisor;

/*
 * Creates the runtime of cfg (which must outlive it): the segment (a
 * stale one of a dead owner is reclaimed), the event log, the signal
 * handling. Starts nothing. 0 or -errno with err saying why.
 */
int airsrt_supervisor_open(struct airsrt_supervisor **out,
                           const struct airsrt_config *cfg,
                           char *err, size_t len);

/*
 * Starts the tree and supervises it until it ends: SIGTERM or SIGINT,
 * an auto_shutdown, or the root giving up. Everything is stopped in
 * reverse start order on the way out. Returns the exit status for
 * airsrt-run; why says what ended it.
 */
int airsrt_supervisor_run(struct airsrt_supervisor *s, char *why, size_t len);

/* Per worker: incarnation, restarts, envelopes in and out over every
 * incarnation; then the totals. Readable text, for the end of a run. */
void airsrt_supervisor_summary(const struct airsrt_supervisor *s, FILE *f);

/* Removes the segment and frees everything. Safe on NULL. */
void airsrt_supervisor_close(struct airsrt_supervisor *s);

#endif
