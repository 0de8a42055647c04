/*
 * tools/inject/faults.h - the faults of airsrt-inject(1), against an
 * attached segment. Each returns a TOOL_EXIT_* status and prints one
 * line as it injects (say()); errors go to stderr, one line each.
 */
#ifndef AIRSRT_TOOLS_INJECT_FAULTS_H
#define AIRSRT_TOOLS_INJECT_FAULTS_H

#include <signal.h>
#include <sys/types.h>

#include "shm/segment.h"
#include "tools/inject/inject.h"

/* How long a command waits for a worker to be running, to die after a
 * kill-in-lock request, or for a flood to make progress. */
#define INJECT_WAIT_MS 5000u

struct inject_ctx {
    struct airsrt_shm shm;
    const char *runtime;
    bool is_chaos, is_json;
    uint64_t t0_ns;                       /* chaos start */
    volatile sig_atomic_t *stop;          /* set by SIGINT / SIGTERM */
};

/* A resolved victim. */
struct victim {
    uint32_t index;
    pid_t pid;                            /* its slot said running, and
                                             tool_pid_ok(): the only pids
                                             the faults signal */
    char name[TOOL_WORKER_NAME_MAX];
};

/* Fills v for worker index, waiting up to wait_ms for it to be running.
 * 0; -ETIMEDOUT it was not; -EINTR a stop signal came first (v->pid 0
 * either way). */
int inject_victim_get(struct inject_ctx *c, uint32_t index, uint32_t wait_ms,
                      struct victim *v);

bool inject_fault_injection_on(const struct inject_ctx *c);

int inject_kill(struct inject_ctx *c, const struct victim *v, int sig);
int inject_stall(struct inject_ctx *c, const struct victim *v, uint32_t ms);
int inject_kill_in_lock(struct inject_ctx *c, const struct victim *v);
/* from: UINT32_MAX = choose the peer with the most unread bytes. */
int inject_corrupt_ring(struct inject_ctx *c, const struct victim *v,
                        uint32_t from, uint32_t bytes, uint64_t seed);
int inject_flood(struct inject_ctx *c, const char *name, uint64_t n,
                 uint32_t type);
int inject_exhaust(struct inject_ctx *c, const struct victim *v, uint32_t ms);

/* Sleeps ms, in short naps that end early when *c->stop is set. The
 * faults wait through it; none reports an interruption as its failure,
 * and each returns TOOL_EXIT_OK after one, stopped workers continued. */
void inject_nap(struct inject_ctx *c, uint64_t ms);

#endif
