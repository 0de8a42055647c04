/*
 * tests/lib/harness.h - what the Criterion suites share: segments that
 * leave nothing behind, children that cannot outlive their test, and
 * envelopes that carry a checkable sequence.
 *
 * Cleanup contract: every test that forks or creates a segment names
 * .fini = harness_fini. A segment is unlinked at once unless the test
 * needs its name, so not even a test killed by its timeout leaves one;
 * children die with their test process (PR_SET_PDEATHSIG).
 */
#ifndef AIRSRT_TESTS_HARNESS_H
#define AIRSRT_TESTS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm/segment.h"

/* The segment of the running test (one per test process). */
extern struct airsrt_shm harness_shm;

/* A runtime name unique to this test process: "t<pid>-<tag>". */
const char *harness_name(const char *tag);

/* Creates harness_shm with nworkers and ring_bytes (0 = default); the name
 * is unlinked at once unless keep_name. Fails the test on error. */
void harness_segment(uint32_t nworkers, uint32_t ring_bytes, bool keep_name);

/* fork() whose child dies with the test process; the parent remembers the
 * pid for harness_fini. The child must end with harness_exit(). */
pid_t harness_fork(void);

/* Ends a forked child: _exit(), never exit(), which would run the test
 * runner's handlers in the child; coverage builds flush their counters
 * first so that code run in children counts. */
__attribute__((noreturn)) void harness_exit(int code);

/* Waits for child pid; returns its raw wait status. */
int harness_wait(pid_t pid);

/* Kills child pid with SIGKILL (kill -9, by pid), reaps it and asserts it
 * died of that signal. */
void harness_kill(pid_t pid);

/* Kills (SIGKILL, by pid) and reaps every child still alive, destroys the
 * segment. Criterion .fini of every suite here. */
void harness_fini(void);

/* Scales a message count down under valgrind (make valgrind sets
 * AIRSRT_UNDER_VALGRIND): the property tested is the same, the run
 * shorter. */
uint64_t harness_count(uint64_t n);

/* A sequenced test envelope: payload holds (producer, seq) then filler
 * bytes derived from them, so a torn or foreign record cannot pass. */
struct harness_env {
    union {
        struct airsrt_envelope env;     /* env.payload is in bytes[] */
        uint8_t bytes[sizeof(struct airsrt_envelope) + 256];
    };
};
void harness_env_fill(struct harness_env *h, uint32_t producer, uint64_t seq,
                      uint32_t payload_len);
/* True if the envelope is intact; stores its producer and seq. */
bool harness_env_check(const struct airsrt_envelope *e, uint32_t payload_len,
                       uint32_t *producer, uint64_t *seq);

/* One-byte pipe signals between parent and child. */
void harness_pipe(int fds[2]);
void harness_signal(int fd);
void harness_await(int fd);

#endif
