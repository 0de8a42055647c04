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
                                        AIRSRT_CTL_SHUTDOWN) */
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

/*
 * Runs this process as a worker (see above) and returns its exit status,
 * for main to return. types is a NULL-terminated list of the actor types
 * this binary hosts, with distinct names.
 */
int airsrt_worker_main(int argc, char **argv,
                       const struct airsrt_actor_type *const types[]);

#endif
