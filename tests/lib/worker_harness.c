/*
 * tests/lib/worker_harness.c - running workers in a test (see
 * worker_harness.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/string.h>

#include "tests/lib/worker_harness.h"

void wh_runtime(uint32_t nworkers, const struct airsrt_shm_params *p)
{
    struct airsrt_shm_params params = { 0 };
    int rc;

    if (p != NULL)
        params = *p;
    params.nworkers = nworkers;
    rc = airsrt_shm_create(&harness_shm, harness_name("wh"), &params);
    cr_assert_eq(rc, 0, "create: %s", harness_shm.err);
    shm_unlink(harness_shm.path);
    for (uint32_t w = 0; w < nworkers; w++)
        wh_incarnate(w, 1);
}

void wh_incarnate(uint32_t w, uint32_t incarnation)
{
    struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(&harness_shm, w);

    cr_assert_not_null(sup);
    atomic_store(&sup->incarnation, incarnation);
    atomic_store(&sup->state, AIRSRT_WORKER_STARTING);
}

struct airsrt_worker *wh_open(uint32_t w,
                              const struct airsrt_actor_type *const *types,
                              const struct airsrt_worker_opts *o)
{
    struct airsrt_worker_opts quiet = { .spin_ns = 0 };
    struct airsrt_worker *wk;
    char err[256];
    int rc = airsrt__worker_open(&wk, &harness_shm, w, types,
                                 o ? o : &quiet, err, sizeof(err));

    cr_assert_eq(rc, 0, "open worker %u: %s", w, err);
    return wk;
}

void wh_close(struct airsrt_worker *w)
{
    airsrt__worker_close(w);
}

int wh_poll_until(struct airsrt_worker *w, bool (*done)(void *), void *arg,
                  uint32_t timeout_ms)
{
    uint64_t deadline = airsrt_now_ns() + (uint64_t)timeout_ms * 1000000u;

    for (;;) {
        int status;

        if (done != NULL && done(arg))
            return -1;
        status = airsrt__worker_poll(w, 1000000);
        if (status >= 0)
            return status;
        cr_assert_lt(airsrt_now_ns(), deadline,
                     "worker %u: not done after %u ms", w->index, timeout_ms);
    }
}

static int child_run(uint32_t w, const struct airsrt_actor_type *const *types,
                     const char *start)
{
    struct airsrt_worker_opts o = { .spin_ns = AIRSRT_SPIN_NS_DEFAULT };
    struct airsrt_start *list;
    struct airsrt_worker *wk;
    size_t n;
    char err[512];
    int status;

    if (airsrt__start_list_parse(start, &list, &n, err, sizeof(err)) < 0 ||
        airsrt_shm_protect_for_worker(&harness_shm, w) < 0 ||
        airsrt__worker_open(&wk, &harness_shm, w, types, &o, err,
                            sizeof(err)) < 0) {
        fprintf(stderr, "worker %u: %s\n", w, err);
        return AIRSRT_EXIT_USAGE;
    }
    status = airsrt__worker_start(wk, list, n, err, sizeof(err));
    if (status != 0)
        fprintf(stderr, "worker %u: %s\n", w, err);
    status = airsrt__worker_run(wk);
    airsrt__worker_close(wk);
    airsrt__start_list_free(list, n);
    return status;
}

pid_t wh_fork_worker(uint32_t w, const struct airsrt_actor_type *const *types,
                     const char *start)
{
    pid_t pid = harness_fork();

    if (pid == 0)
        harness_exit(child_run(w, types, start));
    return pid;
}

pid_t wh_exec_worker(uint32_t w, const char *path, const char *start,
                     const char *const *extra_env)
{
    char index[32], actors[4096];
    const char *env[32] = { index, actors };
    size_t n = 2;

    snprintf(index, sizeof(index), "%s=%u", AIRSRT_ENV_WORKER, w);
    cr_assert_lt((size_t)snprintf(actors, sizeof(actors), "%s=%s",
                                  AIRSRT_ENV_ACTORS, start), sizeof(actors));
    for (size_t i = 0; extra_env != NULL && extra_env[i] != NULL; i++) {
        cr_assert_lt(n, sizeof(env) / sizeof(env[0]) - 1);
        env[n++] = extra_env[i];
    }
    return wh_exec_env(path, env);
}

int wh_exit_status(pid_t pid)
{
    int status = harness_wait(pid);

    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

const char *wh_build_path(const char *rel)
{
    static char path[PATH_MAX];
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    cr_assert_gt(n, 0);
    exe[n] = '\0';
    /* exe is <build>/tests/<layer>/test_x: drop three components. */
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(exe, '/');

        cr_assert_not_null(slash, "test binary %s not in a build tree", exe);
        *slash = '\0';
    }
    cr_assert_lt(strlen(exe) + strlen(rel) + 2, sizeof(path));
    strcpy(path, exe);
    strcat(path, "/");
    strcat(path, rel);
    return path;
}

void *wh_shared(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    cr_assert_neq(p, MAP_FAILED);
    return p;
}

pid_t wh_exec_env(const char *path, const char *const *env)
{
    pid_t pid = harness_fork();
    char fd[16];
    int dup_fd;

    if (pid != 0)
        return pid;
    /* The segment's own descriptor is close-on-exec: hand a copy over. */
    dup_fd = fcntl(harness_shm.fd, F_DUPFD, 3);
    if (dup_fd < 0)
        harness_exit(126);
    snprintf(fd, sizeof(fd), "%d", dup_fd);
    unsetenv(AIRSRT_ENV_WORKER);
    unsetenv(AIRSRT_ENV_ACTORS);
    unsetenv(AIRSRT_ENV_READY_FD);
    unsetenv(AIRSRT_ENV_SPARE_FD);
    setenv(AIRSRT_ENV_FD, fd, 1);
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        putenv((char *)env[i]);
    execl(path, path, (char *)NULL);
    fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
    harness_exit(127);
}

void wh_channel(int fds[2], bool is_socket)
{
    int rc = is_socket ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                                    fds)
                       : pipe2(fds, O_CLOEXEC);

    cr_assert_eq(rc, 0, "channel: %s", strerror(errno));
    /* A pipe's child end is its write end: fds[1] either way. */
    cr_assert_eq(fcntl(fds[1], F_SETFD, 0), 0);
}

int wh_read_byte(int fd, char *c, uint32_t timeout_ms)
{
    uint64_t deadline = airsrt_now_ns() + (uint64_t)timeout_ms * 1000000u;

    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        uint64_t now = airsrt_now_ns();
        ssize_t n;

        cr_assert_lt(now, deadline, "no byte on fd %d after %u ms", fd,
                     timeout_ms);
        if (poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
            continue;
        n = read(fd, c, 1);
        if (n >= 0)
            return (int)n;
        cr_assert(errno == EINTR || errno == EAGAIN, "read fd %d: %s", fd,
                  strerror(errno));
    }
}

void wh_name_slot(uint32_t w, const char *name)
{
    struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(&harness_shm, w);

    cr_assert_not_null(sup);
    cr_assert_lt(strlen(name), sizeof(sup->name));
    strlcpy(sup->name, name, sizeof(sup->name));
}

bool wh_cmdline(pid_t pid, char *buf, size_t len)
{
    char path[64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return false;
    buf[n] = '\0';    /* the first string: up to its NUL */
    return true;
}
