/*
 * supervisor/supervisor_impl.h - the supervisor's private structures,
 * shared by its files:
 *
 *   supervisor.c  open, the event loop, shutdown
 *   tree.c        the tree: start and stop orders, strategies, restart
 *                 types, intensity, backoff, auto_shutdown
 *   spawn.c       one worker process: fork, exec, ready, stop, reap;
 *                 pre-forked spares
 *   recovery.c    after a death: crash report, locks, registry, the
 *                 death announcement
 */
#ifndef AIRSRT_SUPERVISOR_IMPL_H
#define AIRSRT_SUPERVISOR_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm/segment.h"
#include "supervisor/config.h"
#include "supervisor/eventlog.h"
#include "supervisor/supervisor.h"
#include "airsrt/message.h"
#include "airsrt/worker.h"

enum sv_state {
    SV_DOWN = 0,          /* no process */
    SV_RUNNING,           /* started and ready; its exitfd is watched */
};

/* How a worker's process ended, as its supervisor judges it. */
struct sv_exit {
    int status;           /* exit status, or -1 when killed by a signal */
    int signal;
    bool is_hang;         /* we killed it for a stale heartbeat */
};

/* One worker process slot, index w in the segment. */
struct sv_worker {
    uint32_t w;
    int group;                    /* in cfg->groups */
    uint32_t gi;                  /* index within its group */
    int sup;                      /* its supervisor, in nodes */
    uint32_t pos;                 /* its place among sup's children */
    char name[64];                /* "group[gi]" */
    enum sv_state state;
    pid_t pid;
    int exitfd;                   /* says when it died (spawn.c); -1 when
                                     DOWN */
    uint32_t incarnation;         /* of the current or last process */
    uint32_t restarts;
    uint32_t backoff_n;           /* restarts since it last ran a while */
    uint64_t started_ns;
    uint64_t restart_at_ns;       /* a delayed restart is due; 0 = none */
    bool is_hang;                 /* killed by us for a hang */
    uint64_t in_before, out_before;   /* envelopes of past incarnations */
};

/* A child of a supervisor: a worker (w) or a supervisor (index). */
struct sv_child {
    bool is_sup;
    uint32_t idx;
};

/* One supervisor of the tree. restarts_ns is a ring of the times of its
 * last max_restarts + 1 restarts, for the intensity check. */
struct sv_node {
    const struct airsrt_config_supervisor *cfg;
    int index;
    uint32_t pos;                 /* its place among its parent's children */
    struct sv_child *children;
    size_t nchildren;
    uint64_t *restarts_ns;
    uint64_t nrestarts;           /* recorded, ever (ring position) */
    bool is_running;
    uint64_t restart_at_ns;       /* a delayed restart is due; 0 = none */
};

/* A pre-forked spare of a group: exec'd, attached, waiting on sock. */
struct sv_spare {
    pid_t pid;                    /* 0 = none */
    int exitfd;
    int sock;
    uint32_t failures;            /* spares that died unused, in a row */
    uint64_t fork_at_ns;          /* when to fork the next; 0 = not due */
};

struct airsrt_supervisor {
    const struct airsrt_config *cfg;
    struct airsrt_shm shm;
    struct airsrt_registry reg;   /* shm's, bound once it is created */
    struct airsrt_eventlog log;
    struct sv_node *nodes;        /* per cfg->supervisors */
    struct sv_worker *workers;    /* per worker index */
    struct sv_spare *spares;      /* per cfg->groups */
    int epfd, sigfd, shm_fd;      /* shm_fd: inheritable copy for workers */
    bool is_stopping;             /* the runtime is going down */
    bool is_pidfd_missing;        /* exit descriptors are pipes (spawn.c) */
    int exit_code;
    char why[256];
    uint64_t started_ns;
};

/* epoll data: what a ready descriptor is. */
enum sv_ev_kind { SV_EV_SIGNAL = 1, SV_EV_WORKER, SV_EV_SPARE };
#define SV_EV(kind, idx) (((uint64_t)(kind) << 32) | (uint32_t)(idx))

/* ---- spawn.c ---- */
/* Starts worker w's next incarnation (from its group's spare if it has
 * one) and waits until it is ready. 0, or -errno / -ECHILD (it died
 * before it was ready: *ex says how) / -ETIMEDOUT. */
int sv_worker_start(struct airsrt_supervisor *s, struct sv_worker *wk,
                    struct sv_exit *ex);
/* Stops a running worker: SIGTERM, shutdown_ms, SIGKILL; reaps it. */
void sv_worker_stop(struct airsrt_supervisor *s, struct sv_worker *wk,
                    struct sv_exit *ex);
/* Reaps a worker whose exitfd said it ended. */
void sv_worker_reap(struct airsrt_supervisor *s, struct sv_worker *wk,
                    struct sv_exit *ex);
/* Learns whether this system has pidfd_open. */
void sv_spawn_init(struct airsrt_supervisor *s);
/* Asks for group's next spare, forked a little later by the loop. */
void sv_spare_due(struct airsrt_supervisor *s, int group);
/* Forks the spares that are due; ms until the next one, or -1. */
int sv_spares_run_due(struct airsrt_supervisor *s, uint64_t now);
void sv_spare_reap(struct airsrt_supervisor *s, int group);
void sv_spares_stop(struct airsrt_supervisor *s);

/* ---- recovery.c ---- */
/* Everything owed to the runtime once worker wk's process is gone and
 * before anything is restarted: the crash report (when abnormal), the
 * locks it may have held, its registry entries, the slot's state, the
 * announcement to the others, the event. */
void sv_recover(struct airsrt_supervisor *s, struct sv_worker *wk,
                const struct sv_exit *ex, const char *event);

/* ---- tree.c ---- */
/* Starts every child of the root in order; 0 or the exit status. */
int sv_tree_start(struct airsrt_supervisor *s);
/* Stops every child of node in reverse order. */
void sv_node_stop(struct airsrt_supervisor *s, struct sv_node *n);
/* Worker wk died on its own (the loop saw its exitfd): apply the tree. */
void sv_tree_child_died(struct airsrt_supervisor *s, struct sv_worker *wk,
                        const struct sv_exit *ex);
/* Runs delayed restarts that are due; returns ms until the next one, or
 * -1 if none is pending. */
int sv_tree_run_due(struct airsrt_supervisor *s, uint64_t now);
int sv_tree_build(struct airsrt_supervisor *s);
void sv_tree_free(struct airsrt_supervisor *s);

/* ---- supervisor.c ---- */
/* Fills ev for an event about worker wk and how it ended (either may be
 * NULL); sv_event also writes it. sv_note writes one about the runtime
 * or a supervisor (NULL: the runtime). */
void sv_event_fill(struct airsrt_supervisor *s, struct airsrt_event *ev,
                   const char *event, const struct sv_worker *wk,
                   const struct sv_exit *ex, const char *reason);
void sv_event(struct airsrt_supervisor *s, const char *event,
              const struct sv_worker *wk, const struct sv_exit *ex,
              const char *reason);
void sv_note(struct airsrt_supervisor *s, const char *event,
             const char *supervisor, const char *reason);
/* Ends the runtime with code and why (the first reason wins). */
void sv_shutdown(struct airsrt_supervisor *s, int code, const char *why);
bool sv_exit_is_normal(const struct sv_exit *ex);

#endif
