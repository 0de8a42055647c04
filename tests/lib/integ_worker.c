/*
 * tests/lib/integ_worker.c - driving real worker processes from a test
 * (see integ_worker.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/doorbell.h"
#include "tests/lib/integ_worker.h"

/* Largest payload integ_ctl_send() carries: the tests' commands. */
#define CTL_PAYLOAD_MAX 512u

uint64_t integ_deadline(uint32_t ms)
{
    return airsrt_now_ns() + (uint64_t)ms * 1000000u;
}

bool integ_is_before(uint64_t deadline)
{
    return airsrt_now_ns() < deadline;
}

void integ_nap(void)
{
    struct timespec ts = { 0, 1000000 };

    nanosleep(&ts, NULL);
}

void integ_sleep_ms(uint32_t ms)
{
    struct timespec ts = { ms / 1000u, (long)(ms % 1000u) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* True once pid has ended; it stays a zombie until reaped. */
static bool has_exited(pid_t pid)
{
    siginfo_t info = { .si_pid = 0 };

    cr_assert_eq(waitid(P_PID, (id_t)pid, &info,
                        WEXITED | WNOHANG | WNOWAIT), 0,
                 "waitid %d: %s", (int)pid, strerror(errno));
    return info.si_pid == pid;
}

int integ_exit_status(pid_t pid)
{
    uint64_t until = integ_deadline(INTEG_WAIT_MS);

    while (!has_exited(pid)) {
        cr_assert(integ_is_before(until), "child %d still runs after %u ms",
                  (int)pid, INTEG_WAIT_MS);
        integ_nap();
    }
    return wh_exit_status(pid);
}

/* Message ids the test issues, as the supervisor would: no supervisor
 * runs in these tests, so its origin is free. */
static uint64_t next_msgid(void)
{
    static struct airsrt_msgid_gen ids;
    static bool is_ready;

    if (!is_ready) {
        cr_assert_eq(airsrt_msgid_init(&ids, AIRSRT_MSGID_ORIGIN_SUPERVISOR,
                                       harness_shm.hdr->epoch_ns), 0);
        is_ready = true;
    }
    return airsrt_msgid_next(&ids);
}

void integ_ctl_send(uint32_t w, const struct airsrt_address *to,
                    uint32_t type, const void *payload, uint32_t len)
{
    union {
        struct airsrt_envelope env;
        uint8_t bytes[sizeof(struct airsrt_envelope) + CTL_PAYLOAD_MAX];
    } u;
    int rc;

    cr_assert_leq(len, CTL_PAYLOAD_MAX);
    airsrt_envelope_init(&u.env, type, len);
    if (to != NULL)
        u.env.recipient = *to;
    u.env.message_id = next_msgid();
    if (len != 0)
        memcpy(u.env.payload, payload, len);
    rc = airsrt_shm_ctl_send(&harness_shm, w, &u.env);
    cr_assert_eq(rc, 0, "control ring of worker %u: %s", w, strerror(-rc));
}

void integ_ctl_shutdown(uint32_t w)
{
    integ_ctl_send(w, NULL, AIRSRT_CTL_SHUTDOWN, NULL, 0);
}

static bool is_bound_to(const char *name, uint32_t w, uint32_t inc,
                        uint32_t *id, struct airsrt_address *holder)
{
    struct airsrt_registry reg;

    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
    return airsrt_registry_resolve(&reg, name, id, holder) == 0 &&
           !airsrt_address_is_null(holder) && holder->worker == w &&
           holder->incarnation == inc;
}

uint32_t integ_await_name(const char *name, uint32_t w, uint32_t inc,
                          struct airsrt_address *addr)
{
    struct airsrt_address holder;
    uint32_t id = 0;

    INTEG_AWAIT(is_bound_to(name, w, inc, &id, &holder));
    if (addr != NULL)
        *addr = holder;
    return id;
}

void integ_reap_incarnation(uint32_t w, uint32_t inc)
{
    struct airsrt_registry reg;

    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
    cr_assert_geq(airsrt_registry_unbind_incarnation(&reg, w, inc), 0);
    wh_incarnate(w, inc + 1);
}

struct airsrt_worker_self *integ_self(uint32_t w)
{
    struct airsrt_worker_self *s = airsrt_shm_worker_self(&harness_shm, w);

    cr_assert_not_null(s);
    return s;
}

struct airsrt_actor_stats *integ_actor(const struct airsrt_address *a)
{
    struct airsrt_actor_stats *st =
        airsrt_shm_actor_stats(&harness_shm, a->worker);

    cr_assert_not_null(st);
    cr_assert_leq(a->slot, harness_shm.params.actors_max);
    return &st[a->slot];
}

uint64_t integ_dead_letters(uint32_t w, unsigned reason)
{
    cr_assert_lt(reason, AIRSRT_DL_REASONS);
    return atomic_load(&integ_self(w)->dead_letters[reason]);
}

uint64_t integ_dead_letters_all(uint32_t w)
{
    uint64_t n = 0;

    for (unsigned r = 0; r < AIRSRT_DL_REASONS; r++)
        n += integ_dead_letters(w, r);
    return n;
}

/* The child of integ_fork_worker_opts(): as airsrt_worker_main runs a
 * worker, under the protection map, but with the test's options. */
static int run_with_opts(uint32_t index,
                         const struct airsrt_actor_type *const *types,
                         const char *start,
                         const struct airsrt_worker_opts *given)
{
    struct airsrt_worker_opts o = *given;
    struct airsrt_start *list;
    struct airsrt_worker *w;
    char err[512];
    size_t n;
    int status;

    o.stop_flag = NULL;
    if (airsrt__start_list_parse(start, &list, &n, err, sizeof(err)) < 0 ||
        airsrt_shm_protect_for_worker(&harness_shm, index) < 0 ||
        airsrt__worker_open(&w, &harness_shm, index, types, &o, err,
                            sizeof(err)) < 0) {
        fprintf(stderr, "worker %u: %s\n", index, err);
        return AIRSRT_EXIT_USAGE;
    }
    if (airsrt__worker_start(w, list, n, err, sizeof(err)) != 0)
        fprintf(stderr, "worker %u: %s\n", index, err);
    status = airsrt__worker_run(w);
    airsrt__worker_close(w);
    airsrt__start_list_free(list, n);
    return status;
}

pid_t integ_fork_worker_opts(uint32_t w,
                             const struct airsrt_actor_type *const *types,
                             const char *start,
                             const struct airsrt_worker_opts *o)
{
    pid_t pid = harness_fork();

    if (pid == 0)
        harness_exit(run_with_opts(w, types, start, o));
    return pid;
}

uint64_t integ_cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long utime, stime;
    const char *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces and parentheses: fields
     * are counted from the last ')'. utime and stime are fields 14, 15. */
    p = strrchr(buf, ')');
    cr_assert_not_null(p);
    cr_assert_eq(sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
                        "%*u %llu %llu", &utime, &stime), 2,
                 "cannot parse %s", path);
    return utime + stime;
}

const char *integ_env_fd(void)
{
    static char env[32];
    static int fd = -1;

    if (fd < 0) {
        /* The segment's own descriptor is close-on-exec. */
        fd = fcntl(harness_shm.fd, F_DUPFD, 3);
        cr_assert_geq(fd, 0, "dup: %s", strerror(errno));
        snprintf(env, sizeof(env), "%s=%d", AIRSRT_ENV_FD, fd);
    }
    return env;
}

/* In the child: the environment a worker binary is given, stderr to the
 * pipe. */
static void child_setup(const char *const *env, int err_w)
{
    static const char *const vars[] = {
        AIRSRT_ENV_FD, AIRSRT_ENV_WORKER, AIRSRT_ENV_ACTORS,
        AIRSRT_ENV_SPIN_US, AIRSRT_ENV_HEARTBEAT_MS };

    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        putenv((char *)env[i]);
    if (dup2(err_w, STDERR_FILENO) < 0)
        harness_exit(126);
}

static struct integ_proc start_child(int fds[2])
{
    struct integ_proc p;

    /* Close-on-exec: neither end leaks into a binary the child execs
     * (dup2 makes the child's stderr a plain copy). */
    cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
    p.pid = harness_fork();
    if (p.pid == 0) {
        close(fds[0]);
        return p;
    }
    close(fds[1]);
    p.err_fd = fds[0];
    return p;
}

struct integ_proc integ_run_main(const struct airsrt_actor_type *const *types,
                                 char *const argv[], const char *const *env)
{
    int fds[2], argc = 0;
    struct integ_proc p = start_child(fds);

    if (p.pid != 0)
        return p;
    child_setup(env, fds[1]);
    while (argv[argc] != NULL)
        argc++;
    harness_exit(airsrt_worker_main(argc, (char **)argv, types));
}

struct integ_proc integ_run_exec(const char *path, char *const argv[],
                                 const char *const *env)
{
    int fds[2];
    struct integ_proc p = start_child(fds);

    if (p.pid != 0)
        return p;
    child_setup(env, fds[1]);
    execv(path, argv);
    fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
    harness_exit(127);
}

int integ_finish(struct integ_proc *p, char *buf, size_t len)
{
    uint64_t until = integ_deadline(INTEG_WAIT_MS);
    size_t used = 0;
    char scratch[256];

    for (;;) {
        struct pollfd pfd = { .fd = p->err_fd, .events = POLLIN };
        ssize_t n;

        cr_assert(integ_is_before(until), "child %d kept stderr open",
                  (int)p->pid);
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        /* Whatever does not fit buf is read and dropped. */
        n = used + 1 < len ? read(p->err_fd, buf + used, len - used - 1)
                           : read(p->err_fd, scratch, sizeof(scratch));
        if (n == 0)
            break;
        if (n < 0) {
            cr_assert_eq(errno, EINTR, "read stderr: %s", strerror(errno));
            continue;
        }
        if (used + 1 < len)
            used += (size_t)n;
    }
    if (len != 0)
        buf[used] = '\0';
    close(p->err_fd);
    p->err_fd = -1;
    return integ_exit_status(p->pid);
}
