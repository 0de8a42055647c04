/*
 * supervisor/supervisor.c - the runtime's life: open (segment, event
 * log, signals), the event loop, shutdown, and the summary.
 *
 * The loop takes one event at a time from epoll: a handler may reap and
 * restart other workers (a strategy stops siblings), which would make a
 * later entry of the same batch stale.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <bsd/string.h>

#include "supervisor/supervisor_impl.h"

bool sv_exit_is_normal(const struct sv_exit *ex)
{
    return ex->status == 0 && ex->signal == 0 && !ex->is_hang;
}

void sv_event_fill(struct airsrt_supervisor *s, struct airsrt_event *ev,
                   const char *event, const struct sv_worker *wk,
                   const struct sv_exit *ex, const char *reason)
{
    *ev = (struct airsrt_event)AIRSRT_EVENT_INIT;
    ev->event = event;
    ev->reason = reason;
    if (wk != NULL) {
        ev->supervisor = s->nodes[wk->sup].cfg->name;
        ev->worker = wk->name;
        ev->index = (int32_t)wk->w;
        ev->pid = wk->pid;
        ev->incarnation = wk->incarnation;
        ev->restarts = (int32_t)wk->restarts;
    }
    if (ex != NULL) {
        ev->has_status = ex->status >= 0;
        ev->status = ex->status;
        ev->signal = ex->signal;
    }
}

void sv_event(struct airsrt_supervisor *s, const char *event,
              const struct sv_worker *wk, const struct sv_exit *ex,
              const char *reason)
{
    struct airsrt_event ev;

    sv_event_fill(s, &ev, event, wk, ex, reason);
    airsrt_eventlog_write(&s->log, &ev);
}

void sv_note(struct airsrt_supervisor *s, const char *event,
             const char *supervisor, const char *reason)
{
    struct airsrt_event ev = AIRSRT_EVENT_INIT;

    ev.event = event;
    ev.supervisor = supervisor;
    ev.reason = reason;
    airsrt_eventlog_write(&s->log, &ev);
}

void sv_shutdown(struct airsrt_supervisor *s, int code, const char *why)
{
    if (s->is_stopping)
        return;
    s->is_stopping = true;
    s->exit_code = code;
    strlcpy(s->why, why, sizeof(s->why));
}

static int open_signals(struct airsrt_supervisor *s)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* A worker's closed pipe must not kill the supervisor. */
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s->sigfd < 0)
        return -errno;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0)
        return -errno;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd,
                  &(struct epoll_event){ .events = EPOLLIN,
                                         .data.u64 = SV_EV(SV_EV_SIGNAL, 0) })
        < 0)
        return -errno;
    return 0;
}

static int open_log(struct airsrt_supervisor *s)
{
    const char *dest = s->cfg->runtime.event_log;
    char path[PATH_MAX];

    if (dest[0] != '\0' && dest[0] != '/' && strcmp(dest, "stderr") != 0) {
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->cfg->dir, dest) >=
            sizeof(path))
            return -ENAMETOOLONG;
        dest = path;
    }
    return airsrt_eventlog_open(&s->log, dest, s->cfg->runtime.name);
}

int airsrt_supervisor_open(struct airsrt_supervisor **out,
                           const struct airsrt_config *cfg,
                           char *err, size_t len)
{
    struct airsrt_supervisor *s = calloc(1, sizeof(*s));
    struct airsrt_shm_params p = cfg->runtime.shm;
    int rc;

    *out = NULL;
    if (s == NULL)
        return -ENOMEM;
    s->cfg = cfg;
    s->epfd = s->sigfd = -1;
    sv_spawn_init(s);
    p.nworkers = cfg->nworkers;
    rc = open_log(s);
    if (rc < 0) {
        snprintf(err, len, "event log %s: %s", cfg->runtime.event_log,
                 strerror(-rc));
        goto fail;
    }
    rc = airsrt_shm_create(&s->shm, cfg->runtime.name, &p);
    if (rc < 0) {
        snprintf(err, len, "%s", s->shm.err);
        goto fail;
    }
    /* Bound once, here, where an error has a way out: recovery uses it
     * after every death. It checks only the layout, which came from the
     * parameters just checked, so it does not fail in practice. */
    rc = airsrt_registry_open(&s->reg, &s->shm);
    if (rc == 0)
        rc = sv_tree_build(s);
    if (rc == 0)
        rc = open_signals(s);
    if (rc < 0) {
        snprintf(err, len, "runtime %s: %s", cfg->runtime.name, strerror(-rc));
        goto fail;
    }
    for (uint32_t w = 0; w < cfg->nworkers; w++)
        strlcpy(airsrt_shm_worker_sup(&s->shm, w)->name, s->workers[w].name,
                sizeof(s->workers[w].name));
    *out = s;
    return 0;
fail:
    airsrt_supervisor_close(s);
    return rc;
}

/* ---- the loop ---- */

static void on_signal(struct airsrt_supervisor *s)
{
    struct signalfd_siginfo si;
    char why[64];

    while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        snprintf(why, sizeof(why), "SIG%s received",
                 sigabbrev_np((int)si.ssi_signo) ? sigabbrev_np((int)si.ssi_signo)
                                                 : "?");
        sv_shutdown(s, 0, why);
    }
}

static void on_worker_died(struct airsrt_supervisor *s, uint32_t w)
{
    struct sv_worker *wk = &s->workers[w];
    struct sv_exit ex;

    if (wk->state != SV_RUNNING)
        return;
    sv_worker_reap(s, wk, &ex);
    sv_tree_child_died(s, wk, &ex);
}

/* A heartbeat older than the hang timeout: kill it; its exitfd reports
 * the death, which is then treated as a crash with reason "hang". */
static void check_hangs(struct airsrt_supervisor *s, uint64_t now)
{
    uint64_t limit = (uint64_t)s->cfg->runtime.hang_timeout_ms * 1000000u;

    for (uint32_t w = 0; w < s->cfg->nworkers; w++) {
        struct sv_worker *wk = &s->workers[w];
        struct airsrt_worker_self *self = airsrt_shm_worker_self(&s->shm, w);
        uint64_t beat;

        if (wk->state != SV_RUNNING || wk->is_hang)
            continue;
        beat = atomic_load_explicit(&self->heartbeat_ns, memory_order_relaxed);
        if (atomic_load_explicit(&self->incarnation, memory_order_relaxed) !=
                wk->incarnation || beat < wk->started_ns)
            beat = wk->started_ns;
        if (now > beat && now - beat > limit) {
            wk->is_hang = true;
            sv_event(s, "worker_hung", wk, NULL, "heartbeat too old");
            kill(wk->pid, SIGKILL);
        }
    }
}

static void loop(struct airsrt_supervisor *s)
{
    int beat_ms = (int)s->cfg->runtime.heartbeat_ms;

    while (!s->is_stopping) {
        struct epoll_event ev;
        uint64_t now = airsrt_now_ns();
        int due = sv_tree_run_due(s, now), n, spare;
        int timeout = due >= 0 && due < beat_ms ? due : beat_ms;

        if (s->is_stopping)     /* the tree gave up: fork no spare */
            break;
        spare = sv_spares_run_due(s, now);
        if (spare >= 0 && spare < timeout)
            timeout = spare;
        n = epoll_wait(s->epfd, &ev, 1, timeout);
        if (n == 1) {
            uint32_t idx = (uint32_t)ev.data.u64;

            switch (ev.data.u64 >> 32) {
            case SV_EV_SIGNAL:
                on_signal(s);
                break;
            case SV_EV_WORKER:
                on_worker_died(s, idx);
                break;
            case SV_EV_SPARE:
                sv_spare_reap(s, (int)idx);
                break;
            }
        } else if (n < 0 && errno != EINTR) {
            sv_shutdown(s, AIRSRT_RUN_EXIT_SYSTEM, "epoll_wait failed");
        }
        check_hangs(s, airsrt_now_ns());
    }
}

int airsrt_supervisor_run(struct airsrt_supervisor *s, char *why, size_t len)
{
    s->started_ns = airsrt_now_ns();
    sv_note(s, "runtime_started", NULL, NULL);
    if (sv_tree_start(s) == 0)
        loop(s);
    sv_note(s, "runtime_stopping", NULL, s->why);
    sv_node_stop(s, &s->nodes[s->cfg->root]);
    sv_spares_stop(s);
    sv_note(s, "runtime_stopped", NULL, s->why);
    strlcpy(why, s->why, len);
    return s->exit_code;
}

/* Envelopes handled by worker w over every incarnation so far. */
static void worker_totals(const struct airsrt_supervisor *s, uint32_t w,
                          uint64_t *in, uint64_t *out)
{
    const struct sv_worker *wk = &s->workers[w];
    struct airsrt_worker_self *self = airsrt_shm_worker_self(&s->shm, w);

    *in = wk->in_before;
    *out = wk->out_before;
    /* A stopped incarnation's counts are in *_before already. */
    if (wk->state == SV_RUNNING &&
        atomic_load(&self->incarnation) == wk->incarnation) {
        *in += atomic_load(&self->envelopes_in);
        *out += atomic_load(&self->envelopes_out);
    }
}

void airsrt_supervisor_summary(const struct airsrt_supervisor *s, FILE *f)
{
    uint64_t total_in = 0, restarts = 0;

    fprintf(f, "runtime %s ran %.1f s\n", s->cfg->runtime.name,
            (double)(airsrt_now_ns() - s->started_ns) / 1e9);
    fprintf(f, "  %-24s %11s %8s %14s %14s\n", "worker", "incarnation",
            "restarts", "envelopes in", "envelopes out");
    for (uint32_t w = 0; w < s->cfg->nworkers; w++) {
        const struct sv_worker *wk = &s->workers[w];
        uint64_t in, out;

        worker_totals(s, w, &in, &out);
        total_in += in;
        restarts += wk->restarts;
        fprintf(f, "  %-24s %11" PRIu32 " %8" PRIu32 " %14" PRIu64
                " %14" PRIu64 "\n", wk->name, wk->incarnation, wk->restarts,
                in, out);
    }
    fprintf(f, "  total: %" PRIu64 " envelopes handled, %" PRIu64
            " restart%s\n", total_in, restarts, restarts == 1 ? "" : "s");
}

void airsrt_supervisor_close(struct airsrt_supervisor *s)
{
    if (s == NULL)
        return;
    if (s->shm.base != NULL)
        airsrt_shm_destroy(&s->shm);
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->sigfd >= 0)
        close(s->sigfd);
    airsrt_eventlog_close(&s->log);
    sv_tree_free(s);
    free(s);
}
