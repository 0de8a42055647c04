/*
 * supervisor/spawn.c - one worker process: fork and exec it with what the
 * worker contract asks for (airsrt/worker.h), wait until it is ready,
 * stop it, reap it; and the pre-forked spares.
 *
 * Descriptors: everything the supervisor opens is close-on-exec. A child
 * gets exactly 0-2 as inherited, 3 = the segment, 4 = its ready pipe or
 * spare socket; closefrom(5) drops anything else, so no worker ever
 * holds another worker's pipe or pidfd.
 *
 * Never leaves a zombie: every fork is followed by a pidfd, and every
 * pidfd is reaped (waitid P_PIDFD) before it is closed, on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <bsd/unistd.h>

#include "airsrt/worker.h"
#include "supervisor/supervisor_impl.h"

#define SV_FD_SEGMENT 3
#define SV_FD_READY   4
/* A spare that dies unused this often in a row is not forked again. */
#define SV_SPARE_FAILURES_MAX 3u

static void child_fail(const char *what, const char *arg)
{
    fprintf(stderr, "airsrt-run: %s %s: %s\n", what, arg, strerror(errno));
    _exit(AIRSRT_EXIT_SYSTEM);
}

static void child_limits(const struct airsrt_config_group *g)
{
    static const struct { int res; const char *name; } res[] = {
        { RLIMIT_AS, "limit_as" }, { RLIMIT_NOFILE, "limit_nofile" },
        { RLIMIT_CPU, "limit_cpu" },
    };
    rlim_t val[] = { g->limit_as, g->limit_nofile, g->limit_cpu };

    for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
        struct rlimit rl = { val[i], val[i] };

        if (val[i] != RLIM_INFINITY && setrlimit(res[i].res, &rl) < 0)
            child_fail("setrlimit", res[i].name);
    }
}

static void child_identity(const struct airsrt_config_group *g)
{
    if (g->has_group || g->has_user) {
        if (setgroups(1, &g->gid) < 0)
            child_fail("setgroups for", g->name);
        if (setgid(g->gid) < 0)
            child_fail("setgid for", g->name);
    }
    if (g->has_user && setuid(g->uid) < 0)
        child_fail("setuid for", g->name);
}

/* Moves fd to number to, without close-on-exec. */
static void child_place_fd(int fd, int to)
{
    int tmp = fcntl(fd, F_DUPFD, 10);

    if (tmp < 0 || dup2(tmp, to) < 0)
        child_fail("dup2", "descriptor");
    close(tmp);
}

static void child_env(const struct airsrt_supervisor *s,
                      const struct airsrt_config_group *g,
                      const struct sv_worker *wk, const char *start)
{
    char num[32];

    for (size_t i = 0; i < g->nenv; i++)
        putenv(g->env[i]);
    snprintf(num, sizeof(num), "%d", SV_FD_SEGMENT);
    setenv(AIRSRT_ENV_FD, num, 1);
    snprintf(num, sizeof(num), "%u", s->cfg->runtime.heartbeat_ms);
    setenv(AIRSRT_ENV_HEARTBEAT_MS, num, 1);
    snprintf(num, sizeof(num), "%d", SV_FD_READY);
    if (wk == NULL) {
        setenv(AIRSRT_ENV_SPARE_FD, num, 1);
        unsetenv(AIRSRT_ENV_WORKER);
        unsetenv(AIRSRT_ENV_READY_FD);
        unsetenv(AIRSRT_ENV_ACTORS);
        return;
    }
    setenv(AIRSRT_ENV_READY_FD, num, 1);
    unsetenv(AIRSRT_ENV_SPARE_FD);
    snprintf(num, sizeof(num), "%u", wk->w);
    setenv(AIRSRT_ENV_WORKER, num, 1);
    setenv(AIRSRT_ENV_ACTORS, start, 1);
}

/* In the child: never returns. wk NULL: a spare. */
static void child_exec(const struct airsrt_supervisor *s, int group,
                       const struct sv_worker *wk, int fd, pid_t parent,
                       const char *start)
{
    const struct airsrt_config_group *g = &s->cfg->groups[group];
    sigset_t all;

    /* The supervisor blocks what its signalfd reads; exec keeps masks. */
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    /* An ignored signal stays ignored across exec. */
    signal(SIGPIPE, SIG_DFL);
    /* Its own process group: a terminal's ^C reaches the supervisor
     * alone, which then stops the workers in order. */
    setpgid(0, 0);
    child_limits(g);
    child_identity(g);
    /* After the identity change, which clears it. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(0);
    child_place_fd(s->shm.fd, SV_FD_SEGMENT);
    child_place_fd(fd, SV_FD_READY);
    closefrom(SV_FD_READY + 1);
    child_env(s, g, wk, start);
    execv(g->binary, g->argv);
    fprintf(stderr, "airsrt-run: exec %s: %s\n", g->binary, strerror(errno));
    _exit(127);
}

static void exit_from_siginfo(const siginfo_t *si, struct sv_exit *ex)
{
    ex->status = -1;
    ex->signal = 0;
    if (si->si_code == CLD_EXITED)
        ex->status = si->si_status;
    else
        ex->signal = si->si_status;
}

/* Reaps the process behind pidfd (which it closes). */
static void reap_pidfd(int pidfd, struct sv_exit *ex)
{
    siginfo_t si;

    memset(&si, 0, sizeof(si));
    while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
        ;
    exit_from_siginfo(&si, ex);
    close(pidfd);
}

/* Waits up to ms for pidfd to say its process ended; -1 ms: for ever. */
static bool wait_pidfd(int pidfd, int ms)
{
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    int rc;

    while ((rc = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    return rc > 0;
}

/*
 * Waits for the ready byte on fd while watching pidfd. 0 when ready;
 * -ECHILD when the process ended first or closed fd without a word (the
 * caller reaps it); -ETIMEDOUT.
 */
static int wait_ready(int fd, int pidfd, int ms)
{
    struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
                           { .fd = pidfd, .events = POLLIN } };
    char c = 0;
    int rc;

    while ((rc = poll(p, 2, ms)) < 0 && errno == EINTR)
        ;
    if (rc == 0)
        return -ETIMEDOUT;
    if ((p[0].revents & (POLLIN | POLLHUP)) &&
        read(fd, &c, 1) == 1 && c == 'R')
        return 0;
    /* It said nothing and closed, or ended: it is going or gone. */
    if (!wait_pidfd(pidfd, ms))
        return -ETIMEDOUT;
    return -ECHILD;
}

static int fork_child(struct airsrt_supervisor *s, int group,
                      const struct sv_worker *wk, int keep, int give,
                      const char *start, pid_t *pid, int *pidfd)
{
    pid_t parent = getpid();
    pid_t p = fork();

    if (p < 0)
        return -errno;
    if (p == 0) {
        close(keep);
        child_exec(s, group, wk, give, parent, start);
    }
    *pid = p;
    *pidfd = pidfd_open(p, 0);
    if (*pidfd < 0) {
        int rc = -errno;

        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        return rc;
    }
    fcntl(*pidfd, F_SETFD, FD_CLOEXEC);
    return 0;
}

static void slot_publish(struct airsrt_supervisor *s, struct sv_worker *wk,
                         uint32_t state)
{
    struct airsrt_worker_sup *ws = airsrt_shm_worker_sup(&s->shm, wk->w);

    atomic_store_explicit(&ws->pid, wk->pid, memory_order_relaxed);
    atomic_store_explicit(&ws->restarts, wk->restarts, memory_order_relaxed);
    atomic_store_explicit(&ws->started_ns, wk->started_ns,
                          memory_order_relaxed);
    atomic_store_explicit(&ws->state, state, memory_order_relaxed);
}

/* Hands worker wk to the group's spare: "W ACTORS\n", then its ready. */
static int start_from_spare(struct airsrt_supervisor *s, struct sv_worker *wk,
                            const char *start)
{
    struct sv_spare *sp = &s->spares[wk->group];
    char line[AIRSRT_CONFIG_START_LIST_MAX + 16];
    int n = snprintf(line, sizeof(line), "%u %s\n", wk->w, start);
    int rc;

    epoll_ctl(s->epfd, EPOLL_CTL_DEL, sp->pidfd, NULL);
    wk->pid = sp->pid;
    wk->pidfd = sp->pidfd;
    sp->pid = 0;
    sp->pidfd = -1;
    if (n < 0 || (size_t)n >= sizeof(line) ||
        write(sp->sock, line, (size_t)n) != n) {
        kill(wk->pid, SIGKILL);
        rc = -ECHILD;
    } else {
        rc = wait_ready(sp->sock, wk->pidfd,
                        (int)s->cfg->runtime.hang_timeout_ms);
    }
    close(sp->sock);
    sp->sock = -1;
    if (rc == 0)
        s->spares[wk->group].failures = 0;
    return rc;
}

static int start_forked(struct airsrt_supervisor *s, struct sv_worker *wk,
                        const char *start)
{
    int pipefd[2], rc;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    rc = fork_child(s, wk->group, wk, pipefd[0], pipefd[1], start, &wk->pid,
                    &wk->pidfd);
    close(pipefd[1]);
    if (rc == 0)
        rc = wait_ready(pipefd[0], wk->pidfd,
                        (int)s->cfg->runtime.hang_timeout_ms);
    close(pipefd[0]);
    return rc;
}

int sv_worker_start(struct airsrt_supervisor *s, struct sv_worker *wk,
                    struct sv_exit *ex)
{
    const struct airsrt_config_group *g = &s->cfg->groups[wk->group];
    struct airsrt_worker_sup *ws = airsrt_shm_worker_sup(&s->shm, wk->w);
    bool has_spare = s->spares[wk->group].pid > 0;
    char start[AIRSRT_CONFIG_START_LIST_MAX];
    int rc;

    memset(ex, 0, sizeof(*ex));
    rc = airsrt_config_start_list(g, wk->gi, start, sizeof(start));
    if (rc < 0)
        return rc;
    /* The incarnation is stored before the process can read it: fork (or
     * the write to the spare's socket) orders it before the child's
     * load. It never changes while that incarnation lives. */
    wk->incarnation++;
    atomic_store_explicit(&ws->incarnation, wk->incarnation,
                          memory_order_relaxed);
    wk->is_hang = false;
    wk->started_ns = airsrt_now_ns();
    wk->pid = 0;
    slot_publish(s, wk, AIRSRT_WORKER_STARTING);
    rc = has_spare ? start_from_spare(s, wk, start)
                   : start_forked(s, wk, start);
    if (rc == -ETIMEDOUT) {
        kill(wk->pid, SIGKILL);
        rc = -ECHILD;
        ex->is_hang = true;
    }
    if (rc == -ECHILD) {
        bool is_hang = ex->is_hang;

        reap_pidfd(wk->pidfd, ex);
        ex->is_hang = is_hang;
    }
    if (rc < 0) {
        wk->pidfd = -1;
        wk->state = SV_DOWN;
        slot_publish(s, wk, AIRSRT_WORKER_CRASHED);
        return rc;
    }
    wk->state = SV_RUNNING;
    slot_publish(s, wk, AIRSRT_WORKER_RUNNING);
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, wk->pidfd,
              &(struct epoll_event){ .events = EPOLLIN,
                                     .data.u64 = SV_EV(SV_EV_WORKER, wk->w) });
    if (g->has_spare)
        sv_spare_fork(s, wk->group);
    return 0;
}

void sv_worker_reap(struct airsrt_supervisor *s, struct sv_worker *wk,
                    struct sv_exit *ex)
{
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, wk->pidfd, NULL);
    reap_pidfd(wk->pidfd, ex);
    ex->is_hang = wk->is_hang;
    wk->pidfd = -1;
    wk->state = SV_DOWN;
}

void sv_worker_stop(struct airsrt_supervisor *s, struct sv_worker *wk,
                    struct sv_exit *ex)
{
    const struct airsrt_config_group *g = &s->cfg->groups[wk->group];

    memset(ex, 0, sizeof(*ex));
    if (wk->state != SV_RUNNING)
        return;
    slot_publish(s, wk, AIRSRT_WORKER_STOPPING);
    pidfd_send_signal(wk->pidfd, SIGTERM, NULL, 0);
    /* A stopped (SIGSTOP) worker would sit on the SIGTERM. */
    pidfd_send_signal(wk->pidfd, SIGCONT, NULL, 0);
    if (!wait_pidfd(wk->pidfd, (int)g->shutdown_ms)) {
        pidfd_send_signal(wk->pidfd, SIGKILL, NULL, 0);
        wait_pidfd(wk->pidfd, -1);
    }
    sv_worker_reap(s, wk, ex);
}

/* ---- spares ---- */

void sv_spare_fork(struct airsrt_supervisor *s, int group)
{
    struct sv_spare *sp = &s->spares[group];
    int sv[2];

    if (sp->pid > 0 || s->is_stopping ||
        sp->failures >= SV_SPARE_FAILURES_MAX)
        return;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return;
    if (fork_child(s, group, NULL, sv[0], sv[1], "", &sp->pid,
                   &sp->pidfd) < 0) {
        close(sv[0]);
        close(sv[1]);
        sp->pid = 0;
        return;
    }
    close(sv[1]);
    sp->sock = sv[0];
    {
        struct airsrt_event ev = AIRSRT_EVENT_INIT;

        ev.event = "spare_forked";
        ev.pid = sp->pid;
        ev.message = s->cfg->groups[group].name;
        airsrt_eventlog_write(&s->log, &ev);
    }
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, sp->pidfd,
              &(struct epoll_event){ .events = EPOLLIN,
                                     .data.u64 = SV_EV(SV_EV_SPARE, group) });
}

/* A spare died unused: reap it, and fork another unless they keep dying. */
void sv_spare_reap(struct airsrt_supervisor *s, int group)
{
    struct sv_spare *sp = &s->spares[group];
    struct sv_exit ex;

    if (sp->pid <= 0)
        return;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, sp->pidfd, NULL);
    reap_pidfd(sp->pidfd, &ex);
    close(sp->sock);
    sp->pid = 0;
    sp->pidfd = sp->sock = -1;
    sp->failures++;
    sv_event(s, "spare_exited", NULL, &ex, s->cfg->groups[group].name);
    sv_spare_fork(s, group);
}

/* Shutdown: a spare reads EOF on its socket and exits 0. */
void sv_spares_stop(struct airsrt_supervisor *s)
{
    for (size_t g = 0; g < s->cfg->ngroups; g++) {
        struct sv_spare *sp = &s->spares[g];
        struct sv_exit ex;

        if (sp->pid <= 0)
            continue;
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, sp->pidfd, NULL);
        close(sp->sock);
        if (!wait_pidfd(sp->pidfd, (int)s->cfg->groups[g].shutdown_ms)) {
            pidfd_send_signal(sp->pidfd, SIGKILL, NULL, 0);
            wait_pidfd(sp->pidfd, -1);
        }
        reap_pidfd(sp->pidfd, &ex);
        sp->pid = 0;
        sp->pidfd = sp->sock = -1;
    }
}
