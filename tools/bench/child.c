/*
 * tools/bench/child.c - the processes the tool forks: each has a message
 * pipe to the tool (READY, FINISHED, DONE, FAIL, each one atomic write),
 * and, if asked, a go pipe from it, so that several children can be set
 * up first and started together.
 *
 * A child never outlives the tool (PR_SET_PDEATHSIG) and takes the
 * default action of SIGINT, SIGTERM and SIGHUP, so a Ctrl-C that reaches
 * the process group ends it at once while the tool cleans up. The tool
 * reaps every child it forked, killing it first when a run failed or was
 * interrupted: only a SIGKILL of the tool itself skips that.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/bench/bench.h"

volatile sig_atomic_t bench_stop_sig;

int bench_fail_errno(const char *what)
{
    int rc = -errno;

    fprintf(stderr, "airsrt-bench: %s: %s\n", what, strerror(errno));
    return rc;
}

int bench_child_send(int fd, uint32_t kind, uint64_t t_end_ns,
                     const uint64_t *values, const char *fmt, ...)
{
    struct bench_msg m = { .kind = kind, .t_end_ns = t_end_ns };
    va_list ap;

    if (values != NULL)
        memcpy(m.values, values, sizeof(m.values));
    va_start(ap, fmt);
    vsnprintf(m.text, sizeof(m.text), fmt, ap);
    va_end(ap);
    if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
        return EXIT_SYSTEM;
    return kind == BENCH_MSG_FAIL ? EXIT_SYSTEM : 0;
}

int bench_pin_self(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

static void stop_signals_default(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
}

/* In the child, right after fork(); never returns. */
static void __attribute__((noreturn))
child_enter(pid_t parent, int cpu, const sigset_t *mask, bench_child_fn fn,
            void *arg, int fd, int go_fd)
{
    int rc;

    /* Signals are blocked here: a Ctrl-C meant for the tool stays
     * pending until the default action can take it and kill us. */
    stop_signals_default();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(EXIT_SYSTEM);
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (cpu >= 0 && (rc = bench_pin_self(cpu)) < 0)
        _exit(bench_child_send(fd, BENCH_MSG_FAIL, 0, NULL,
                               "cannot pin to CPU %d: %s", cpu,
                               strerror(-rc)));
    _exit(fn(arg, fd, go_fd));
}

static void close_pair(int p[2])
{
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
}

/* The parent's ends: the message pipe's read end, the go pipe's write
 * end; the child's ends are closed here. */
static void keep_parent_ends(struct bench_child *c, int msg[2], int go[2])
{
    close(msg[1]);
    c->fd = msg[0];
    if (go[0] >= 0)
        close(go[0]);
    c->go_fd = go[1];
}

int bench_child_spawn(struct bench_child *c, int cpu, bool with_go,
                      bench_child_fn fn, void *arg)
{
    int msg[2] = { -1, -1 }, go[2] = { -1, -1 }, err;
    sigset_t stops, old;
    pid_t parent = getpid();

    if (pipe2(msg, O_CLOEXEC) < 0)
        return bench_fail_errno("pipe");
    if (with_go && pipe2(go, O_CLOEXEC) < 0) {
        err = bench_fail_errno("pipe");
        close_pair(msg);
        return err;
    }
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    /* A child must not inherit unwritten output that it could print a
     * second time. */
    fflush(NULL);
    sigprocmask(SIG_BLOCK, &stops, &old);
    c->pid = fork();
    if (c->pid == 0) {
        close(msg[0]);
        if (go[1] >= 0)
            close(go[1]);
        child_enter(parent, cpu, &old, fn, arg, msg[1], go[0]);
    }
    err = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (c->pid < 0) {
        close_pair(msg);
        close_pair(go);
        errno = err;
        return bench_fail_errno("fork");
    }
    keep_parent_ends(c, msg, go);
    c->is_reaped = false;
    return 0;
}

int bench_child_wait_go(int go_fd)
{
    char go;
    ssize_t n;

    while ((n = read(go_fd, &go, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 ? 0 : -1;
}

static void child_describe_status(const struct bench_child *c)
{
    if (WIFSIGNALED(c->status))
        fprintf(stderr, "airsrt-bench: %s (pid %d) was killed by signal %d\n",
                c->role, (int)c->pid, WTERMSIG(c->status));
    else
        fprintf(stderr, "airsrt-bench: %s (pid %d) exited with status %d\n",
                c->role, (int)c->pid, WEXITSTATUS(c->status));
}

/* Waits for the child, killing it first if asked or if we are stopping.
 * Safe to call twice. */
static void child_wait(struct bench_child *c, bool do_kill)
{
    if (c->pid <= 0 || c->is_reaped)
        return;
    if (do_kill || bench_stop_sig)
        kill(c->pid, SIGKILL);
    while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
        kill(c->pid, SIGKILL);
    c->is_reaped = true;
}

void bench_child_reap(struct bench_child *c, bool do_kill)
{
    child_wait(c, do_kill);
    if (c->fd >= 0)
        close(c->fd);
    if (c->go_fd >= 0)
        close(c->go_fd);
    c->fd = c->go_fd = -1;
}

int bench_child_read(struct bench_child *c, struct bench_msg *m)
{
    ssize_t n;

    for (;;) {
        n = read(c->fd, m, sizeof(*m));
        if (n == (ssize_t)sizeof(*m))
            return 1;
        if (n >= 0)
            return 0;
        if (errno != EINTR)
            return bench_fail_errno("read from child");
        if (bench_stop_sig)
            return -EINTR;
    }
}

int bench_child_failed(struct bench_child *c)
{
    struct bench_msg m;

    /* Dead now, so the read cannot block: the pipe holds at most a last
     * message, then end of file. */
    child_wait(c, true);
    if (bench_child_read(c, &m) == 1 && m.kind == BENCH_MSG_FAIL) {
        fprintf(stderr, "airsrt-bench: %s: %s\n", c->role, m.text);
        return -EIO;
    }
    child_describe_status(c);
    return -ECHILD;
}

int bench_child_expect(struct bench_child *c, uint32_t kind,
                       struct bench_msg *m)
{
    int rc = bench_child_read(c, m);

    if (rc < 0)
        return rc;
    if (rc == 1 && m->kind == kind)
        return 0;
    if (rc == 1 && m->kind == BENCH_MSG_FAIL) {
        fprintf(stderr, "airsrt-bench: %s: %s\n", c->role, m->text);
        child_wait(c, true);
        return -EIO;
    }
    return bench_child_failed(c);
}

int bench_child_check(struct bench_child *c)
{
    if (bench_stop_sig)
        return -EINTR;
    if (waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
        c->is_reaped = true;
        return bench_child_failed(c);
    }
    return 0;
}

int bench_allowed_cpus(const struct bench_opts *o, int *found, int max,
                       char *why, size_t len)
{
    cpu_set_t set;
    int n = 0;

    snprintf(why, len, "not pinned (--no-pin)");
    if (!o->do_pin)
        return 0;
    if (sched_getaffinity(0, sizeof(set), &set) < 0) {
        snprintf(why, len, "not pinned (sched_getaffinity: %s)",
                 strerror(errno));
        return 0;
    }
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set))
            found[n++] = c;
    return n;
}

void bench_pick_cpus(const struct bench_opts *o, int *cpu, uint32_t n,
                     char *why, size_t len)
{
    int found[CPU_SETSIZE];
    int nfound = bench_allowed_cpus(o, found, CPU_SETSIZE, why, len);
    size_t used;

    for (uint32_t i = 0; i < n; i++)
        cpu[i] = -1;
    if (nfound == 0)
        return;
    used = (size_t)snprintf(why, len, "worker");
    for (uint32_t i = 0; i < n; i++) {
        cpu[i] = found[i % (uint32_t)nfound];
        if (used < len)
            used += (size_t)snprintf(why + used, len - used, "%s %u on CPU %d",
                                     i ? "," : "", i, cpu[i]);
    }
    if (used < len)
        snprintf(why + used, len - used, "%s (sched_setaffinity)",
                 n > (uint32_t)nfound ? "; more workers than CPUs" : "");
}
