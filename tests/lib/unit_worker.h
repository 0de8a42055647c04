/*
 * tests/lib/unit_worker.h - what the in-process worker suites
 * (tests/worker/test_*.c) share: one runtime with one worker per test,
 * opened in the test process and polled until it has nothing left to do,
 * and a log that actor callbacks append to, so that a test can assert
 * what ran and in which order.
 *
 * Callbacks run in the test process, on the thread that polls: they may
 * write the log and static variables of the test file without locks.
 * Criterion runs each test in a process of its own, so that state starts
 * zeroed in every test.
 *
 * The worker stays reachable from unit_w until unit_close(), so a test
 * that fails half-way leaks nothing valgrind calls definite; its segment
 * goes with harness_fini (the .fini of every suite).
 */
#ifndef AIRSRT_TESTS_UNIT_WORKER_H
#define AIRSRT_TESTS_UNIT_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/lib/worker_harness.h"

/* How long unit_settle() waits for a worker to go quiet. */
#define UNIT_SETTLE_MS 20000u

/* The worker of the running test (NULL before unit_open). */
extern struct airsrt_worker *unit_w;

/* Makes a one-worker runtime with actors_max slots (0 = the default) and
 * opens worker 0 in this process with types and opts (NULL = no spinning,
 * defaults otherwise). Fails the test on error. */
struct airsrt_worker *unit_open(const struct airsrt_actor_type *const *types,
                                uint32_t actors_max,
                                const struct airsrt_worker_opts *opts);

/* The same with every runtime parameter (nworkers is taken as 1). */
struct airsrt_worker *
unit_open_with(const struct airsrt_actor_type *const *types,
               const struct airsrt_shm_params *params,
               const struct airsrt_worker_opts *opts);

/* The worker's own context: spawn, send and stop from outside an actor. */
struct airsrt_ctx *unit_ctx(void);

/* Polls unit_w until no envelope is queued, no actor waits to run and no
 * stop is pending, or until it ends. -1 if it went quiet, else its exit
 * status. Fails the test after UNIT_SETTLE_MS. */
int unit_settle(void);

/* Closes unit_w (actors still alive are freed without their hooks). */
void unit_close(void);

/* Spawns type from ctx with opts (may be NULL); fails the test unless
 * airsrt_spawn returns 0. The new actor's address. */
struct airsrt_address unit_spawn(struct airsrt_ctx *ctx,
                                 const struct airsrt_actor_type *type,
                                 const struct airsrt_spawn_opts *opts);

/* Sends seq as an 8-byte payload of type to `to` with priority prio;
 * returns what airsrt_send_ex returned. */
int unit_send_seq(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                  uint32_t type, uint64_t seq, uint8_t prio);

/* The 8-byte sequence number in env's payload; fails the test if the
 * payload is not 8 bytes. */
uint64_t unit_seq(const struct airsrt_envelope *env);

/* unit_w's dead letters of reason so far. */
uint64_t unit_dead(unsigned reason);

/* Counters of unit_w's actors entry for a. */
const struct airsrt_actor_stats *unit_stats(const struct airsrt_address *a);

/* The lifecycle state (enum airsrt_actor_state) a's entry shows. */
unsigned unit_state(const struct airsrt_address *a);

/* The context a callback of the live actor at a gets, so that a test can
 * call the API as that actor. Fails the test if a names no live actor
 * of unit_w. */
struct airsrt_ctx unit_actor_ctx(const struct airsrt_address *a);

/* The registry's groups_epoch as unit_w sees it: it moves whenever the
 * worker changes the topics or pool members it publishes. */
uint64_t unit_groups_epoch(void);

/* ---- the log ---- */

#define UNIT_LOG_MAX 4096u

/* One thing a callback saw: what happened (a test's own code), who (a
 * test's own tag, often a slot) and a value. */
struct unit_event {
    uint32_t what;
    uint32_t who;
    uint64_t value;
};

extern struct unit_event unit_events[UNIT_LOG_MAX];
extern uint32_t unit_nevents;

/* Appends an event; past UNIT_LOG_MAX the test fails. */
void unit_log(uint32_t what, uint32_t who, uint64_t value);

/* Events with this what, in order, copied to out (at most max). */
uint32_t unit_log_select(uint32_t what, struct unit_event *out, uint32_t max);

/* How many events have this what (and this who, unless who is
 * UNIT_ANY). */
#define UNIT_ANY UINT32_MAX
uint32_t unit_log_count(uint32_t what, uint32_t who);

#endif
