/*
 * tests/lib/worker_harness.h - running workers in a test, until the
 * supervisor (airsrt-run) exists: a runtime segment made by the test,
 * workers opened in the test process itself (unit tests), forked from it
 * (integration tests, under the protection map, as airsrt_worker_main
 * runs them), or exec'd from a built binary with the environment the
 * supervisor gives.
 *
 * Cleanup contract (as harness.h): every suite names .fini = harness_fini;
 * the segment's name is unlinked at once, children die with the test.
 * Workers opened in-process are closed by wh_close() or by harness_fini's
 * exit; shared scratch memory needs no cleanup.
 */
#ifndef AIRSRT_TESTS_WORKER_HARNESS_H
#define AIRSRT_TESTS_WORKER_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/lib/harness.h"
#include "worker/worker_impl.h"

/* Makes harness_shm a runtime of nworkers; p may set ring_bytes,
 * actors_max, payload_max (nworkers is taken from the argument). Every
 * worker slot gets incarnation 1. */
void wh_runtime(uint32_t nworkers, const struct airsrt_shm_params *p);

/* Sets worker w's incarnation, as the supervisor does before a restart. */
void wh_incarnate(uint32_t w, uint32_t incarnation);

/* Opens worker w in this process, without the protection map. o may be
 * NULL (defaults, but no spinning). Fails the test on error. */
struct airsrt_worker *wh_open(uint32_t w,
                              const struct airsrt_actor_type *const *types,
                              const struct airsrt_worker_opts *o);
void wh_close(struct airsrt_worker *w);

/* Polls w until done(arg) is true (checked before every poll) or the
 * worker ends, for at most timeout_ms. Returns the worker's exit status
 * if it ended, -1 if done() said so; fails the test on timeout. done may
 * be NULL: poll until the worker ends. */
int wh_poll_until(struct airsrt_worker *w, bool (*done)(void *), void *arg,
                  uint32_t timeout_ms);

/* Forks a child that runs worker w as airsrt_worker_main would: the
 * protection map, types, the start list (airsrt/worker.h), until it
 * ends; the child exits with the worker's status. */
pid_t wh_fork_worker(uint32_t w, const struct airsrt_actor_type *const *types,
                     const char *start);

/* Forks a child that execs the built binary at path (see wh_build_path)
 * as worker w, with AIRSRT_FD, AIRSRT_WORKER and AIRSRT_ACTORS = start
 * set, plus extra "NAME=value" strings (NULL-terminated, may be NULL). */
pid_t wh_exec_worker(uint32_t w, const char *path, const char *start,
                     const char *const *extra_env);

/* Waits for child pid; returns its exit code, or 128 + the signal that
 * killed it. */
int wh_exit_status(pid_t pid);

/* The path of rel (e.g. "examples/pingpong") in the build tree this test
 * binary belongs to (build/, build/asan/, ...). Static storage. */
const char *wh_build_path(const char *rel);

/* size bytes of zeroed memory shared with children forked later. */
void *wh_shared(size_t size);

/* ---- the supervisor's side of the worker contract (airsrt/worker.h) ---- */

/* Forks a child that execs the built binary at path with AIRSRT_FD set
 * (a copy of the test segment's descriptor) and the "NAME=value" strings
 * of env (NULL-terminated, may be NULL), and nothing else of the worker
 * contract: a spare (AIRSRT_SPARE_FD), or a worker given all by env. */
pid_t wh_exec_env(const char *path, const char *const *env);

/* A pipe (is_socket false) or a stream socket pair between the test and a
 * child it will exec: fds[0] is the test's end, close-on-exec; fds[1] is
 * the child's, inherited across exec: close it in the test once the
 * child is forked. */
void wh_channel(int fds[2], bool is_socket);

/* Reads one byte from fd into *c within timeout_ms: 1, or 0 at end of
 * file; fails the test on a timeout or an error. */
int wh_read_byte(int fd, char *c, uint32_t timeout_ms);

/* Worker w's slot name, as the supervisor writes it ("group[i]"). */
void wh_name_slot(uint32_t w, const char *name);

/* The first string of /proc/PID/cmdline (what ps shows) in buf; false if
 * pid is gone. */
bool wh_cmdline(pid_t pid, char *buf, size_t len);

#endif
