/*
 * supervisor/spawn.c - one worker process: fork and exec it with what the
 * worker contract asks for (airsrt/worker.h), wait until it is ready,
 * stop it, reap it; and the pre-forked spares.
 *
 * Descriptors: everything the supervisor opens is close-on-exec. A child
 * gets exactly 0-2 as inherited, 3 = the segment, 4 = its ready pipe or
 * spare socket (and 5, see below); closefrom drops anything else, so no
 * worker ever holds another worker's pipe.
 *
 * A child's death is seen through its exit descriptor: a pidfd, or where
 * the kernel or a tool lacks pidfd_open (Linux before 5.3; valgrind 3.19
 * runs the tests) the read end of a pipe whose only write end the child
 * holds, as descriptor 5: both become readable (the pipe hung up) when
 * the process is gone. A worker that closes its descriptor 5, or hands it
 * to children of its own, blurs that; the pidfd has no such caveat.
 *
 * Never leaves a zombie: every fork gets an exit descriptor, and the
 * child is reaped (waitpid; we are its parent, so its pid cannot be
 * reused before that, and kill() by pid is safe) before it is closed, on
 * every path.
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
#define SV_FD_EXIT    5     /* the death pipe, without pidfds */
/* A spare that dies unused this often in a row is not forked again. */
#define SV_SPARE_FAILURES_MAX 3u
/* A spare is forked this long after the restart that used the last one:
 * on two CPUs its fork and exec would otherwise compete with the new
 * incarnation's first envelopes. */
#define SV_SPARE_DELAY_NS 2000000u

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

/* has_exit_fd: the death pipe sits at SV_FD_EXIT (no pidfds). */
static void child_env(const struct airsrt_supervisor *s,
                      const struct airsrt_config_group *g,
                      const struct sv_worker *wk, bool has_exit_fd,
                      const char *start)
{
    char num[32];

    for (size_t i = 0; i < g->nenv; i++)
        putenv(g->env[i]);
    snprintf(num, sizeof(num), "%d", SV_FD_SEGMENT);
    setenv(AIRSRT_ENV_FD, num, 1);
    snprintf(num, sizeof(num), "%u", s->cfg->runtime.heartbeat_ms);
    setenv(AIRSRT_ENV_HEARTBEAT_MS, num, 1);
    if (has_exit_fd) {
        snprintf(num, sizeof(num), "%d", SV_FD_EXIT);
        setenv(AIRSRT_ENV_EXIT_FD, num, 1);
    } else {
        unsetenv(AIRSRT_ENV_EXIT_FD);
    }
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
                       const struct sv_worker *wk, int fd, int exit_w,
                       pid_t parent, const char *start)
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
    if (exit_w >= 0)
        child_place_fd(exit_w, SV_FD_EXIT);
    closefrom(exit_w >= 0 ? SV_FD_EXIT + 1 : SV_FD_READY + 1);
    child_env(s, g, wk, exit_w >= 0, start);
    execv(g->binary, g->argv);
    fprintf(stderr, "airsrt-run: exec %s: %s\n", g->binary, strerror(errno));
    _exit(127);
}

/* Reaps child pid and closes its exit descriptor. */
static void reap(pid_t pid, int exitfd, struct sv_exit *ex)
{
    int status = 0;

    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    ex->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ex->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    close(exitfd);
}

/* Waits up to ms for exitfd to say its process ended; -1 ms: for ever. */
static bool wait_exitfd(int exitfd, int ms)
{
    struct pollfd p = { .fd = exitfd, .events = POLLIN };
    int rc;

    while ((rc = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    return rc > 0;
}

/*
 * Waits for the ready byte on fd while watching exitfd. 0 when ready;
 * -ECHILD when the process ended first or closed fd without a word (the
 * caller reaps it); -ETIMEDOUT.
 */
static int wait_ready(int fd, int exitfd, int ms)
{
    struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
                           { .fd = exitfd, .events = POLLIN } };
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
    if (!wait_exitfd(exitfd, ms))
        return -ETIMEDOUT;
    return -ECHILD;
}

static int fork_child(struct airsrt_supervisor *s, int group,
                      const struct sv_worker *wk, int keep, int give,
                      const char *start, pid_t *pid, int *exitfd)
{
    pid_t parent = getpid();
    int pipefd[2] = { -1, -1 };
    pid_t p;

    if (s->is_pidfd_missing && pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    p = fork();
    if (p < 0) {
        int rc = -errno;

        close(pipefd[0]);
        close(pipefd[1]);
        return rc;
    }
    if (p == 0) {
        close(keep);
        child_exec(s, group, wk, give, pipefd[1], parent, start);
    }
    *pid = p;
    if (s->is_pidfd_missing) {
        close(pipefd[1]);
        *exitfd = pipefd[0];
        return 0;
    }
    *exitfd = pidfd_open(p, 0);
    if (*exitfd < 0) {
        int rc = -errno;

        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        return rc;
    }
    fcntl(*exitfd, F_SETFD, FD_CLOEXEC);
    return 0;
}

void sv_spawn_init(struct airsrt_supervisor *s)
{
    int fd = pidfd_open(getpid(), 0);

    s->is_pidfd_missing = fd < 0 && errno == ENOSYS;
    if (fd >= 0)
        close(fd);
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

    epoll_ctl(s->epfd, EPOLL_CTL_DEL, sp->exitfd, NULL);
    wk->pid = sp->pid;
    wk->exitfd = sp->exitfd;
    sp->pid = 0;
    sp->exitfd = -1;
    if (n < 0 || (size_t)n >= sizeof(line) ||
        write(sp->sock, line, (size_t)n) != n) {
        kill(wk->pid, SIGKILL);
        rc = -ECHILD;
    } else {
        rc = wait_ready(sp->sock, wk->exitfd,
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
                    &wk->exitfd);
    close(pipefd[1]);
    if (rc == 0)
        rc = wait_ready(pipefd[0], wk->exitfd,
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

        reap(wk->pid, wk->exitfd, ex);
        ex->is_hang = is_hang;
    }
    if (rc < 0 && rc != -ECHILD)
        ex->status = -1;        /* it never ran: not a normal exit */
    if (rc < 0) {
        wk->exitfd = -1;
        wk->state = SV_DOWN;
        slot_publish(s, wk, AIRSRT_WORKER_CRASHED);
        return rc;
    }
    wk->state = SV_RUNNING;
    slot_publish(s, wk, AIRSRT_WORKER_RUNNING);
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, wk->exitfd,
              &(struct epoll_event){ .events = EPOLLIN,
                                     .data.u64 = SV_EV(SV_EV_WORKER, wk->w) });
    if (g->has_spare)
        sv_spare_due(s, wk->group);
    return 0;
}

void sv_worker_reap(struct airsrt_supervisor *s, struct sv_worker *wk,
                    struct sv_exit *ex)
{
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, wk->exitfd, NULL);
    reap(wk->pid, wk->exitfd, ex);
    ex->is_hang = wk->is_hang;
    wk->exitfd = -1;
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
    kill(wk->pid, SIGTERM);
    /* A stopped (SIGSTOP) worker would sit on the SIGTERM. */
    kill(wk->pid, SIGCONT);
    if (!wait_exitfd(wk->exitfd, (int)g->shutdown_ms)) {
        kill(wk->pid, SIGKILL);
        wait_exitfd(wk->exitfd, -1);
    }
    sv_worker_reap(s, wk, ex);
}

/* ---- spares ---- */

/* "spare_forked" or "spare_exited" (ex set), naming the group. */
static void spare_event(struct airsrt_supervisor *s, const char *event,
                        int group, const struct sv_exit *ex)
{
    struct airsrt_event ev;

    sv_event_fill(s, &ev, event, NULL, ex, NULL);
    ev.pid = s->spares[group].pid;
    ev.message = s->cfg->groups[group].name;
    airsrt_eventlog_write(&s->log, &ev);
}

static void spare_fork(struct airsrt_supervisor *s, int group)
{
    struct sv_spare *sp = &s->spares[group];
    int sv[2];

    if (sp->pid > 0 || s->is_stopping ||
        sp->failures >= SV_SPARE_FAILURES_MAX)
        return;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return;
    if (fork_child(s, group, NULL, sv[0], sv[1], "", &sp->pid,
                   &sp->exitfd) < 0) {
        close(sv[0]);
        close(sv[1]);
        sp->pid = 0;
        return;
    }
    close(sv[1]);
    sp->sock = sv[0];
    spare_event(s, "spare_forked", group, NULL);
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, sp->exitfd,
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
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, sp->exitfd, NULL);
    reap(sp->pid, sp->exitfd, &ex);
    spare_event(s, "spare_exited", group, &ex);
    close(sp->sock);
    sp->pid = 0;
    sp->exitfd = sp->sock = -1;
    sp->failures++;
    sv_spare_due(s, group);
}

void sv_spare_due(struct airsrt_supervisor *s, int group)
{
    struct sv_spare *sp = &s->spares[group];

    if (sp->pid <= 0 && sp->fork_at_ns == 0)
        sp->fork_at_ns = airsrt_now_ns() + SV_SPARE_DELAY_NS;
}

int sv_spares_run_due(struct airsrt_supervisor *s, uint64_t now)
{
    uint64_t next = 0;

    for (size_t g = 0; g < s->cfg->ngroups; g++) {
        struct sv_spare *sp = &s->spares[g];

        if (sp->fork_at_ns != 0 && sp->fork_at_ns <= now) {
            sp->fork_at_ns = 0;
            spare_fork(s, (int)g);
        } else if (sp->fork_at_ns != 0 &&
                   (next == 0 || sp->fork_at_ns < next)) {
            next = sp->fork_at_ns;
        }
    }
    return next == 0 ? -1 : (int)((next - now) / 1000000u) + 1;
}

/* Shutdown: a spare reads EOF on its socket and exits 0. */
void sv_spares_stop(struct airsrt_supervisor *s)
{
    for (size_t g = 0; g < s->cfg->ngroups; g++) {
        struct sv_spare *sp = &s->spares[g];
        struct sv_exit ex;

        if (sp->pid <= 0)
            continue;
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, sp->exitfd, NULL);
        close(sp->sock);
        if (!wait_exitfd(sp->exitfd, (int)s->cfg->groups[g].shutdown_ms)) {
            kill(sp->pid, SIGKILL);
            wait_exitfd(sp->exitfd, -1);
        }
        reap(sp->pid, sp->exitfd, &ex);
        sp->pid = 0;
        sp->exitfd = sp->sock = -1;
    }
}
