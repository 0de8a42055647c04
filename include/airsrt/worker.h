/*
 * airsrt/worker.h - the entry point of a worker binary.
 *
 * A worker binary is the user's actor types plus
 *
 *   int main(int argc, char **argv)
 *   {
 *       static const struct airsrt_actor_type *const types[] = {
 *           &pinger, &ponger, NULL };
 *       return airsrt_worker_main(argc, argv, types);
 *   }
 *
 * Started by the supervisor (airsrt-run), it finds everything in its
 * environment:
 *
 *   AIRSRT_FD            the runtime's segment, an inherited descriptor
 *   AIRSRT_WORKER        this worker's index in the runtime
 *   AIRSRT_ACTORS        the actors to start, in order (a start list)
 *   AIRSRT_SPIN_US       optional: how long an idle worker polls its rings
 *                        before it sleeps on its doorbell (default 50)
 *   AIRSRT_HEARTBEAT_MS  optional: how often an idle worker wakes to show
 *                        it is alive (default 100)
 *   AIRSRT_READY_FD      optional: a descriptor (the write end of a pipe).
 *                        Once every actor of the start list has started
 *                        (all pre_starts succeeded) the worker writes the
 *                        one byte 'R' to it and closes it; a start that
 *                        fails exits AIRSRT_EXIT_START_FAILED without
 *                        writing. The supervisor starts the next child
 *                        only then, as OTP does.
 *   AIRSRT_SPARE_FD      optional, instead of AIRSRT_WORKER: spare mode
 *   AIRSRT_EXIT_FD       optional: a descriptor the supervisor watches
 *                        for the worker's death (a pipe, where pidfds
 *                        are missing). The worker only makes it
 *                        close-on-exec, so that no program an actor
 *                        starts keeps it open after the worker died.
 *
 * A spare is a worker process started before it is needed, so that a
 * restart costs no fork, exec or set-up. It attaches the segment and
 * prepares everything that does not depend on its index, shows itself as
 * "airsrt: RUNTIME/spare", and blocks reading AIRSRT_SPARE_FD (a socket)
 * for one line: "W\n" or "W ACTORS\n", W a worker index in decimal and
 * ACTORS a start list that replaces AIRSRT_ACTORS. End of file or a
 * malformed line: it exits 0 without a word (its supervisor is shutting
 * down). After the line it is worker W exactly as if started with
 * AIRSRT_WORKER=W (the supervisor has set that slot's incarnation already),
 * and reports readiness by writing 'R' to that same socket, then closes
 * it.
 *
 * The supervisor is the worker's parent and the segment's owner (its
 * owner_pid). A worker it started asks for SIGTERM when its parent dies
 * (PR_SET_PDEATHSIG) and compares its parent with owner_pid when it opens
 * and at every heartbeat. If the supervisor is gone, the worker says
 *
 *   airsrt worker NAME: supervisor (pid P) is gone; shutting down
 *
 * on stderr and exits 0: at once when it finds out at open, without
 * running an actor; later through the same orderly shutdown as SIGTERM.
 * While it runs, a worker shows "airsrt: RUNTIME/NAME" in ps, NAME being
 * its slot's name (struct airsrt_worker_sup, "group[i]"), when main gives
 * it the process's own argc and argv.
 *
 * Started by hand, it runs as the only worker of a private runtime:
 *
 *   PROG --standalone [--runtime NAME] [--actors-max N] ACTOR...
 *
 * where each ACTOR is one start-list entry. The runtime (default name
 * PROG-PID) is removed when the worker ends. Started by hand without
 * --standalone, it says how to start it and exits AIRSRT_EXIT_USAGE.
 *
 * Start list: entries separated by ',', each TYPE[@NAME][=INIT]: the
 * actor type's name, the name to register it under, and its spawn
 * argument, whose bytes are given as they are except that %XX stands for
 * the byte with hex value XX and ',' and '%' must be written %2C and %25.
 * A NAME cannot contain ',', '=' or '%'.
 *
 * The worker attaches the segment, takes its protection map, takes over
 * the names its previous incarnation held, starts the listed actors and
 * runs until one of the exit statuses below.
 */
#ifndef AIRSRT_WORKER_H
#define AIRSRT_WORKER_H

#include "airsrt/actor.h"

/* Exit statuses of a worker process. */
#define AIRSRT_EXIT_OK           0   /* every actor stopped, or it was told
                                        to shut down (SIGTERM, SIGINT,
                                        AIRSRT_CTL_SHUTDOWN), or its
                                        supervisor is gone; a spare that
                                        was never handed a worker */
#define AIRSRT_EXIT_USAGE        100 /* bad environment or arguments, an
                                        unknown actor type */
#define AIRSRT_EXIT_SYSTEM       111 /* the segment or memory failed it */
#define AIRSRT_EXIT_ESCALATED    112 /* an actor failure escalated past the
                                        worker's top-level actors */
#define AIRSRT_EXIT_START_FAILED 113 /* a listed actor's pre_start failed */

#define AIRSRT_ENV_FD           "AIRSRT_FD"
#define AIRSRT_ENV_WORKER       "AIRSRT_WORKER"
#define AIRSRT_ENV_ACTORS       "AIRSRT_ACTORS"
#define AIRSRT_ENV_SPIN_US      "AIRSRT_SPIN_US"
#define AIRSRT_ENV_HEARTBEAT_MS "AIRSRT_HEARTBEAT_MS"
#define AIRSRT_ENV_READY_FD     "AIRSRT_READY_FD"
#define AIRSRT_ENV_SPARE_FD     "AIRSRT_SPARE_FD"
#define AIRSRT_ENV_EXIT_FD      "AIRSRT_EXIT_FD"

/*
 * Runs this process as a worker (see above) and returns its exit status,
 * for main to return. types is a NULL-terminated list of the actor types
 * this binary hosts, with distinct names.
 */
int airsrt_worker_main(int argc, char **argv,
                       const struct airsrt_actor_type *const types[]);

#endif
